import { STAGES, type StageName } from './stages.js';

/**
 * Where each Cloud Function runs and how long it may take, as one table (the stages' rows are in the stage table,
 * stages.ts). Everything time-related is derived from it:
 * Kiln's own in-process deadline per unit (always below the platform's request timeout, so Kiln fails the build
 * itself, with a reason, before the platform kills the request), the unit lease (a unit younger than its lease is alive
 * somewhere), the push subscriptions' acknowledgement deadline, retry back-off and dead-letter attempts, and the
 * sweeper's period. terraform reads the same values (terraform/stage-settings.json, generated from this file by
 * `npm run gen:stage-settings` and checked by a test).
 *
 * Platform facts (Google Cloud documentation): an event-triggered function (Eventarc) runs at most 540 s; an HTTP
 * function (Cloud Functions gen2 = a Cloud Run service) or a Cloud Run service answers a request for at most 3600 s;
 * a Pub/Sub push subscription's acknowledgement deadline is at most 600 s, its retry back-off at most 600 s, and its
 * dead-letter policy allows 5–100 delivery attempts; Cloud Scheduler's finest period is one minute.
 */
export type FunctionName = 'ingest' | StageName | 'deadletter' | 'sweeper';

export type ComputeHome =
  /** Cloud Functions gen2 with an Eventarc trigger (ingest: Storage finalize). */
  | 'event-function'
  /** Cloud Functions gen2 / Cloud Run service answering Pub/Sub pushes or Cloud Scheduler over HTTP. */
  | 'http-service';

export interface FunctionSetting {
  home: ComputeHome;
  /** Memory and CPU of one instance (one request at a time). */
  memory: string;
  cpu: number;
  maxInstances: number;
  /** The platform's request timeout. */
  timeoutS: number;
  /** Kiln's in-process deadline for one unit: the build fails with a reason when a unit runs longer. */
  deadlineS: number;
  /** What to change when a unit runs past its deadline (the failure's hint). */
  remedy: string;
}

export const PLATFORM_LIMITS = {
  eventFunctionTimeoutMaxS: 540,
  httpTimeoutMaxS: 3600,
  ackDeadlineMaxS: 600,
  retryBackoffMaxS: 600,
  deadLetterAttemptsMin: 5,
  deadLetterAttemptsMax: 100,
  schedulerPeriodMinS: 60,
} as const;

/** Time Kiln keeps between its deadline and the platform's timeout to record the failure and publish its event. */
export const DEADLINE_MARGIN_S = 120;
/** A lease outlives the platform timeout, so no second run starts while the first can still be alive. */
export const LEASE_MARGIN_S = 60;
/** How often the sweeper looks for stalled builds (Cloud Scheduler; the local stack runs it on a timer). */
export const SWEEP_PERIOD_S = 300;

/** The functions that are not stages: ingest (the entry), the dead-letter consumer and the sweeper. */
const OTHER_FUNCTIONS = {
  ingest: {
    home: 'event-function',
    memory: '512Mi',
    cpu: 1,
    maxInstances: 10,
    timeoutS: 540,
    deadlineS: 300,
    remedy: 'upload fewer files in one folder',
  },
  deadletter: {
    home: 'http-service',
    memory: '512Mi',
    cpu: 1,
    maxInstances: 2,
    timeoutS: 300,
    deadlineS: 120,
    remedy: 'retry the build',
  },
  sweeper: {
    home: 'http-service',
    memory: '512Mi',
    cpu: 1,
    maxInstances: 1,
    timeoutS: 300,
    deadlineS: 120,
    remedy: 'retry the build',
  },
} satisfies Record<Exclude<FunctionName, StageName>, FunctionSetting>;

/** Every function's settings: ingest, each stage's from its row of the stage table (stages.ts), then the others. */
export const FUNCTION_SETTINGS: Record<FunctionName, FunctionSetting> = {
  ingest: OTHER_FUNCTIONS.ingest,
  ...(Object.fromEntries(STAGES.map((s) => [s.name, s.settings])) as Record<StageName, FunctionSetting>),
  deadletter: OTHER_FUNCTIONS.deadletter,
  sweeper: OTHER_FUNCTIONS.sweeper,
};

