/** Parsing of the `Content-Range` header used by resumable upload PUTs. */
import { badRequest } from './errors.js';

export type UploadRange =
  /** `bytes *\/*` or `bytes *\/N`: a status query, or (with N) a zero-byte finalizing request. */
  | { kind: 'query'; total?: number }
  /** `bytes A-B/N`, `bytes A-B/*`, `bytes A-*\/N`, `bytes A-*\/*` (or no header: `0-*\/*`). */
  | { kind: 'data'; start: number; end?: number; total?: number };

const NUM = (s: string): number => {
  const n = Number(s);
  if (!Number.isSafeInteger(n) || n < 0) throw badRequest(`Invalid Content-Range value: ${s}`);
  return n;
};

export function parseUploadRange(header: string | undefined): UploadRange {
  if (header === undefined || header.trim() === '') return { kind: 'data', start: 0 };
  const m = /^bytes\s+(?:(\*)|(\d+)-(\d+|\*))\/(\d+|\*)$/i.exec(header.trim());
  if (!m) throw badRequest(`Invalid Content-Range header: ${header}`);
  const total = m[4] === '*' ? undefined : NUM(m[4]!);
  if (m[1] === '*') return total === undefined ? { kind: 'query' } : { kind: 'query', total };
  const start = NUM(m[2]!);
  const end = m[3] === '*' ? undefined : NUM(m[3]!);
  if (end !== undefined && end < start) throw badRequest(`Invalid Content-Range header: ${header}`);
  if (total !== undefined && end !== undefined && end >= total) {
    throw badRequest(`Invalid Content-Range header: ${header}`);
  }
  const out: UploadRange = { kind: 'data', start };
  if (end !== undefined) out.end = end;
  if (total !== undefined) out.total = total;
  return out;
}

/** A parsed `Range: bytes=...` request header for downloads (single range only). */
export type ByteRange = { start: number; end: number } | 'unsatisfiable' | undefined;

export function parseByteRange(header: string | undefined, size: number): ByteRange {
  // An empty object has no satisfiable range; GCS serves it whole.
  if (!header || size === 0) return undefined;
  const m = /^bytes=\s*(\d*)\s*-\s*(\d*)\s*$/i.exec(header.trim());
  // Multiple or malformed ranges: serve the whole object, as servers may ignore Range.
  if (!m || (m[1] === '' && m[2] === '')) return undefined;
  if (m[1] === '') {
    const suffix = Number(m[2]);
    if (suffix === 0) return 'unsatisfiable';
    return { start: Math.max(0, size - suffix), end: size - 1 };
  }
  const start = Number(m[1]);
  const end = m[2] === '' ? size - 1 : Math.min(Number(m[2]), size - 1);
  if (start >= size || end < start) return 'unsatisfiable';
  return { start, end };
}
