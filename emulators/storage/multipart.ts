/**
 * multipart/related parsing for `uploadType=multipart` bodies (metadata part + media part), per RFC 2046 §5.1.1 and
 * as real clients send them:
 *  - the boundary parameter unquoted, in double quotes (RFC 2045 quoted-string, backslash escapes) or in single
 *    quotes (Python's email package, hence gcloud: `boundary='===============123=='`);
 *  - a preamble before the first delimiter and an epilogue after the close delimiter (both ignored);
 *  - transport padding (spaces, tabs) after a delimiter;
 *  - CRLF line breaks, or bare LF throughout (the break before a delimiter belongs to the delimiter; which one the
 *    body uses is read from the first delimiter line, so content ending in a CR byte survives an LF body);
 *  - part headers in any case, folded over several lines, and a part with no headers at all;
 *  - Content-Transfer-Encoding binary/8bit/7bit (as is) or base64 (decoded).
 */
import { badRequest } from './errors.js';

export interface MultipartPart {
  /** Lower-cased header names; folded values unfolded. */
  headers: Record<string, string>;
  body: Buffer;
}

const LF = 0x0a;
const CR = 0x0d;
const isPadding = (b: number | undefined): boolean => b === 0x20 || b === 0x09;

/** Splits `type/subtype; a=b; c="d"` into its lower-cased media type and parameters (names lower-cased). */
export function parseContentType(value: string): { type: string; params: Record<string, string> } {
  const semi = value.indexOf(';');
  const type = (semi < 0 ? value : value.slice(0, semi)).trim().toLowerCase();
  const params: Record<string, string> = {};
  let rest = semi < 0 ? '' : value.slice(semi + 1);
  for (;;) {
    const m = /^\s*([^\s=;]+)\s*=\s*/.exec(rest);
    if (!m) break;
    rest = rest.slice(m[0].length);
    let v: string;
    if (rest.startsWith('"')) {
      // RFC 2045 quoted-string: a backslash escapes the next character.
      let i = 1;
      v = '';
      for (; i < rest.length && rest[i] !== '"'; i++)
        v += rest[i] === '\\' && i + 1 < rest.length ? rest[++i] : rest[i];
      rest = rest.slice(i + 1);
    } else if (rest.startsWith("'") && rest.indexOf("'", 1) > 0) {
      const end = rest.indexOf("'", 1);
      v = rest.slice(1, end);
      rest = rest.slice(end + 1);
    } else {
      const end = rest.search(/[;\s]/);
      v = end < 0 ? rest : rest.slice(0, end);
      rest = end < 0 ? '' : rest.slice(end);
    }
    params[m[1]!.toLowerCase()] ??= v;
    const next = rest.indexOf(';');
    if (next < 0) break;
    rest = rest.slice(next + 1);
  }
  return { type, params };
}

/** The boundary of a `multipart/*` Content-Type, or undefined when it is not multipart or names none. */
export function boundaryOf(contentType: string | undefined): string | undefined {
  if (!contentType) return undefined;
  const { type, params } = parseContentType(contentType);
  if (!type.startsWith('multipart/')) return undefined;
  const b = params['boundary'];
  return b ? b : undefined;
}

function parseHeaders(block: string): Record<string, string> {
  const headers: Record<string, string> = {};
  const lines: string[] = [];
  for (const line of block.split(/\r?\n/)) {
    // A line starting with white space continues the previous header (RFC 5322 folding).
    if (isPadding(line.charCodeAt(0)) && lines.length > 0) lines[lines.length - 1] += ` ${line.trim()}`;
    else if (line !== '') lines.push(line);
  }
  for (const line of lines) {
    const colon = line.indexOf(':');
    if (colon <= 0)
      throw badRequest(`Malformed multipart body: part header line without a colon: ${line.slice(0, 80)}`);
    headers[line.slice(0, colon).trim().toLowerCase()] ??= line.slice(colon + 1).trim();
  }
  return headers;
}

