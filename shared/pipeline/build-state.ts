import type { BuildConfig } from './build-config.js';
import type { ErrorInfo } from './events.js';
import type { UploadRef } from './messages.js';
import { firstStage, previousStage, routeOf, stagesOf, type StageName, type UnitSpec } from './stages.js';

/**
 * The build record (Firestore `models/{modelId}/builds/{buildId}`) and its transitions, as pure functions. The cloud
 * adapter runs each transition inside a Firestore transaction, so "this call completed the stage" / "this call
 * finished the build" is true for exactly one caller.
 */
export type Status = 'pending' | 'running' | 'succeeded' | 'failed';

export interface UnitState {
  status: Status;
  index: number;
  attempts: number;
  params: Record<string, unknown>;
  startedAt?: string;
  finishedAt?: string;
  durationMs?: number;
  error?: ErrorInfo;
  summary?: Record<string, unknown>;
  /** Names of the artifacts this unit wrote. */
  artifacts?: string[];
  /**
   * The claim of the delivery that ran (or runs) this unit: lets that delivery recognise its own earlier write when a
   * transaction that committed is reported failed and retried, and release its lease when it must give up.
   */
  runId?: string;
  /** Times the sweeper or the dead-letter consumer published this unit's message again (stall.ts). */
  redrives?: number;
}

export interface StageState {
  status: Status;
  units: Record<string, UnitState>;
  unitCount: number;
  startedAt?: string;
  finishedAt?: string;
  durationMs?: number;
  /** Set once the messages of the next stage (or the terminal event) have been published. */
  handedOff: boolean;
  /** The claim (UnitState.runId) of the delivery whose unit completed the stage: it owns the hand-off. */
  completedBy?: string;
}

export interface BuildRecord {
  schemaVersion: 1;
  buildId: string;
  modelId: string;
  status: Status;
  input: UploadRef;
  config: BuildConfig;
  /** The stages of the build's route (stages.ts `stagesOf(routeOf(input))`), by name. */
  stages: Record<StageName, StageState>;
  /** Artifact name → gs:// URI. */
  artifacts: Record<string, string>;
  summary: Record<string, unknown>;
  error?: ErrorInfo & { stage: StageName };
  /** The claim (UnitState.runId) of the delivery whose failed unit failed the build: it publishes the failure events. */
  failedBy?: string;
  createdAt: string;
  updatedAt: string;
  finishedAt?: string;
  /** The started event and the first stage's messages have been published. */
  ingestHandedOff: boolean;
  /** Terminal event published (completed or failed). */
  terminalEventPublished: boolean;
}

/** The units of a stage in their fan-out order. */
export function unitsOf(record: BuildRecord, stage: StageName): UnitSpec[] {
  const entries = Object.entries(record.stages[stage].units).sort((a, b) => a[1].index - b[1].index);
  return entries.map(([key, u]) => ({ key, index: u.index, count: entries.length, params: u.params }));
}

/** A new build: every stage of its route (from the upload) pending, with its units laid out from the build config. */
export function newBuild(
  buildId: string,
  modelId: string,
  input: UploadRef,
  config: BuildConfig,
  now: string,
): BuildRecord {
  const stages = {} as Record<StageName, StageState>;
  for (const spec of stagesOf(routeOf({ input, config }))) {
    const units: Record<string, UnitState> = {};
    for (const u of spec.units(config))
      units[u.key] = { status: 'pending', index: u.index, attempts: 0, params: u.params };
    stages[spec.name] = { status: 'pending', units, unitCount: Object.keys(units).length, handedOff: false };
  }
  return {
    schemaVersion: 1,
    buildId,
    modelId,
    status: 'running',
    input,
    config,
    stages,
    artifacts: {},
    summary: {},
    createdAt: now,
    updatedAt: now,
    ingestHandedOff: false,
    terminalEventPublished: false,
  };
}

