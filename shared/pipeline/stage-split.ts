import type { BuildRecord } from './build-state.js';
import { routeOf, stagesOf } from './stages.js';

/**
 * Where a build's wall time went, per stage: `queueMs` from the end of the stage before (for the first stage, the
 * build's creation by ingest) to the stage's first unit starting — Pub/Sub hand-off, delivery, function start-up —,
 * and `runMs` from then to its last unit finishing (reading the inputs, the core, writing the outputs, recording).
 */
export interface StageSplit {
  queueMs: number;
  runMs: number;
}

const ms = (from: string | undefined, to: string | undefined): number | null =>
  from && to ? Math.max(0, Date.parse(to) - Date.parse(from)) : null;

/** Queue wait and run time of every stage of the build's route that ran, in pipeline order. Pure. */
export function stageSplit(record: BuildRecord): Record<string, StageSplit> {
  const out: Record<string, StageSplit> = {};
  let previousEnd: string | undefined = record.createdAt;
  for (const { name } of stagesOf(routeOf(record))) {
    const s = record.stages[name];
    if (!s.startedAt) continue;
    out[name] = {
      queueMs: ms(previousEnd, s.startedAt) ?? 0,
      runMs: s.durationMs ?? ms(s.startedAt, s.finishedAt) ?? 0,
    };
    previousEnd = s.finishedAt;
  }
  return out;
}

/** `convert 0.2 + 1.3 s, quantize …`: queue + run per stage, for the CLI. */
export function formatStageSplit(split: Record<string, StageSplit>): string {
  return Object.entries(split)
    .map(([k, v]) => `${k} ${(v.queueMs / 1000).toFixed(1)} + ${(v.runMs / 1000).toFixed(1)} s`)
    .join(', ');
}
