import { isKilnError, KilnError } from '../common/errors.js';
import { parseBuildConfigText, type BuildConfig } from './build-config.js';
import { handoffStale, newBuild, rejectedBuild, unitsOf, type BuildRecord } from './build-state.js';
import type { PipelineConfig } from './config.js';
import { errorInfo } from './errors.js';
import { makeEvent } from './events.js';
import { buildIdOf, gsUri } from './ids.js';
import { uploadTooLarge } from './limits.js';
import { log } from './log.js';
import { STAGE_MESSAGE_SCHEMA_V1, type UploadRef } from './messages.js';
import type { ObjectInfo, PipelineDeps } from './ports.js';
import { checkUploadBytes, SNIFF_BYTES } from './sniff.js';
import { firstStage, routeOf } from './stages.js';
import { classifyUpload } from './uploads.js';

/**
 * The ingest core: a finalized object in the uploads bucket → at most one build. The build id is the object's
 * bucket/object/generation, so redelivered storage events find the build already there. Uploads are only read.
 */
export type IngestResult =
  | { outcome: 'ignored'; reason: string }
  | { outcome: 'started' | 'duplicate' | 'rejected'; buildId: string; modelId: string; status: string };

export interface IngestOptions {
  config: PipelineConfig;
  /** How long another delivery may take to publish a build's first messages before this one redoes it. */
  leaseMs: number;
  now?: () => string;
}

/** Largest build config (kiln.json) ingest reads. */
export const MAX_CONFIG_BYTES = 256 * 1024;

async function loadConfig(
  deps: PipelineDeps,
  opts: IngestOptions,
  bucket: string,
  object: string | undefined,
): Promise<BuildConfig> {
  const max = opts.config.limits.maxFanout;
  if (object === undefined) return parseBuildConfigText('{}', max);
  // A ranged read too: a kiln.json is small, and one that is not is rejected without reading it whole.
  const bytes = await deps.objects.readHead(bucket, object, undefined, MAX_CONFIG_BYTES + 1);
  if (bytes.byteLength > MAX_CONFIG_BYTES) {
    throw new KilnError('E_BAD_ARGUMENT', `${object} is larger than ${MAX_CONFIG_BYTES / 1024} KiB`, {
      hint: 'A kiln.json holds settings only; see docs/pipeline.md for its fields',
    });
  }
  return parseBuildConfigText(Buffer.from(bytes).toString('utf8'), max, object);
}

async function uploadSize(deps: PipelineDeps, obj: ObjectInfo, prefix: string | undefined): Promise<number> {
  if (prefix === undefined) return obj.size;
  const files = await deps.objects.list(obj.bucket, prefix);
  return files.reduce((n, f) => n + f.size, 0);
}