/** A build that failed before any stage ran (bad kiln.json, oversized upload): recorded so users see why. */
export function rejectedBuild(
  buildId: string,
  modelId: string,
  input: UploadRef,
  error: ErrorInfo,
  now: string,
): BuildRecord {
  const record = newBuild(
    buildId,
    modelId,
    input,
    { compile: { targets: [{}] }, verify: { shards: 1 }, quantize: {} },
    now,
  );
  record.status = 'failed';
  const first = firstStage(routeOf({ input }));
  record.error = { ...error, stage: first };
  record.stages[first].status = 'failed';
  record.finishedAt = now;
  return record;
}

/**
 * `redeliver`: the message is early (the previous stage has not completed) or its unit is leased by another delivery;
 * it must be redelivered rather than acknowledged, so a worker that died mid-unit is replaced once its lease runs out.
 */
export type BeginDecision =
  { action: 'run'; attempt: number } | { action: 'skip'; reason: string; redeliver?: boolean };

/** A message for a stage whose previous stage has not completed yet (out-of-order delivery), or undefined. */
export function earlyDelivery(record: BuildRecord, stage: StageName): BeginDecision | undefined {
  if (record.status !== 'running') return undefined;
  const previous = previousStage(stage, routeOf(record));
  if (previous && record.stages[previous].status !== 'succeeded')
    return { action: 'skip', reason: `stage ${previous} has not completed (early delivery)`, redeliver: true };
  return undefined;
}

/**
 * Starts (or restarts) one unit under the claim `runId`. Skips units already done and every unit of a finished build.
 * A unit already running under the same claim is this delivery's own earlier write (a retried transaction): it runs.
 */
export function beginUnit(
  record: BuildRecord,
  stage: StageName,
  key: string,
  now: string,
  leaseMs: number,
  runId: string,
): BeginDecision {
  if (record.status === 'succeeded' || record.status === 'failed')
    return { action: 'skip', reason: `build ${record.status}` };
  const s = record.stages[stage];
  const unit = s.units[key];
  if (!unit) return { action: 'skip', reason: `no unit ${key} in stage ${stage}` };
  if (unit.status === 'succeeded') return { action: 'skip', reason: 'unit already succeeded' };
  if (unit.status === 'failed') return { action: 'skip', reason: 'unit already failed' };
  if (unit.status === 'running' && unit.runId === runId) return { action: 'run', attempt: unit.attempts };
  if (unit.status === 'running' && ms(unit.startedAt, now) < leaseMs) {
    return { action: 'skip', reason: 'unit is running elsewhere (duplicate delivery)', redeliver: true };
  }
  unit.status = 'running';
  unit.attempts += 1;
  unit.startedAt = now;
  unit.runId = runId;
  delete unit.error;
  if (s.status === 'pending') {
    s.status = 'running';
    s.startedAt = now;
  }
  record.updatedAt = now;
  return { action: 'run', attempt: unit.attempts };
}

const ms = (from: string | undefined, to: string): number =>
  from ? Math.max(0, Date.parse(to) - Date.parse(from)) : 0;

export interface UnitResult {
  artifacts: Record<string, string>;
  summary: Record<string, unknown>;
}

/**
 * Records a unit's success by the delivery holding claim `runId`. `stageCompleted` is true only for the claim that
 * completed the stage's last unit, and stays true for that claim (not yet handed off) when its transaction is retried.
 */