export interface DerivedSetting extends FunctionSetting {
  /** A unit running for less than this is taken to be alive elsewhere. */
  leaseS: number;
  /** Pub/Sub push acknowledgement deadline of the function's subscription. */
  ackDeadlineS: number;
  minBackoffS: number;
  maxBackoffS: number;
  /** The most deliveries Pub/Sub can make while one unit holds its lease (turned back as "running elsewhere"). */
  deliveriesPerLease: number;
  /** Deliveries before Pub/Sub gives a message to the dead-letter topic. */
  maxDeliveryAttempts: number;
}

export const MIN_BACKOFF_S = 10;

/**
 * Deliveries of one message within `leaseS`: a delivery turned back (redelivery asked) comes again after the retry
 * back-off, which doubles from `minS` up to `maxS`; a delivery that hangs comes again after the ack deadline, which is
 * longer than the first back-offs, so the back-off sequence is the worst case.
 */
export function deliveriesWithin(leaseS: number, minS: number, maxS: number): number {
  let n = 1;
  let t = 0;
  for (let backoff = minS; ; backoff = Math.min(maxS, backoff * 2)) {
    t += backoff;
    if (t > leaseS) return n;
    n += 1;
  }
}

/**
 * The settings of one function with everything derived. `maxAttempts` is KILN_MAX_ATTEMPTS (runs of a unit before its
 * build fails). A duplicate delivery while a unit runs is turned back for redelivery (so a dead worker is replaced once
 * its lease ends), and each turned-back delivery counts toward the dead-letter limit: the limit allows every delivery
 * of `maxAttempts` full leases, so a long unit is never dead-lettered while it runs; only a message nobody can handle
 * reaches the dead-letter topic, whose consumer fails the build.
 */
export function settingsOf(name: FunctionName, maxAttempts: number): DerivedSetting {
  const s = FUNCTION_SETTINGS[name];
  const leaseS = s.timeoutS + LEASE_MARGIN_S;
  const maxBackoffS = PLATFORM_LIMITS.retryBackoffMaxS;
  const deliveriesPerLease = deliveriesWithin(leaseS, MIN_BACKOFF_S, maxBackoffS);
  return {
    ...s,
    leaseS,
    ackDeadlineS: Math.min(PLATFORM_LIMITS.ackDeadlineMaxS, s.timeoutS),
    minBackoffS: MIN_BACKOFF_S,
    maxBackoffS,
    deliveriesPerLease,
    maxDeliveryAttempts: Math.min(
      PLATFORM_LIMITS.deadLetterAttemptsMax,
      Math.max(PLATFORM_LIMITS.deadLetterAttemptsMin, deliveriesPerLease * maxAttempts + 2),
    ),
  };
}

/** Every function's derived settings, as terraform reads them (terraform/stage-settings.json). */
export function settingsTable(maxAttempts: number): Record<FunctionName, DerivedSetting> {
  const names = Object.keys(FUNCTION_SETTINGS) as FunctionName[];
  return Object.fromEntries(names.map((n) => [n, settingsOf(n, maxAttempts)])) as Record<FunctionName, DerivedSetting>;
}

/** Kiln's deadline for one unit of `name` in ms: its own, shortened (never lengthened) by `capMs` (KILN_STAGE_TIMEOUT_MS). */
export function deadlineMs(name: FunctionName, capMs: number | undefined): number {
  const own = FUNCTION_SETTINGS[name].deadlineS * 1000;
  return Math.min(own, capMs ?? own);
}

/** A duration for messages: "25 min", "90 s", "250 ms". */
export function formatDuration(ms: number): string {
  if (ms >= 120_000 && ms % 60_000 === 0) return `${ms / 60_000} min`;
  if (ms >= 1000 && ms % 1000 === 0) return `${ms / 1000} s`;
  return `${ms} ms`;
}

/**
 * What terraform reads (terraform/stage-settings.json): each function's size, home and times, with the per-lease
 * delivery count from which terraform derives the dead-letter limit for its own `max_attempts`
 * (min(100, max(5, deliveriesPerLease × max_attempts + 2)), as settingsOf does).
 */
export function terraformSettings(): Record<string, unknown> {
  const functions: Record<string, unknown> = {};
  for (const name of Object.keys(FUNCTION_SETTINGS) as FunctionName[]) {
    const { remedy: _remedy, maxDeliveryAttempts: _attempts, ...s } = settingsOf(name, 1);
    functions[name] = s;
  }
  return { sweepPeriodS: SWEEP_PERIOD_S, functions };
}
