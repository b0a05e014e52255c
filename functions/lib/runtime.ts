import { cloudDeps } from '../../shared/cloud/deps.js';
import { STAGE_CORES } from '../../shared/pipeline/cores/index.js';
import { loadConfig, type PipelineConfig } from '../../shared/pipeline/config.js';
import type { StageCores } from '../../shared/pipeline/core.js';
import type { PipelineDeps } from '../../shared/pipeline/ports.js';

/** Per-process state of a function instance: config validated once, cloud clients, stage cores. */
export interface Runtime {
  config: PipelineConfig;
  deps: PipelineDeps;
  cores: StageCores;
  /** Cloud Functions' longest run (540 s): a unit running for less is assumed alive elsewhere. */
  leaseMs: number;
}

let cached: { key: string; runtime: Runtime } | undefined;

export function runtime(): Runtime {
  const key = JSON.stringify(
    Object.entries(process.env).filter(([k]) => k.startsWith('KILN_') || k.endsWith('_EMULATOR_HOST')),
  );
  if (cached?.key !== key) {
    const config = loadConfig();
    cached = { key, runtime: { config, deps: cloudDeps(config), cores: STAGE_CORES, leaseMs: config.limits.leaseMs } };
  }
  return cached.runtime;
}