export function succeedUnit(
  record: BuildRecord,
  stage: StageName,
  key: string,
  result: UnitResult,
  now: string,
  runId: string,
): { stageCompleted: boolean } {
  const s = record.stages[stage];
  const unit = s.units[key];
  if (unit?.status === 'succeeded' && unit.runId === runId)
    return { stageCompleted: s.status === 'succeeded' && s.completedBy === runId && !s.handedOff };
  if (!unit || unit.status === 'succeeded' || record.status !== 'running') return { stageCompleted: false };
  unit.status = 'succeeded';
  unit.runId = runId;
  unit.finishedAt = now;
  unit.durationMs = ms(unit.startedAt, now);
  unit.summary = result.summary;
  unit.artifacts = Object.keys(result.artifacts);
  Object.assign(record.artifacts, result.artifacts);
  record.updatedAt = now;
  const done = Object.values(s.units).every((u) => u.status === 'succeeded');
  if (!done || s.status === 'succeeded') return { stageCompleted: false };
  s.status = 'succeeded';
  s.finishedAt = now;
  s.durationMs = ms(s.startedAt, now);
  s.completedBy = runId;
  record.summary[stage] = stageSummary(s);
  return { stageCompleted: true };
}

/**
 * Gives a unit's lease back (the delivery holding claim `runId` could not record its result): the unit is pending
 * again, so the redelivered message runs it at once instead of waiting for the lease to run out.
 */
export function releaseUnit(record: BuildRecord, stage: StageName, key: string, runId: string): boolean {
  const unit = record.stages[stage].units[key];
  if (unit?.status !== 'running' || unit.runId !== runId) return false;
  unit.status = 'pending';
  return true;
}

/** One unit's summary for single-unit stages; `{unit key: summary}` for fanned-out ones. */
export function stageSummary(s: StageState): Record<string, unknown> {
  const entries = Object.entries(s.units);
  if (entries.length === 1) return entries[0]![1].summary ?? {};
  return Object.fromEntries(entries.map(([k, u]) => [k, u.summary ?? {}]));
}

/**
 * Records a unit's failed attempt by the delivery holding claim `runId`. Retryable errors under the attempt limit leave
 * the unit to be retried. `build-failed` is returned only to the claim that failed the build (also when its
 * transaction is replayed): that delivery publishes the failure events, no other.
 */
export function failUnit(
  record: BuildRecord,
  stage: StageName,
  key: string,
  error: ErrorInfo,
  maxAttempts: number,
  now: string,
  runId: string,
): { outcome: 'retry' | 'build-failed' | 'ignored' } {
  if (record.status === 'failed' && record.failedBy === runId) return { outcome: 'build-failed' };
  const s = record.stages[stage];
  const unit = s.units[key];
  if (!unit || record.status !== 'running' || unit.status === 'succeeded') return { outcome: 'ignored' };
  unit.error = error;
  unit.finishedAt = now;
  unit.durationMs = ms(unit.startedAt, now);
  record.updatedAt = now;
  if (error.retryable && unit.attempts < maxAttempts) {
    unit.status = 'pending';
    return { outcome: 'retry' };
  }
  unit.status = 'failed';
  s.status = 'failed';
  s.finishedAt = now;
  record.status = 'failed';
  record.error = { ...error, stage };
  record.failedBy = runId;
  record.finishedAt = now;
  return { outcome: 'build-failed' };
}

/** Marks the build succeeded (by the route's last stage). True only for the call that made the transition. */
export function completeBuild(record: BuildRecord, summary: Record<string, unknown>, now: string): boolean {
  if (record.status !== 'running') return false;
  record.status = 'succeeded';
  record.summary = { ...record.summary, ...summary };
  record.finishedAt = now;
  record.updatedAt = now;
  return true;
}

/**
 * Whether a hand-off (publishing the next messages) that some other caller claimed may be redone: only once that
 * caller had `leaseMs` to finish it, so concurrent duplicates do not publish twice.
 */
export function handoffStale(since: string | undefined, now: string, leaseMs: number): boolean {
  return ms(since, now) >= leaseMs;
}

/** Wall time per stage in ms (stages that ran). */
export function stageTimings(record: BuildRecord): Record<string, number> {
  const out: Record<string, number> = {};
  for (const { name } of stagesOf(routeOf(record))) {
    const d = record.stages[name]?.durationMs;
    if (d !== undefined) out[name] = d;
  }
  return out;
}
