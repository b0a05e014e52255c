import { randomUUID } from 'node:crypto';
import type { BuildRecord } from './build-state.js';
import type { PipelineConfig } from './config.js';
import { publishFailure } from './ingest.js';
import { log } from './log.js';
import { STAGE_MESSAGE_SCHEMA_V1, type StageMessage } from './messages.js';
import type { PipelineDeps } from './ports.js';
import type { StageName } from './stages.js';
import { deadLetterError, failStalled, markRedriven, sweepDecision, type StallAction } from './stall.js';

/**
 * The two recovery paths of the pipeline, over the ports: the sweeper (Cloud Scheduler calls it every
 * SWEEP_PERIOD_S; the local stack on a timer) and the dead-letter consumer (push subscriptions on every stage's
 * dead-letter topic). Together they make sure no build stays `running`: a stalled unit is re-driven, or its build fails
 * with a reason and the failure events.
 */
export interface RecoveryOptions {
  config: PipelineConfig;
  /** Each stage's lease (config.ts leaseMsFor). */
  leaseMs: (stage: StageName) => number;
  now?: () => string;
  /** Most running builds one sweep looks at. */
  limit?: number;
}

export interface SweepReport {
  builds: number;
  redriven: number;
  failed: number;
}

function messageOf(record: BuildRecord, stage: StageName, key: string): StageMessage {
  const units = record.stages[stage].units;
  const u = units[key]!;
  return {
    schema: STAGE_MESSAGE_SCHEMA_V1,
    buildId: record.buildId,
    modelId: record.modelId,
    stage,
    unit: { key, index: u.index, count: Object.keys(units).length, params: u.params },
  };
}

async function fail(
  deps: PipelineDeps,
  opts: RecoveryOptions,
  record: BuildRecord,
  action: Extract<StallAction, { kind: 'fail' }>,
  now: string,
): Promise<boolean> {
  const claim = `recovery:${randomUUID()}`;
  const { result, record: after } = await deps.store.update(record.modelId, record.buildId, (r) =>
    failStalled(r, action.stage, action.unit, action.error, now, claim),
  );
  if (!result) return false;
  log.buildStalled(
    { buildId: record.buildId, modelId: record.modelId },
    action.stage,
    action.unit,
    action.error.message,
  );
  await publishFailure(deps, opts, after);
  return true;
}

/** One sweep over the running builds. */
export async function sweep(deps: PipelineDeps, opts: RecoveryOptions): Promise<SweepReport> {
  const now = (opts.now ?? (() => new Date().toISOString()))();
  const running = await deps.store.running(opts.limit ?? 500);
  const report: SweepReport = { builds: running.length, redriven: 0, failed: 0 };
  for (const record of running) {
    const actions = sweepDecision(record, now, opts.leaseMs, opts.config.limits.maxAttempts);
    for (const action of actions) {
      if (action.kind === 'fail') {
        if (await fail(deps, opts, record, action, now)) report.failed += 1;
        break; // the build has ended: its other units need nothing more
      }
      const lease = opts.leaseMs(action.stage);
      const { result, record: after } = await deps.store.update(record.modelId, record.buildId, (r) =>
        markRedriven(r, action, now, lease),
      );
      if (!result) continue;
      await deps.publisher.publishStage(action.stage, messageOf(after, action.stage, action.unit));
      log.unitRedriven({ buildId: record.buildId, modelId: record.modelId }, action.stage, action.unit, action.why);
      report.redriven += 1;
    }
  }
  return report;
}

/**
 * A stage message that Pub/Sub dead-lettered after `deliveries` attempts: its build fails with the stage, the
 * deliveries and the last error recorded on the unit, and the failure events are published. A message for a build that
 * has already ended changes nothing.
 */
export async function handleDeadLetter(
  deps: PipelineDeps,
  msg: StageMessage,
  deliveries: number,
  opts: RecoveryOptions,
): Promise<'failed' | 'ignored'> {
  const record = await deps.store.get(msg.modelId, msg.buildId);
  if (!record || record.status !== 'running') return 'ignored';
  const now = (opts.now ?? (() => new Date().toISOString()))();
  const error = deadLetterError(record, msg.stage, msg.unit.key, deliveries);
  const failed = await fail(deps, opts, record, { kind: 'fail', stage: msg.stage, unit: msg.unit.key, error }, now);
  return failed ? 'failed' : 'ignored';
}
