import { randomUUID } from 'node:crypto';
import {
  beginUnit,
  completeBuild,
  earlyDelivery,
  failUnit,
  handoffStale,
  releaseUnit,
  stageTimings,
  succeedUnit,
  unitsOf,
  type BuildRecord,
} from './build-state.js';
import type { PipelineConfig } from './config.js';
import type { StageCores } from './core.js';
import {
  encodeDataManifest,
  isDataManifest,
  parseDataManifest,
  splitArtifacts,
  DATA_MANIFEST,
} from './data-manifest.js';
import { errorInfo } from './errors.js';
import { makeEvent } from './events.js';
import { publishFailure } from './ingest.js';
import { log } from './log.js';
import { STAGE_MESSAGE_SCHEMA_V1, type StageMessage } from './messages.js';
import type { PipelineDeps } from './ports.js';
import { nextStage, publicSummary, routeOf, stageSpec, unitArtifactName, type StageName } from './stages.js';
import { runStageUnit } from './unit.js';

/**
 * Runs one unit of one stage for one message: claim it in Firestore, run the stage core, write its artifacts, record
 * the result, and — for the call that completes the stage — publish the next stage's messages. Returns 'retry' when the
 * caller must make Pub/Sub redeliver (a transient failure under the attempt limit); everything else acknowledges.
 */
export interface RunOptions {
  config: PipelineConfig;
  cores: StageCores;
  /** A running unit younger than this is taken to be running elsewhere; a claimed hand-off is redone after it. */
  leaseMs: number;
  now?: () => string;
}

export type RunOutcome = 'succeeded' | 'skipped' | 'retry' | 'failed';

export async function runUnit(deps: PipelineDeps, msg: StageMessage, opts: RunOptions): Promise<RunOutcome> {
  const now = opts.now ?? (() => new Date().toISOString());
  const { buildId, modelId, stage, unit } = msg;
  const ref = { buildId, modelId };
  const existing = await deps.store.get(modelId, buildId);
  if (!existing) {
    log.unitSkipped(ref, stage, unit.key, 'no such build');
    return 'skipped';
  }
  // This delivery's claim on the unit. A plain read decides every skip (a build, stage or unit only moves forward,
  // so a stale read costs at most one redelivery); only a unit that may run is claimed, in a transaction.
  const runId = randomUUID();
  const decide = (r: BuildRecord) =>
    earlyDelivery(r, stage) ?? beginUnit(r, stage, unit.key, now(), opts.leaseMs, runId);
  const peek = decide(structuredClone(existing));
  /** A store write of this delivery: if it fails for good, the unit's lease goes back before the error propagates. */
  const releasing = <T>(write: Promise<T>): Promise<T> =>
    write.catch(async (e: unknown) => {
      await release(deps, msg, runId);
      throw e;
    });
  const { result: decision, record } =
    peek.action === 'skip'
      ? { result: peek, record: existing }
      : await releasing(deps.store.update(modelId, buildId, decide));
  if (decision.action === 'skip' && decision.redeliver) {
    log.unitSkipped(ref, stage, unit.key, `${decision.reason}; asking for redelivery`);
    return 'retry';
  }
  if (decision.action === 'skip') {
    log.unitSkipped(ref, stage, unit.key, decision.reason);
    await resumeHandoffs(deps, record, stage, opts, now());
    return 'skipped';
  }
  log.unitStarted(ref, stage, unit.key, decision.attempt);
  const t0 = Date.now();
  let artifacts: Record<string, string>;
  let summary: Record<string, unknown>;
  try {
    const out = await runStageUnit(
      {
        spec: stageSpec(stage),
        unit,
        config: record.config,
        build: { buildId, modelId, inputUri: record.input.uri, inputKind: record.input.kind },
        cores: opts.cores,
      },
      {
        upload: () => deps.objects.readUpload(record.input),
        artifacts: (wanted, data) => readArtifacts(deps, record.artifacts, wanted, data),
      },
    );
    const outputs = Object.entries(out.artifacts);
    const uris = await inParallel(outputs, ([full, bytes]) =>
      deps.objects.writeArtifact(modelId, buildId, full, bytes),
    );
    const written = Object.fromEntries(outputs.map(([full], i) => [full, uris[i]!]));
    // Data files are named by one manifest artifact, not each in the build document (data-manifest.ts).
    const { listed, data } = splitArtifacts(written);
    if (Object.keys(data).length > 0) {
      const manifest = unitArtifactName(unit, DATA_MANIFEST);
      listed[manifest] = await deps.objects.writeArtifact(modelId, buildId, manifest, encodeDataManifest(data));
    }
    artifacts = listed;
    summary = out.summary;
  } catch (e) {
    const info = errorInfo(e);
    const { result } = await releasing(
      deps.store.update(modelId, buildId, (r) =>
        failUnit(r, stage, unit.key, info, opts.config.limits.maxAttempts, now(), runId),
      ),
    );
    if (result.outcome === 'retry') {
      log.unitRetrying(ref, stage, unit.key, decision.attempt, info.message);
      return 'retry';
    }
    log.unitFailed(ref, stage, unit.key, info.code, info.message, e);
    // Only the delivery that failed the build publishes; another (the build had ended) leaves it to that one.
    if (result.outcome === 'build-failed') {
      const latest = await deps.store.get(modelId, buildId);
      if (latest) await publishFailure(deps, opts, latest);
    }
    return 'failed';
  }
  log.unitSucceeded(ref, stage, unit.key, Date.now() - t0, Object.keys(artifacts));
  const { result, record: after } = await releasing(
    deps.store.update(modelId, buildId, (r) => succeedUnit(r, stage, unit.key, { artifacts, summary }, now(), runId)),
  );
  if (result.stageCompleted) {
    log.stageCompleted(ref, stage, after.stages[stage].unitCount);
    await handOff(deps, after, stage, opts, now());
  }
  return 'succeeded';
}