export async function ingestUpload(deps: PipelineDeps, obj: ObjectInfo, opts: IngestOptions): Promise<IngestResult> {
  const now = opts.now ?? (() => new Date().toISOString());
  if (obj.bucket !== opts.config.buckets.uploads) {
    log.uploadIgnored(obj.name, `bucket ${obj.bucket} is not the uploads bucket`);
    return { outcome: 'ignored', reason: 'not the uploads bucket' };
  }
  const kind = classifyUpload(obj.name, obj.metadata);
  if (kind.kind === 'ignored') {
    log.uploadIgnored(obj.name, kind.reason);
    return { outcome: 'ignored', reason: kind.reason };
  }
  const buildId = buildIdOf(obj.bucket, obj.name, obj.generation);
  const { modelId } = kind;
  const ref = { buildId, modelId };
  const input: UploadRef = {
    bucket: obj.bucket,
    object: obj.name,
    generation: obj.generation,
    kind: kind.kind,
    uri: gsUri(obj.bucket, obj.name),
    ...(kind.kind === 'single-file' ? { format: kind.format } : { prefix: kind.prefix }),
  };

  const existing = await deps.store.get(modelId, buildId);
  if (existing && (existing.ingestHandedOff || existing.terminalEventPublished)) {
    log.duplicateUpload(ref, input.uri, existing.status);
    return { outcome: 'duplicate', buildId, modelId, status: existing.status };
  }

  let record: BuildRecord;
  let created: boolean;
  if (existing) {
    record = existing;
    created = false;
  } else {
    let fresh: BuildRecord;
    try {
      const prefix = kind.kind === 'folder' ? kind.prefix : undefined;
      const size = await uploadSize(deps, obj, prefix);
      if (size > opts.config.limits.maxUploadBytes) throw uploadTooLarge(size, opts.config.limits.maxUploadBytes);
      let configObject: string | undefined = kind.configObject;
      if (kind.kind === 'single-file') {
        // Only the leading bytes (a ranged read): a 512 MiB upload costs ingest no more memory than a small one.
        const head = await deps.objects.readHead(obj.bucket, obj.name, obj.generation, SNIFF_BYTES);
        checkUploadBytes(obj.name, kind.format, head, head.length < SNIFF_BYTES);
        if (!(await deps.objects.stat(obj.bucket, kind.configObject))) configObject = undefined;
      }
      const config = await loadConfig(deps, opts, obj.bucket, configObject);
      fresh = newBuild(buildId, modelId, input, config, now());
    } catch (e) {
      if (!isKilnError(e) || e.kind !== 'bad-input') throw e;
      fresh = rejectedBuild(buildId, modelId, input, errorInfo(e), now());
      log.inputRejected(ref, e.oneLine());
    }
    ({ record, created } = await deps.store.create(fresh));
  }

  if (record.status === 'failed') {
    // The call that recorded the rejection publishes it; a duplicate only once that call had a lease to do so (a
    // build that failed in a stage is published by the stage's delivery).
    if (created || handoffStale(record.finishedAt, now(), opts.leaseMs)) await publishFailure(deps, opts, record);
    return { outcome: created ? 'rejected' : 'duplicate', buildId, modelId, status: record.status };
  }
  if (!created && !handoffStale(record.createdAt, now(), opts.leaseMs)) {
    log.duplicateUpload(ref, input.uri, record.status);
    return { outcome: 'duplicate', buildId, modelId, status: record.status };
  }
  if (created) log.buildCreated(ref, input.uri);
  const started = makeEvent(
    'started',
    opts.config.projectId,
    { buildId, modelId, input, config: record.config as Record<string, unknown> },
    record.createdAt,
  );
  await deps.publisher.publishEvent(started);
  // The build's first stage follows from its upload (its route, stages.ts).
  const stage = firstStage(routeOf(record));
  for (const unit of unitsOf(record, stage)) {
    await deps.publisher.publishStage(stage, { schema: STAGE_MESSAGE_SCHEMA_V1, buildId, modelId, stage, unit });
  }
  await deps.store.update(modelId, buildId, (r) => {
    r.ingestHandedOff = true;
  });
  return { outcome: created ? 'started' : 'duplicate', buildId, modelId, status: record.status };
}

/** Publishes the failure events of a failed build once (stage.failed, then build failed). */
export async function publishFailure(
  deps: PipelineDeps,
  opts: { config: PipelineConfig },
  record: BuildRecord,
): Promise<void> {
  if (record.terminalEventPublished || !record.error) return;
  const { buildId, modelId, error } = record;
  const { stage, ...info } = error;
  const unitEntry = Object.entries(record.stages[stage].units).find(([, u]) => u.status === 'failed');
  const projectId = opts.config.projectId;
  const time = record.finishedAt ?? record.updatedAt;
  await deps.publisher.publishEvent(
    makeEvent(
      'stageFailed',
      projectId,
      { buildId, modelId, stage, unit: unitEntry?.[0] ?? 'main', attempts: unitEntry?.[1].attempts ?? 0, error: info },
      time,
      stage,
    ),
  );
  await deps.publisher.publishEvent(
    makeEvent(
      'failed',
      projectId,
      { buildId, modelId, status: 'failed', input: record.input, stage, error: info, artifacts: record.artifacts },
      time,
    ),
  );
  log.buildFailed({ buildId, modelId }, stage, info.message);
  await deps.store.update(modelId, buildId, (r) => {
    r.terminalEventPublished = true;
  });
}
