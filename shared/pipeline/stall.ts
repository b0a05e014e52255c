import type { BuildRecord } from './build-state.js';
import type { ErrorInfo } from './events.js';
import { routeOf, stagesOf, type StageName } from './stages.js';

/**
 * What to do about a build that stopped making progress, as pure functions over the build record. Two sources call
 * them: the sweeper (a scheduled function that looks at every running build) and the dead-letter consumer (a stage
 * message Pub/Sub gave up on). Neither runs stage work itself: a stalled unit is re-driven by publishing its message
 * again (runUnit then runs it, or finishes a hand-off a crashed caller left undone), or the build fails with a reason.
 */
export type StallAction =
  /** Publish this unit's stage message again (its unit has been put back to pending, or a hand-off is stale). */
  | { kind: 'redrive'; stage: StageName; unit: string; why: string }
  /** Fail the build with this error. */
  | { kind: 'fail'; stage: StageName; unit: string; error: ErrorInfo };

const age = (from: string | undefined, now: string): number =>
  from ? Math.max(0, Date.parse(now) - Date.parse(from)) : Number.POSITIVE_INFINITY;

/** The first stage of a running build that is not both succeeded and handed off. */
export function activeStage(record: BuildRecord): StageName | undefined {
  return stagesOf(routeOf(record))
    .map((s) => s.name)
    .find((s) => record.stages[s].status !== 'succeeded' || !record.stages[s].handedOff);
}

export function stalledError(stage: StageName, unit: string, attempts: number, leaseMs: number): ErrorInfo {
  const minutes = Math.round(leaseMs / 60_000);
  const lease = minutes >= 2 ? `${minutes} min` : `${Math.round(leaseMs / 1000)} s`;
  return {
    code: 'E_STALLED',
    message:
      `${stage}/${unit} did not finish within its ${lease} lease, ${attempts} time${attempts === 1 ? '' : 's'} ` +
      '(the process was killed, ran out of memory or passed the platform timeout). ' +
      'Use a smaller model or fewer samples, or give the stage more memory (terraform/stage-settings.json)',
    retryable: false,
  };
}

/**
 * The sweeper's decision for one running build at `now`. A unit running past its lease is re-driven until it has had
 * `maxAttempts` runs, then fails the build; pending units of the active stage whose build has not been written for a
 * lease are re-driven (their message was lost or dead-lettered), at most `maxAttempts` times each; a completed stage
 * whose hand-off is older than a lease is re-driven through one of its units (runUnit then redoes the hand-off).
 */
export function sweepDecision(
  record: BuildRecord,
  now: string,
  leaseMs: (stage: StageName) => number,
  maxAttempts: number,
): StallAction[] {
  if (record.status !== 'running') return [];
  const stage = activeStage(record);
  if (!stage) return [];
  const s = record.stages[stage];
  const lease = leaseMs(stage);
  if (s.status === 'succeeded') {
    const key = Object.keys(s.units)[0]!;
    return age(s.finishedAt, now) >= lease ? [{ kind: 'redrive', stage, unit: key, why: 'stale hand-off' }] : [];
  }
  const quiet = age(record.updatedAt, now) >= lease;
  const out: StallAction[] = [];
  for (const [key, u] of Object.entries(s.units)) {
    if (u.status === 'running' && age(u.startedAt, now) >= lease) {
      if (u.attempts >= maxAttempts)
        out.push({ kind: 'fail', stage, unit: key, error: stalledError(stage, key, u.attempts, lease) });
      else out.push({ kind: 'redrive', stage, unit: key, why: `lease expired on attempt ${u.attempts}` });
    } else if (u.status === 'pending' && quiet) {
      if ((u.redrives ?? 0) >= maxAttempts)
        out.push({ kind: 'fail', stage, unit: key, error: stalledError(stage, key, u.redrives ?? 0, lease) });
      else out.push({ kind: 'redrive', stage, unit: key, why: 'no progress (message lost or dead-lettered)' });
    }
  }
  return out;
}

/**
 * Applies a re-drive to the record (in the store's transaction): a running unit whose lease expired goes back to
 * pending and every re-drive is counted. Returns false when the record moved on meanwhile (nothing to publish).
 */
export function markRedriven(
  record: BuildRecord,
  action: Extract<StallAction, { kind: 'redrive' }>,
  now: string,
  leaseMs: number,
): boolean {
  if (record.status !== 'running') return false;
  const s = record.stages[action.stage];
  const u = s.units[action.unit];
  if (!u) return false;
  if (s.status === 'succeeded') return !s.handedOff && age(s.finishedAt, now) >= leaseMs;
  if (u.status === 'running' && age(u.startedAt, now) < leaseMs) return false;
  if (u.status !== 'running' && u.status !== 'pending') return false;
  u.status = 'pending';
  u.redrives = (u.redrives ?? 0) + 1;
  record.updatedAt = now;
  return true;
}

/**
 * Fails a running build on behalf of the sweeper or the dead-letter consumer. `claim` identifies the caller: true is
 * returned only to the call that made the transition (and again to it when its transaction is replayed), so exactly one
 * caller publishes the failure events.
 */
export function failStalled(
  record: BuildRecord,
  stage: StageName,
  unit: string,
  error: ErrorInfo,
  now: string,
  claim: string,
): boolean {
  if (record.status === 'failed') return record.failedBy === claim;
  if (record.status !== 'running') return false;
  const s = record.stages[stage];
  const u = s.units[unit];
  if (u) {
    u.status = 'failed';
    u.error = error;
    u.finishedAt = now;
  }
  s.status = 'failed';
  s.finishedAt = now;
  record.status = 'failed';
  record.error = { ...error, stage };
  record.failedBy = claim;
  record.finishedAt = now;
  record.updatedAt = now;
  return true;
}

/** The error recorded when Pub/Sub dead-letters a stage message: the stage, the deliveries and the last error seen. */
export function deadLetterError(record: BuildRecord, stage: StageName, unit: string, deliveries: number): ErrorInfo {
  const last = record.stages[stage].units[unit]?.error?.message;
  const tail = last
    ? `; last error: ${last}`
    : '; no error was recorded (the function never answered: killed, out of memory, or past the platform timeout)';
  return {
    code: 'E_STALLED',
    message: `${stage}/${unit}: Pub/Sub gave up on the stage message after ${deliveries} deliveries${tail}`,
    retryable: false,
  };
}
