/** objects.insert via uploadType=media, multipart and resumable (session start, chunks, status, cancel). */
import { writeFile } from 'node:fs/promises';
import { parseUploadRange } from '../content-range.js';
import { notifyCommitted, sendResource, type RequestContext } from '../context.js';
import { badRequest, GcsError, methodNotAllowed } from '../errors.js';
import { tempName, removeQuietly } from '../fsutil.js';
import {
  checkExpected,
  digestBuffer,
  mergeExpected,
  ObjectHasher,
  parseGoogHash,
  type ExpectedHashes,
} from '../hashes.js';
import { bodyToFile, parseJson, readBody, readJsonBody, sendEmpty } from '../http.js';
import { boundaryOf, parseMultipart } from '../multipart.js';
import { assertPreconditions, parsePreconditions, type Preconditions } from '../preconditions.js';
import { fieldsFromInput, ObjectInputSchema, type ObjectFields } from '../records.js';
import { objectResource } from '../resource.js';
import { validateObjectName, type CommitResult } from '../store.js';

function header(ctx: RequestContext, name: string): string | undefined {
  const v = ctx.req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

function requireName(ctx: RequestContext, fromBody?: string): string {
  const name = ctx.query.get('name') ?? fromBody;
  if (!name) throw new GcsError(400, 'required', 'Required');
  validateObjectName(name);
  return name;
}

function finish(ctx: RequestContext, result: CommitResult): void {
  notifyCommitted(ctx.app, result);
  sendResource(ctx, objectResource(result.object, ctx.baseUrl));
}

export async function handleUpload(ctx: RequestContext, bucket: string): Promise<void> {
  const uploadId = ctx.query.get('upload_id');
  if (uploadId) return handleSessionRequest(ctx, uploadId);
  if (ctx.method !== 'POST') throw methodNotAllowed();
  let type = ctx.query.get('uploadType');
  if (!type) type = boundaryOf(header(ctx, 'content-type')) ? 'multipart' : 'media';
  // Fail fast on a missing bucket before reading the body.
  ctx.app.store.getBucket(bucket);
  switch (type) {
    case 'media':
      return mediaUpload(ctx, bucket);
    case 'multipart':
      return multipartUpload(ctx, bucket);
    case 'resumable':
      return startResumable(ctx, bucket);
    default:
      throw badRequest(`Invalid uploadType: ${type}`);
  }
}

export interface StreamedUpload {
  bucket: string;
  name: string;
  fields: ObjectFields;
  expected: ExpectedHashes;
  preconditions: Preconditions;
}

/** Streams the request body into a new object generation (media uploads and XML API PUTs). */
export async function commitStreamedBody(ctx: RequestContext, upload: StreamedUpload): Promise<CommitResult> {
  validateObjectName(upload.name);
  const tmp = tempName(ctx.app.store.tmpDir);
  try {
    const hasher = new ObjectHasher();
    const { complete } = await bodyToFile(ctx.req, tmp, { hasher });
    if (!complete) throw badRequest('Upload request ended before the body was complete.');
    const digests = hasher.digest();
    const mismatch = checkExpected(digests, upload.expected);
    if (mismatch) throw badRequest(mismatch);
    return await ctx.app.store.commitObject({
      bucket: upload.bucket,
      name: upload.name,
      source: tmp,
      digests,
      fields: upload.fields,
      preconditions: upload.preconditions,
    });
  } finally {
    await removeQuietly(tmp);
  }
}

async function mediaUpload(ctx: RequestContext, bucket: string): Promise<void> {
  const fields: ObjectFields = {};
  const contentType = header(ctx, 'content-type');
  if (contentType) fields.contentType = contentType;
  const result = await commitStreamedBody(ctx, {
    bucket,
    name: requireName(ctx),
    fields,
    expected: parseGoogHash(ctx.req.headers['x-goog-hash']),
    preconditions: parsePreconditions(ctx.query),
  });
  finish(ctx, result);
}

async function multipartUpload(ctx: RequestContext, bucket: string): Promise<void> {
  const boundary = boundaryOf(header(ctx, 'content-type'));
  if (!boundary) throw badRequest('Multipart upload requires a multipart/related Content-Type with a boundary.');
  const parts = parseMultipart(await readBody(ctx.req), boundary);
  if (parts.length < 2) throw badRequest('Multipart upload must contain a metadata part and a media part.');
  const meta = parseJson(parts[0]!.body, ObjectInputSchema);
  const media = parts[1]!;
  const name = requireName(ctx, meta.name);
  const fields = fieldsFromInput(meta);
  if (fields.contentType === undefined && media.headers['content-type']) {
    fields.contentType = media.headers['content-type'];
  }
  const digests = digestBuffer(media.body);
  const expected = mergeExpected(
    { ...(meta.md5Hash ? { md5Hash: meta.md5Hash } : {}), ...(meta.crc32c ? { crc32c: meta.crc32c } : {}) },
    parseGoogHash(ctx.req.headers['x-goog-hash']),
  );
  const mismatch = checkExpected(digests, expected);
  if (mismatch) throw badRequest(mismatch);
  const tmp = tempName(ctx.app.store.tmpDir);
  try {
    await writeFile(tmp, media.body);
    const result = await ctx.app.store.commitObject({
      bucket,
      name,
      source: tmp,
      digests,
      fields,
      preconditions: parsePreconditions(ctx.query),
    });
    finish(ctx, result);
  } finally {
    await removeQuietly(tmp);
  }
}

async function startResumable(ctx: RequestContext, bucket: string): Promise<void> {
  const meta = await readJsonBody(ctx.req, ObjectInputSchema);
  const name = requireName(ctx, meta.name);
  const preconditions = parsePreconditions(ctx.query);
  // GCS evaluates preconditions when the session starts (and again when it completes).
  assertPreconditions(ctx.app.store.findObject(bucket, name), preconditions, 'write');
  const fields = fieldsFromInput(meta);
  const uploadType = header(ctx, 'x-upload-content-type');
  if (fields.contentType === undefined && uploadType) fields.contentType = uploadType;
  const lengthHeader = header(ctx, 'x-upload-content-length');
  let declaredSize: number | undefined;
  if (lengthHeader !== undefined && lengthHeader !== '') {
    declaredSize = Number(lengthHeader);
    if (!Number.isSafeInteger(declaredSize) || declaredSize < 0) {
      throw badRequest(`Invalid X-Upload-Content-Length: ${lengthHeader}`);
    }
  }
  const id = await ctx.app.uploads.create({
    bucket,
    name,
    fields,
    expected: {
      ...(meta.md5Hash ? { md5Hash: meta.md5Hash } : {}),
      ...(meta.crc32c ? { crc32c: meta.crc32c } : {}),
    },
    preconditions,
    ...(declaredSize !== undefined ? { declaredSize } : {}),
  });
  const location =
    `${ctx.baseUrl}/upload/storage/v1/b/${encodeURIComponent(bucket)}/o` +
    `?uploadType=resumable&name=${encodeURIComponent(name)}&upload_id=${id}`;
  sendEmpty(ctx.res, 200, { Location: location, 'X-GUploader-UploadID': id });
}

async function handleSessionRequest(ctx: RequestContext, id: string): Promise<void> {
  if (ctx.method === 'DELETE') {
    await ctx.app.uploads.cancel(id);
    // GCS answers a cancelled session with 499 Client Closed Request.
    sendEmpty(ctx.res, 499);
    return;
  }
  if (ctx.method !== 'PUT' && ctx.method !== 'POST') throw methodNotAllowed();
  const range = parseUploadRange(header(ctx, 'content-range'));
  const outcome = await ctx.app.uploads.put(id, range, ctx.req, parseGoogHash(ctx.req.headers['x-goog-hash']));
  switch (outcome.kind) {
    case 'incomplete':
      sendEmpty(ctx.res, 308, outcome.received > 0 ? { Range: `bytes=0-${outcome.received - 1}` } : {});
      return;
    case 'finalized':
      finish(ctx, outcome.result);
      return;
    case 'done':
      sendResource(ctx, objectResource(outcome.object, ctx.baseUrl));
      return;
  }
}
