/** buckets.insert / get / list / patch / update / delete / getStorageLayout. */
import { z } from 'zod';
import { sendResource, type RequestContext } from '../context.js';
import { methodNotAllowed } from '../errors.js';
import { readJsonBody, sendEmpty } from '../http.js';
import { decodePageToken, encodePageToken } from '../listing.js';
import { parsePreconditions } from '../preconditions.js';
import { bucketResource, storageLayoutResource } from '../resource.js';

const NewBucketSchema = z.object({
  name: z.string().min(1),
  location: z.string().optional(),
  storageClass: z.string().optional(),
  labels: z.record(z.string(), z.string()).optional(),
});

export async function handleBuckets(ctx: RequestContext): Promise<void> {
  const { app, method, query } = ctx;
  if (method === 'GET') {
    const prefix = query.get('prefix') ?? '';
    const max = Math.min(Number(query.get('maxResults') || 1000) || 1000, 1000);
    const token = query.get('pageToken');
    const after = token ? decodePageToken(token) : undefined;
    const all = app.store
      .listBuckets()
      .filter((b) => b.name.startsWith(prefix) && (after === undefined || b.name > after));
    const page = all.slice(0, max);
    const body: Record<string, unknown> = { kind: 'storage#buckets' };
    if (page.length > 0) body.items = page.map((b) => bucketResource(b, ctx.baseUrl));
    if (all.length > page.length) body.nextPageToken = encodePageToken(page[page.length - 1]!.name);
    sendResource(ctx, body);
    return;
  }
  if (method === 'POST') {
    const input = await readJsonBody(ctx.req, NewBucketSchema);
    const record = await app.store.createBucket(input);
    app.log.info('bucket created', { bucket: record.name });
    sendResource(ctx, bucketResource(record, ctx.baseUrl));
    return;
  }
  throw methodNotAllowed();
}

const BucketPatchSchema = z.object({
  labels: z.record(z.string(), z.string().nullable()).nullable().optional(),
  storageClass: z.string().min(1).optional(),
});

export async function handleBucket(ctx: RequestContext, bucket: string): Promise<void> {
  const { app, method } = ctx;
  if (method === 'GET') {
    sendResource(ctx, bucketResource(app.store.getBucket(bucket), ctx.baseUrl));
    return;
  }
  if (method === 'PATCH' || method === 'PUT') {
    const patch = await readJsonBody(ctx.req, BucketPatchSchema);
    const record = await app.store.updateBucket(bucket, parsePreconditions(ctx.query), patch, method === 'PUT');
    sendResource(ctx, bucketResource(record, ctx.baseUrl));
    return;
  }
  if (method === 'DELETE') {
    await app.store.deleteBucket(bucket, parsePreconditions(ctx.query));
    app.log.info('bucket deleted', { bucket });
    sendEmpty(ctx.res, 204);
    return;
  }
  throw methodNotAllowed();
}

/** buckets.getStorageLayout (gcloud storage mv asks for it): a flat namespace, never hierarchical. */
export async function handleStorageLayout(ctx: RequestContext, bucket: string): Promise<void> {
  if (ctx.method !== 'GET') throw methodNotAllowed();
  sendResource(ctx, storageLayoutResource(ctx.app.store.getBucket(bucket)));
}
