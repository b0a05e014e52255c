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
export function touchesModel(before: Pick<BuildRecord, 'status'>, after: Pick<BuildRecord, 'status'>): boolean {
  return before.status !== after.status;
}

type Best = NonNullable<ModelEntry['best']>;

/** Whether `record` is its model's latest build: the most recently created one (ties: the larger build id). */
function isLatest(record: BuildRecord, previous: ModelEntry | undefined): boolean {
  if (!previous || previous.latestBuildId === record.buildId) return true;
  // Documents written before `latestCreatedAt` existed are ordered by their update time.
  const latestCreatedAt = previous.latestCreatedAt ?? previous.updatedAt;
  return (
    record.createdAt > latestCreatedAt ||
    (record.createdAt === latestCreatedAt && record.buildId > previous.latestBuildId)
  );
}

/** The most recent success: a newer failure keeps the best result, an older success finishing earlier does not win. */
function bestOf(record: BuildRecord, previous: Best | undefined): Best | undefined {
  if (record.status !== 'succeeded') return previous;
  const mine = { buildId: record.buildId, finishedAt: record.finishedAt ?? record.updatedAt, summary: record.summary };
  return previous && previous.finishedAt > mine.finishedAt ? previous : mine;
}

/** The model document after a build was created or changed status, given the document before (if any). */
export function modelEntry(record: BuildRecord, previous: ModelEntry | undefined): ModelEntry {
  const { best: _best, ...rest }: ModelEntry =
    isLatest(record, previous) || !previous
      ? {
          name: record.modelId,
          latestBuildId: record.buildId,
          latestStatus: record.status,
          latestCreatedAt: record.createdAt,
          updatedAt: record.updatedAt,
        }
      : { ...previous, updatedAt: record.updatedAt > previous.updatedAt ? record.updatedAt : previous.updatedAt };
  const best = bestOf(record, previous?.best);
  return best ? { ...rest, best } : rest;
}
