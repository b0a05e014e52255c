/** objects.rewrite / copy / move / compose. */
import { createWriteStream } from 'node:fs';
import { finished, pipeline } from 'node:stream/promises';
import { Writable } from 'node:stream';
import { z } from 'zod';
import { notifyCommitted, notifyDeleted, sendResource, type RequestContext } from '../context.js';
import { badRequest, GcsError, methodNotAllowed } from '../errors.js';
import { removeQuietly, tempName } from '../fsutil.js';
import { ObjectHasher, type Digests } from '../hashes.js';
import { readJsonBody } from '../http.js';
import {
  assertPreconditions,
  checkGenerationParam,
  parsePreconditions,
  preconditionsFromJson,
} from '../preconditions.js';
import { fieldsFromInput, hasWritableFields, ObjectInputSchema, pickFields } from '../records.js';
import { objectResource } from '../resource.js';

/** Copies a live object's bytes to a staging file; returns the source record's digests. */
async function stageCopy(ctx: RequestContext, bucket: string, name: string) {
  const { record, handle } = await ctx.app.store.openObject(bucket, name);
  const tmp = tempName(ctx.app.store.tmpDir);
  try {
    checkGenerationParam(record, ctx.query, 'sourceGeneration');
    assertPreconditions(record, parsePreconditions(ctx.query, true), 'write');
    await pipeline(handle.createReadStream({ autoClose: false }), createWriteStream(tmp));
  } catch (err) {
    await removeQuietly(tmp);
    throw err;
  } finally {
    await handle.close();
  }
  return { record, tmp };
}

export async function handleCopy(
  ctx: RequestContext,
  op: 'rewriteTo' | 'copyTo',
  src: { bucket: string; object: string },
  dst: { bucket: string; object: string },
): Promise<void> {
  if (ctx.method !== 'POST') throw methodNotAllowed();
  const input = await readJsonBody(ctx.req, ObjectInputSchema);
  ctx.app.store.getBucket(dst.bucket);
  const { record, tmp } = await stageCopy(ctx, src.bucket, src.object);
  const fields = hasWritableFields(input) ? fieldsFromInput(input) : pickFields(record);
  const digests: Digests = { size: record.size, md5Hash: record.md5Hash, crc32c: record.crc32c };
  const result = await ctx.app.store.commitObject({
    bucket: dst.bucket,
    name: dst.object,
    source: tmp,
    digests,
    fields,
    preconditions: parsePreconditions(ctx.query),
  });
  notifyCommitted(ctx.app, result);
  const resource = objectResource(result.object, ctx.baseUrl);
  if (op === 'copyTo') {
    sendResource(ctx, resource);
    return;
  }
  sendResource(ctx, {
    kind: 'storage#rewriteResponse',
    totalBytesRewritten: String(record.size),
    objectSize: String(record.size),
    done: true,
    resource,
  });
}

export async function handleMove(ctx: RequestContext, bucket: string, from: string, to: string): Promise<void> {
  if (ctx.method !== 'POST') throw methodNotAllowed();
  const result = await ctx.app.store.moveObject(
    bucket,
    from,
    to,
    parsePreconditions(ctx.query, true),
    parsePreconditions(ctx.query),
  );
  notifyDeleted(ctx.app, result.source);
  notifyCommitted(ctx.app, result);
  sendResource(ctx, objectResource(result.object, ctx.baseUrl));
}

const ComposeSchema = z.object({
  sourceObjects: z
    .array(
      z.object({
        name: z.string().min(1),
        generation: z.union([z.string(), z.number()]).optional(),
        objectPreconditions: z.record(z.string(), z.union([z.string(), z.number()])).optional(),
      }),
    )
    .min(1)
    .max(32),
  destination: ObjectInputSchema.optional(),
});

export async function handleCompose(ctx: RequestContext, bucket: string, name: string): Promise<void> {
  if (ctx.method !== 'POST') throw methodNotAllowed();
  const body = await readJsonBody(ctx.req, ComposeSchema);
  const tmp = tempName(ctx.app.store.tmpDir);
  const hasher = new ObjectHasher();
  const out = createWriteStream(tmp);
  try {
    for (const source of body.sourceObjects) {
      const { record, handle } = await ctx.app.store.openObject(bucket, source.name);
      try {
        if (source.generation !== undefined && String(source.generation) !== record.generation) {
          throw new GcsError(404, 'notFound', `No such object: ${bucket}/${source.name}`);
        }
        assertPreconditions(record, preconditionsFromJson(source.objectPreconditions), 'write');
        await pipeline(
          handle.createReadStream({ autoClose: false }),
          new Writable({
            write(chunk: Buffer, _enc, cb) {
              hasher.update(chunk);
              if (out.write(chunk)) cb();
              else out.once('drain', () => cb());
            },
          }),
        );
      } finally {
        await handle.close();
      }
    }
    out.end();
    await finished(out);
    const destination = body.destination ?? {};
    if (destination.name !== undefined && destination.name !== name) {
      throw badRequest('destination.name does not match the object in the URL.');
    }
    const result = await ctx.app.store.commitObject({
      bucket,
      name,
      source: tmp,
      digests: hasher.digest(),
      fields: fieldsFromInput(destination),
      preconditions: parsePreconditions(ctx.query),
    });
    notifyCommitted(ctx.app, result);
    sendResource(ctx, objectResource(result.object, ctx.baseUrl));
  } finally {
    out.destroy();
    await removeQuietly(tmp);
  }
}