interface Delimiter {
  /** Start of the line break before the delimiter (or of the delimiter itself when there is none). */
  before: number;
  /** First byte after the delimiter line (after its line break). */
  after: number;
  close: boolean;
  /** The delimiter line ended with a bare LF (the body uses LF line breaks). */
  lf: boolean;
}

/**
 * The delimiter at `at` (which must start a line), or undefined when the bytes there only begin with the boundary
 * (binary content may contain the boundary string; only a whole delimiter line counts). `lfBody`: line breaks are
 * bare LFs, so a CR before the delimiter's LF is content.
 */
function delimiterAt(body: Buffer, at: number, dash: Buffer, lfBody: boolean): Delimiter | undefined {
  let p = at + dash.length;
  const close = body[p] === 0x2d && body[p + 1] === 0x2d;
  if (close) p += 2;
  while (isPadding(body[p])) p++;
  if (p < body.length && body[p] !== CR && body[p] !== LF) return undefined;
  if (!close && p >= body.length) return undefined;
  const lf = body[p] === LF;
  if (body[p] === CR && body[p + 1] === LF) p += 2;
  else if (body[p] === LF || body[p] === CR) p += 1;
  let before = at;
  if (at > 0 && body[at - 1] === LF) before = !lfBody && at >= 2 && body[at - 2] === CR ? at - 2 : at - 1;
  return { before, after: p, close, lf };
}

function findDelimiters(body: Buffer, boundary: string): Delimiter[] {
  const dash = Buffer.from(`--${boundary}`);
  const found: Delimiter[] = [];
  for (let at = body.indexOf(dash); at >= 0; at = body.indexOf(dash, at + 1)) {
    if (at > 0 && body[at - 1] !== LF) continue;
    const d = delimiterAt(body, at, dash, found[0]?.lf ?? false);
    if (!d) continue;
    found.push(d);
    if (d.close) break;
    at = d.after - 1;
  }
  return found;
}

function decodeBody(headers: Record<string, string>, raw: Buffer): Buffer {
  const encoding = (headers['content-transfer-encoding'] ?? 'binary').toLowerCase();
  if (encoding === 'binary' || encoding === '8bit' || encoding === '7bit') return raw;
  if (encoding === 'base64') return Buffer.from(raw.toString('latin1').replace(/\s+/g, ''), 'base64');
  throw badRequest(`Unsupported Content-Transfer-Encoding in multipart body: ${encoding} (send binary or base64).`);
}

function splitPart(segment: Buffer): MultipartPart {
  // No headers: the part starts with the blank line.
  if (segment[0] === LF) return { headers: {}, body: segment.subarray(1) };
  if (segment[0] === CR && segment[1] === LF) return { headers: {}, body: segment.subarray(2) };
  let end = -1;
  let bodyStart = segment.length;
  for (let i = segment.indexOf(LF); i >= 0; i = segment.indexOf(LF, i + 1)) {
    if (segment[i + 1] === LF) {
      end = i + 1;
      bodyStart = i + 2;
      break;
    }
    if (segment[i + 1] === CR && segment[i + 2] === LF) {
      end = i + 1;
      bodyStart = i + 3;
      break;
    }
  }
  // Headers only (RFC 2046 allows a part with no body).
  if (end < 0) end = segment.length;
  const headers = parseHeaders(segment.subarray(0, end).toString('utf8'));
  return { headers, body: decodeBody(headers, segment.subarray(bodyStart)) };
}

export function parseMultipart(body: Buffer, boundary: string): MultipartPart[] {
  const delimiters = findDelimiters(body, boundary);
  if (delimiters.length === 0) {
    throw badRequest(`Malformed multipart body: boundary not found (expected a line "--${boundary}").`);
  }
  const last = delimiters[delimiters.length - 1]!;
  if (!last.close) throw badRequest(`Malformed multipart body: missing closing boundary "--${boundary}--".`);
  const parts: MultipartPart[] = [];
  for (let i = 0; i + 1 < delimiters.length; i++) {
    const from = delimiters[i]!.after;
    parts.push(splitPart(body.subarray(from, Math.max(from, delimiters[i + 1]!.before))));
  }
  return parts;
}
