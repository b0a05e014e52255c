/** The XML API's simple upload, `PUT /BUCKET/OBJECT` (`curl -T`, signed URLs): same object and events as any upload. */
import { notifyCommitted, type RequestContext } from '../context.js';
import { sendEmpty } from '../http.js';
import { parseXmlUploadHeaders, xmlEtag } from '../xml-api.js';
import { commitStreamedBody } from './uploads.js';

export async function handleXmlUpload(ctx: RequestContext, bucket: string, name: string): Promise<void> {
  const { fields, expected, preconditions } = parseXmlUploadHeaders(ctx.req.headers);
  // Fail fast on a missing bucket before reading the body.
  ctx.app.store.getBucket(bucket);
  const result = await commitStreamedBody(ctx, { bucket, name, fields, expected, preconditions });
  notifyCommitted(ctx.app, result);
  const o = result.object;
  sendEmpty(ctx.res, 200, {
    ETag: xmlEtag(o.md5Hash),
    'X-Goog-Generation': o.generation,
    'X-Goog-Metageneration': o.metageneration,
    'X-Goog-Hash': `crc32c=${o.crc32c},md5=${o.md5Hash}`,
    'X-Goog-Stored-Content-Length': String(o.size),
    'X-Goog-Stored-Content-Encoding': o.contentEncoding ?? 'identity',
  });
}
