import { cloudDeps } from '../../shared/cloud/deps.js';
import { STAGE_CORES } from '../../shared/pipeline/cores/index.js';
import { leaseMsFor, loadConfig, type PipelineConfig } from '../../shared/pipeline/config.js';
import type { FunctionName } from '../../shared/pipeline/stage-settings.js';
import type { StageCores } from '../../shared/pipeline/core.js';
import type { PipelineDeps } from '../../shared/pipeline/ports.js';

/** Per-process state of a function instance: config validated once, cloud clients, stage cores. */
export interface Runtime {
  config: PipelineConfig;
  deps: PipelineDeps;
  cores: StageCores;
  /** A unit of this function running for less is assumed alive elsewhere (stage-settings.ts, or KILN_LEASE_MS). */
  leaseMs: (fn: FunctionName) => number;
}

let cached: { key: string; runtime: Runtime } | undefined;

export function runtime(): Runtime {
  const key = JSON.stringify(
    Object.entries(process.env).filter(([k]) => k.startsWith('KILN_') || k.endsWith('_EMULATOR_HOST')),
  );
  if (cached?.key !== key) {
    const config = loadConfig();
    cached = {
      key,
      runtime: { config, deps: cloudDeps(config), cores: STAGE_CORES, leaseMs: (fn) => leaseMsFor(config, fn) },
    };
  }
  return cached.runtime;
}
