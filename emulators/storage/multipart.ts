/** Minimal multipart/related parser for `uploadType=multipart` bodies (metadata part + media part). */
import { badRequest } from './errors.js';

export interface MultipartPart {
  /** Lower-cased header names. */
  headers: Record<string, string>;
  body: Buffer;
}

export function boundaryOf(contentType: string | undefined): string | undefined {
  if (!contentType || !/^multipart\//i.test(contentType.trim())) return undefined;
  const m = /;\s*boundary=(?:"([^"]+)"|([^;\s]+))/i.exec(contentType);
  return m ? (m[1] ?? m[2]) : undefined;
}

function parseHeaders(block: string): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const line of block.split(/\r?\n/)) {
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  return headers;
}

/**
 * Finds the next delimiter line at or after `from`, returning the index of its leading LF. A
 * delimiter only counts at the start of a line and when followed by `--` or the end of the line,
 * so binary content may contain the boundary string itself.
 */
function findDelimiter(body: Buffer, delimiter: Buffer, from: number): number {
  const needle = Buffer.concat([Buffer.from('\n'), delimiter]);
  for (let at = body.indexOf(needle, from); at >= 0; at = body.indexOf(needle, at + 1)) {
    let p = at + needle.length;
    if (body[p] === 0x2d && body[p + 1] === 0x2d) return at;
    while (body[p] === 0x20 || body[p] === 0x09) p++;
    if (p >= body.length || body[p] === 0x0d || body[p] === 0x0a) return at;
  }
  return -1;
}

export function parseMultipart(body: Buffer, boundary: string): MultipartPart[] {
  const delimiter = Buffer.from(`--${boundary}`);
  const parts: MultipartPart[] = [];
  let pos = body.indexOf(delimiter);
  if (pos < 0) throw badRequest('Malformed multipart body: boundary not found.');
  for (;;) {
    pos += delimiter.length;
    // Closing delimiter `--boundary--`.
    if (body[pos] === 0x2d && body[pos + 1] === 0x2d) break;
    // Skip transport padding and the CRLF after the delimiter.
    while (body[pos] === 0x20 || body[pos] === 0x09) pos++;
    if (body[pos] === 0x0d) pos++;
    if (body[pos] === 0x0a) pos++;
    let headerEnd = body.indexOf('\r\n\r\n', pos);
    let bodyStart = headerEnd + 4;
    const lfOnly = body.indexOf('\n\n', pos);
    if (headerEnd < 0 || (lfOnly >= 0 && lfOnly < headerEnd)) {
      headerEnd = lfOnly;
      bodyStart = lfOnly + 2;
    }
    // A part with no headers starts directly with the blank line.
    if (body[pos] === 0x0d && body[pos + 1] === 0x0a) {
      headerEnd = pos;
      bodyStart = pos + 2;
    } else if (body[pos] === 0x0a) {
      headerEnd = pos;
      bodyStart = pos + 1;
    }
    if (headerEnd < 0) throw badRequest('Malformed multipart body: missing part headers.');
    const headers = parseHeaders(body.subarray(pos, headerEnd).toString('utf8'));
    const next = findDelimiter(body, delimiter, bodyStart);
    if (next < 0) throw badRequest('Malformed multipart body: missing closing boundary.');
    const bodyEnd = next > bodyStart && body[next - 1] === 0x0d ? next - 1 : next;
    parts.push({ headers, body: body.subarray(bodyStart, Math.max(bodyStart, bodyEnd)) });
    pos = next + 1;
  }
  return parts;
}
