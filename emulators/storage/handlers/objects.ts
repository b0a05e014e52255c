/** objects.get (metadata) / patch / update / delete / list. */
import { notifyDeleted, notifyMetadataUpdated, sendResource, type RequestContext } from '../context.js';
import { methodNotAllowed } from '../errors.js';
import { readJsonBody, sendEmpty } from '../http.js';
import { listPage, parseListQuery } from '../listing.js';
import { assertPreconditions, checkGenerationParam, parsePreconditions } from '../preconditions.js';
import { fieldsFromInput, ObjectInputSchema, patchFields, pickFields } from '../records.js';
import { objectResource } from '../resource.js';
import { handleDownload } from './download.js';

export async function handleObjectList(ctx: RequestContext, bucket: string): Promise<void> {
  if (ctx.method !== 'GET') throw methodNotAllowed();
  const q = parseListQuery(ctx.query);
  const page = listPage(ctx.app.store.listObjects(bucket), q);
  const body: Record<string, unknown> = { kind: 'storage#objects' };
  if (page.prefixes.length > 0) body.prefixes = page.prefixes;
  if (page.items.length > 0) body.items = page.items.map((o) => objectResource(o, ctx.baseUrl));
  if (page.nextPageToken) body.nextPageToken = page.nextPageToken;
  sendResource(ctx, body);
}

export async function handleObject(ctx: RequestContext, bucket: string, name: string): Promise<void> {
  const { app, method, query } = ctx;
  switch (method) {
    case 'GET':
    case 'HEAD': {
      if (query.get('alt') === 'media') return handleDownload(ctx, bucket, name);
      const rec = app.store.getObject(bucket, name);
      checkGenerationParam(rec, query);
      assertPreconditions(rec, parsePreconditions(query), 'read');
      sendResource(ctx, objectResource(rec, ctx.baseUrl));
      return;
    }
    case 'PATCH':
    case 'PUT': {
      const input = await readJsonBody(ctx.req, ObjectInputSchema);
      checkGenerationParam(app.store.getObject(bucket, name), query);
      const { after } = await app.store.updateObject(bucket, name, parsePreconditions(query), (current) =>
        method === 'PATCH' ? patchFields(pickFields(current), input) : fieldsFromInput(input),
      );
      notifyMetadataUpdated(app, after);
      app.log.info('object metadata updated', { bucket, object: name, metageneration: after.metageneration });
      sendResource(ctx, objectResource(after, ctx.baseUrl));
      return;
    }
    case 'DELETE': {
      checkGenerationParam(app.store.getObject(bucket, name), query);
      const removed = await app.store.deleteObject(bucket, name, parsePreconditions(query));
      notifyDeleted(app, removed);
      app.log.info('object deleted', { bucket, object: name, generation: removed.generation });
      sendEmpty(ctx.res, 204);
      return;
    }
    default:
      throw methodNotAllowed();
  }
}
