import type { BuildRecord } from '../pipeline/build-state.js';

/**
 * The model document `models/{modelId}`: its latest build (the most recently created one) with that build's status,
 * and its best result (the most recent succeeded build). It changes only when a build is created or changes status,
 * so the many transitions inside a running build write the build document alone and concurrent builds of one model
 * do not contend on this document.
 */
export interface ModelEntry {
  name: string;
  latestBuildId: string;
  latestStatus: string;
  /** When the latest build was created: orders builds, so a late update of an older build never becomes latest. */
  latestCreatedAt: string;
  /** When this document last changed (the time of the build transition that changed it). */
  updatedAt: string;
  best?: { buildId: string; finishedAt: string; summary: Record<string, unknown> };
}

/** Whether a transition of a build from `before` to `after` can change its model document. */
export function touchesModel(before: BuildRecord, after: BuildRecord): boolean {
  return before.status !== after.status;
}

const newer = (a: { createdAt: string; buildId: string }, b: { createdAt: string; buildId: string }) =>
  a.createdAt > b.createdAt || (a.createdAt === b.createdAt && a.buildId > b.buildId);

/** The model document after a build was created or changed status, given the document before (if any). */
export function modelEntry(record: BuildRecord, previous: ModelEntry | undefined): ModelEntry {
  // Documents written before `latestCreatedAt` existed are ordered by their update time.
  const latest = previous && {
    createdAt: previous.latestCreatedAt ?? previous.updatedAt,
    buildId: previous.latestBuildId,
  };
  const isLatest =
    !latest ||
    latest.buildId === record.buildId ||
    newer({ createdAt: record.createdAt, buildId: record.buildId }, latest);
  const succeeded = record.status === 'succeeded';
  const best = succeeded
    ? { buildId: record.buildId, finishedAt: record.finishedAt ?? record.updatedAt, summary: record.summary }
    : previous?.best;
  // A success of an older build than the best one does not replace it.
  const keepBest = succeeded && previous?.best && previous.best.finishedAt > best!.finishedAt;
  const entry: ModelEntry = isLatest
    ? {
        name: record.modelId,
        latestBuildId: record.buildId,
        latestStatus: record.status,
        latestCreatedAt: record.createdAt,
        updatedAt: record.updatedAt,
      }
    : { ...previous!, updatedAt: record.updatedAt > previous!.updatedAt ? record.updatedAt : previous!.updatedAt };
  const chosen = keepBest ? previous!.best : best;
  if (chosen) entry.best = chosen;
  else delete entry.best;
  return entry;
}
