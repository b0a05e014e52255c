/** Small HTTP helpers shared by the route handlers. */
import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { finished } from 'node:stream/promises';
import type { z } from 'zod';
import { badRequest, GcsError } from './errors.js';
import type { ObjectHasher } from './hashes.js';
import { xmlErrorBody } from './xml-api.js';

export const JSON_CONTENT_TYPE = 'application/json; charset=utf-8';

export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const payload = Buffer.from(JSON.stringify(body));
  res.writeHead(status, { 'Content-Type': JSON_CONTENT_TYPE, 'Content-Length': payload.length, ...headers });
  res.end(payload);
}

export function sendEmpty(res: ServerResponse, status: number, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'Content-Length': 0, ...headers });
  res.end();
}

export function toGcsError(err: unknown): GcsError {
  if (err instanceof GcsError) return err;
  return new GcsError(500, 'backendError', 'Internal error in the Kiln storage emulator.');
}

export function sendError(res: ServerResponse, err: GcsError): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  if (err.code === 304) {
    sendEmpty(res, 304);
    return;
  }
  sendJson(res, err.code, err.toJSON());
}

/** An error on an XML API route, as an XML `<Error>` document. */
export function sendXmlError(res: ServerResponse, err: GcsError): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const payload = Buffer.from(xmlErrorBody(err));
  res.writeHead(err.code, { 'Content-Type': 'application/xml; charset=UTF-8', 'Content-Length': payload.length });
  res.end(payload);
}

/** Base URL clients reached us on (used for selfLink, mediaLink and upload session URLs). */
export function baseUrlOf(req: IncomingMessage, fallback: string): string {
  const host = req.headers.host;
  return host && /^[A-Za-z0-9.\-:[\]]+$/.test(host) ? `http://${host}` : fallback;
}

export async function readBody(req: IncomingMessage, limit = 512 * 1024 * 1024): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const buf = chunk as Buffer;
    size += buf.length;
    if (size > limit) throw new GcsError(413, 'uploadTooLarge', 'Request body too large.');
    chunks.push(buf);
  }
  return Buffer.concat(chunks);
}

/** Parses a JSON body with `schema`; an empty body counts as `{}`. */
export function parseJson<S extends z.ZodType>(raw: Buffer, schema: S): z.output<S> {
  let value: unknown = {};
  if (raw.length > 0) {
    try {
      value = JSON.parse(raw.toString('utf8')) as unknown;
    } catch {
      throw badRequest('Parse Error', 'parseError');
    }
  }
  const parsed = schema.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw badRequest(`Invalid value for ${issue?.path.join('.') || 'request body'}: ${issue?.message ?? 'invalid'}`);
  }
  return parsed.data;
}

export async function readJsonBody<S extends z.ZodType>(req: IncomingMessage, schema: S): Promise<z.output<S>> {
  return parseJson(await readBody(req, 16 * 1024 * 1024), schema);
}

/**
 * Streams the request body into `path` (created/truncated, or appended to with `append`), feeding
 * `hasher` if given. Resolves with the number of bytes written and whether the body arrived
 * completely (false when the client went away mid-request). `skip` drops that many leading bytes.
 */
export async function bodyToFile(
  req: IncomingMessage,
  path: string,
  opts: { append?: boolean; hasher?: ObjectHasher; skip?: number } = {},
): Promise<{ written: number; complete: boolean }> {
  const out = createWriteStream(path, { flags: opts.append ? 'a' : 'w' });
  let writeError: unknown;
  out.on('error', (err) => (writeError ??= err));
  let written = 0;
  let skip = opts.skip ?? 0;
  let complete = true;
  try {
    for await (const chunk of req) {
      let buf = chunk as Buffer;
      if (skip > 0) {
        const n = Math.min(skip, buf.length);
        skip -= n;
        buf = buf.subarray(n);
        if (buf.length === 0) continue;
      }
      opts.hasher?.update(buf);
      written += buf.length;
      if (!out.write(buf)) await once(out, 'drain');
    }
  } catch {
    // Client went away (or the file write failed, which is rethrown below).
    complete = false;
  }
  if (!req.complete) complete = false;
  out.end();
  await finished(out).catch((err: unknown) => (writeError ??= err));
  if (writeError !== undefined) throw writeError;
  return { written, complete };
}
