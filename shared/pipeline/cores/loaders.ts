import { loadConfig } from '../config.js';
import type { StageCore, StageCores } from '../core.js';

/** Stage names that have a core (finish is pipeline bookkeeping only). */
export type CoreStage = keyof StageCores;

/**
 * How to load each stage's core, by stage: the in-process cores (cores/index.ts) and the unit worker
 * (core-worker.ts) both load them from this table. The KILN_* environment is read on every call: it may change
 * between builds in one process.
 */
export const CORE_LOADERS: Record<CoreStage, () => Promise<StageCore>> = {
  convert: async () => (await import('./convert.js')).convertCore,
  quantize: async () => (await import('./quantize.js')).quantizeCoreWith(() => loadConfig().calibrationThreads),
  compile: async () => (await import('./compile.js')).compileCore,
  verify: async () => (await import('./verify.js')).verifyCore,
};
