import type { StageCore } from '../core.js';
import { STAGES, type StageName } from '../stages.js';

/** Stage names that have a core (bookkeeping stages have none). */
export type CoreStage = StageName;

/**
 * How to load each stage's core, by stage, from the stage table (stages.ts): the in-process cores (cores/index.ts)
 * and the unit worker (core-worker.ts) both load them from here.
 */
export const CORE_LOADERS: Partial<Record<CoreStage, () => Promise<StageCore>>> = Object.fromEntries(
  STAGES.flatMap((s) => (s.core ? [[s.name, s.core]] : [])),
);
