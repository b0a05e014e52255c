/** Request dispatch: routing, error rendering and request logging. */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AppContext, RequestContext } from './context.js';
import { badRequest, GcsError, notFound } from './errors.js';
import { handleAdmin } from './handlers/admin.js';
import { handleBucket, handleBuckets, handleStorageLayout } from './handlers/buckets.js';
import { handleCompose, handleCopy, handleMove } from './handlers/copy.js';
import { handleDownload } from './handlers/download.js';
import { handleObject, handleObjectList } from './handlers/objects.js';
import { handleUpload } from './handlers/uploads.js';
import { handleXmlUpload } from './handlers/xml-upload.js';
import { baseUrlOf, sendError, sendXmlError, toGcsError } from './http.js';
import { route, type Route } from './router.js';

async function dispatch(ctx: RequestContext, r: Route): Promise<void> {
  switch (r.kind) {
    case 'buckets':
      return handleBuckets(ctx);
    case 'bucket':
      return handleBucket(ctx, r.bucket);
    case 'storageLayout':
      return handleStorageLayout(ctx, r.bucket);
    case 'objects':
      return handleObjectList(ctx, r.bucket);
    case 'object':
      return handleObject(ctx, r.bucket, r.object);
    case 'copy':
      return handleCopy(
        ctx,
        r.op,
        { bucket: r.bucket, object: r.object },
        { bucket: r.destBucket, object: r.destObject },
      );
    case 'move':
      return handleMove(ctx, r.bucket, r.object, r.destObject);
    case 'compose':
      return handleCompose(ctx, r.bucket, r.object);
    case 'upload':
      return handleUpload(ctx, r.bucket);
    case 'download':
      return handleDownload(ctx, r.bucket, r.object);
    case 'xmlUpload':
      return handleXmlUpload(ctx, r.bucket, r.object);
    case 'admin':
      return handleAdmin(ctx, r.segments);
    case 'unknown':
      throw notFound(`Not Found: ${ctx.method} ${ctx.req.url ?? ''}`);
  }
}

export async function handleRequest(app: AppContext, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const started = process.hrtime.bigint();
  const method = (req.method ?? 'GET').toUpperCase();
  res.once('finish', () => {
    const latency = Number(process.hrtime.bigint() - started) / 1e9;
    app.log.debug('request', {
      httpRequest: {
        requestMethod: method,
        requestUrl: req.url,
        status: res.statusCode,
        latency: `${latency.toFixed(6)}s`,
        requestSize: req.headers['content-length'],
      },
    });
  });
  let xml = false;
  try {
    let url: URL;
    try {
      url = new URL(req.url ?? '/', 'http://emulator.invalid');
    } catch {
      throw badRequest('Invalid request URL.');
    }
    const ctx: RequestContext = {
      app,
      req,
      res,
      method,
      query: url.searchParams,
      baseUrl: baseUrlOf(req, app.publicUrl()),
    };
    const r = route(url.pathname, method);
    xml = r.kind === 'xmlUpload' || (r.kind === 'download' && r.xml === true);
    await dispatch(ctx, r);
  } catch (err) {
    const gcsError = toGcsError(err);
    if (!(err instanceof GcsError)) {
      app.log.error('request failed', { error: err, requestMethod: method, requestUrl: req.url });
    }
    if (xml) sendXmlError(res, gcsError);
    else sendError(res, gcsError);
  }
}
