/** Media download (`alt=media`), with single-range support and GCS response headers. */
import { pipeline } from 'node:stream/promises';
import { parseByteRange } from '../content-range.js';
import type { RequestContext } from '../context.js';
import { methodNotAllowed, rangeNotSatisfiable } from '../errors.js';
import { sendJson } from '../http.js';
import { assertPreconditions, checkGenerationParam, parsePreconditions } from '../preconditions.js';
import { objectEtag } from '../resource.js';

export async function handleDownload(ctx: RequestContext, bucket: string, name: string): Promise<void> {
  if (ctx.method !== 'GET' && ctx.method !== 'HEAD') throw methodNotAllowed();
  const { record, handle } = await ctx.app.store.openObject(bucket, name);
  let streaming = false;
  try {
    checkGenerationParam(record, ctx.query);
    assertPreconditions(record, parsePreconditions(ctx.query), 'read');
    const headers: Record<string, string | number> = {
      'Content-Type': record.contentType ?? 'application/octet-stream',
      ETag: `"${objectEtag(record.generation, record.metageneration)}"`,
      'Last-Modified': new Date(record.updated).toUTCString(),
      'Accept-Ranges': 'bytes',
      'X-Goog-Generation': record.generation,
      'X-Goog-Metageneration': record.metageneration,
      'X-Goog-Hash': `crc32c=${record.crc32c},md5=${record.md5Hash}`,
      'X-Goog-Stored-Content-Length': String(record.size),
      'X-Goog-Stored-Content-Encoding': record.contentEncoding ?? 'identity',
      'X-Goog-Storage-Class': record.storageClass,
    };
    if (record.contentEncoding) headers['Content-Encoding'] = record.contentEncoding;
    if (record.contentDisposition) headers['Content-Disposition'] = record.contentDisposition;
    if (record.contentLanguage) headers['Content-Language'] = record.contentLanguage;
    headers['Cache-Control'] = record.cacheControl ?? 'private, max-age=0';
    for (const [k, v] of Object.entries(record.metadata ?? {})) {
      if (/^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/.test(k) && !/[\r\n]/.test(v)) headers[`X-Goog-Meta-${k}`] = v;
    }

    const range = parseByteRange(ctx.req.headers.range, record.size);
    if (range === 'unsatisfiable') {
      const err = rangeNotSatisfiable();
      sendJson(ctx.res, 416, err.toJSON(), { 'Content-Range': `bytes */${record.size}` });
      return;
    }
    const start = range?.start ?? 0;
    const end = range?.end ?? record.size - 1;
    headers['Content-Length'] = Math.max(0, end - start + 1);
    if (range) headers['Content-Range'] = `bytes ${start}-${end}/${record.size}`;
    ctx.res.writeHead(range ? 206 : 200, headers);
    if (ctx.method === 'HEAD' || record.size === 0) {
      ctx.res.end();
      return;
    }
    streaming = true;
    // The stream owns (and closes) the handle from here on.
    await pipeline(handle.createReadStream({ start, end, autoClose: true }), ctx.res).catch(() => {
      // Client went away mid-download; nothing to report.
    });
  } finally {
    if (!streaming) await handle.close();
  }
}