/**
 * Best effort, when this delivery cannot record its claim or its result: the unit goes back to pending so the
 * redelivery (the caller throws, Pub/Sub redelivers) runs it now rather than after the lease.
 */
async function release(deps: PipelineDeps, msg: StageMessage, runId: string): Promise<void> {
  const released = await deps.store
    .update(msg.modelId, msg.buildId, (r) => releaseUnit(r, msg.stage, msg.unit.key, runId))
    .then(({ result }) => result)
    .catch(() => false);
  log.unitReleased({ buildId: msg.buildId, modelId: msg.modelId }, msg.stage, msg.unit.key, released);
}

/** Reads or writes under way at once for one unit (its data can be thousands of calibration or validation files). */
const IO_CONCURRENCY = 8;

/** `io` of every item, IO_CONCURRENCY at a time, results in the items' order. */
async function inParallel<T, R>(items: T[], io: (item: T) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const lane = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await io(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(IO_CONCURRENCY, items.length) }, lane));
  return out;
}

/** `read` of every pair's URI, IO_CONCURRENCY at a time, results in the pairs' order. */
const readInOrder = (
  pairs: [string, string][],
  read: (uri: string) => Promise<Uint8Array | undefined>,
): Promise<[string, Uint8Array | undefined][]> => inParallel(pairs, async ([name, uri]) => [name, await read(uri)]);

/**
 * The artifacts of the build so far that the stage reads (`wanted`), by name; with `data`, the data manifests are read
 * too and the wanted data files they name.
 */
async function readArtifacts(
  deps: PipelineDeps,
  uris: Record<string, string>,
  wanted: (name: string) => boolean,
  data: boolean,
): Promise<Map<string, Uint8Array>> {
  const out = new Map<string, Uint8Array>();
  const read = async (uri: string) => {
    const m = /^gs:\/\/([^/]+)\/(.+)$/.exec(uri);
    return m ? deps.objects.read(m[1]!, m[2]!) : undefined;
  };
  const needed = Object.entries(uris).filter(([name]) => wanted(name) || (data && isDataManifest(name)));
  for (const [name, bytes] of await readInOrder(needed, read)) {
    if (!bytes) continue;
    if (!isDataManifest(name)) {
      out.set(name, bytes);
      continue;
    }
    const files = Object.entries(parseDataManifest(bytes)).filter(([file]) => wanted(file));
    for (const [file, bytes] of await readInOrder(files, read)) if (bytes) out.set(file, bytes);
  }
  return out;
}

/** A skipped duplicate finishes what a crashed or slow caller left undone, once its lease ran out. */
async function resumeHandoffs(
  deps: PipelineDeps,
  record: BuildRecord,
  stage: StageName,
  opts: RunOptions,
  now: string,
) {
  if (record.status === 'failed') {
    if (handoffStale(record.finishedAt, now, opts.leaseMs)) await publishFailure(deps, opts, record);
    return;
  }
  const s = record.stages[stage];
  if (s.status === 'succeeded' && !s.handedOff && handoffStale(s.finishedAt, now, opts.leaseMs)) {
    await handOff(deps, record, stage, opts, now);
  }
}

/**
 * After a stage completes: its stage event, then what its row of the stage table says follows (`onComplete`): the next
 * stage's messages on the build's route, or the build's end and its completion event.
 */
async function handOff(deps: PipelineDeps, record: BuildRecord, stage: StageName, opts: RunOptions, now: string) {
  const { buildId, modelId } = record;
  const projectId = opts.config.projectId;
  const s = record.stages[stage];
  const names = new Set(Object.values(s.units).flatMap((u) => u.artifacts ?? []));
  const stageArtifacts = Object.fromEntries(Object.entries(record.artifacts).filter(([name]) => names.has(name)));
  await deps.publisher.publishEvent(
    makeEvent(
      'stageSucceeded',
      projectId,
      {
        buildId,
        modelId,
        stage,
        durationMs: s.durationMs ?? 0,
        artifacts: stageArtifacts,
        summary: (record.summary[stage] as Record<string, unknown>) ?? {},
      },
      s.finishedAt ?? now,
      stage,
    ),
  );
  if (stageSpec(stage).onComplete === 'next-stage') {
    const next = nextStage(stage, routeOf(record));
    if (!next) throw new Error(`stage ${stage} hands off to a next stage, but none follows it on its route`);
    for (const unit of unitsOf(record, next)) {
      await deps.publisher.publishStage(next, { schema: STAGE_MESSAGE_SCHEMA_V1, buildId, modelId, stage: next, unit });
    }
    await deps.store.update(modelId, buildId, (r) => {
      r.stages[stage].handedOff = true;
    });
    return;
  }
  // The last stage completed: the build succeeds exactly once, then the completion event.
  const { record: done } = await deps.store.update(modelId, buildId, (r) => {
    completeBuild(r, {}, now);
    r.stages[stage].handedOff = true;
  });
  if (done.status !== 'succeeded' || done.terminalEventPublished) return;
  const summary = publicSummary(done.summary);
  await deps.publisher.publishEvent(
    makeEvent(
      'completed',
      projectId,
      {
        buildId,
        modelId,
        status: 'succeeded',
        input: done.input,
        artifacts: done.artifacts,
        summary,
        stageTimings: stageTimings(done),
      },
      done.finishedAt ?? now,
    ),
  );
  log.buildSucceeded({ buildId, modelId }, Object.keys(done.artifacts).length);
  await deps.store.update(modelId, buildId, (r) => {
    r.terminalEventPublished = true;
  });
}
