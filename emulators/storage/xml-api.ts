/**
 * The XML API's simple upload (`PUT /BUCKET/OBJECT`, what `curl -T` and signed-URL uploads send): request headers to
 * object fields, expected hashes and preconditions; errors rendered as XML `<Error>` documents.
 */
import type { IncomingHttpHeaders } from 'node:http';
import { badRequest, type GcsError } from './errors.js';
import { mergeExpected, parseGoogHash, type ExpectedHashes } from './hashes.js';
import type { Preconditions } from './preconditions.js';
import type { ObjectFields, StringField } from './records.js';

export interface XmlUploadRequest {
  fields: ObjectFields;
  expected: ExpectedHashes;
  preconditions: Preconditions;
}

/** Standard headers stored as object fields (header name → field). */
const FIELD_HEADERS: readonly (readonly [string, StringField])[] = [
  ['content-type', 'contentType'],
  ['content-encoding', 'contentEncoding'],
  ['content-disposition', 'contentDisposition'],
  ['content-language', 'contentLanguage'],
  ['cache-control', 'cacheControl'],
  ['x-goog-custom-time', 'customTime'],
];

const PRECONDITION_HEADERS: readonly (readonly [string, keyof Preconditions])[] = [
  ['x-goog-if-generation-match', 'ifGenerationMatch'],
  ['x-goog-if-metageneration-match', 'ifMetagenerationMatch'],
];

const META_PREFIX = 'x-goog-meta-';

const first = (v: string | string[] | undefined): string | undefined => (Array.isArray(v) ? v[0] : v);

/** Reads an XML API upload's headers (Node lower-cases header names). */
export function parseXmlUploadHeaders(headers: IncomingHttpHeaders): XmlUploadRequest {
  const fields: ObjectFields = {};
  for (const [header, field] of FIELD_HEADERS) {
    const v = first(headers[header])?.trim();
    if (v) fields[field] = v;
  }
  const metadata: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (!name.startsWith(META_PREFIX) || name.length === META_PREFIX.length) continue;
    metadata[name.slice(META_PREFIX.length)] = Array.isArray(value) ? value.join(', ') : (value ?? '');
  }
  if (Object.keys(metadata).length > 0) fields.metadata = metadata;

  const preconditions: Preconditions = {};
  for (const [header, key] of PRECONDITION_HEADERS) {
    const v = first(headers[header])?.trim();
    if (v === undefined || v === '') continue;
    if (!/^\d+$/.test(v)) throw badRequest(`Invalid ${header} header: ${v} (expected a generation number).`);
    preconditions[key] = BigInt(v).toString();
  }

  const md5 = first(headers['content-md5'])?.trim();
  if (md5 !== undefined && !/^[A-Za-z0-9+/]{22}==$/.test(md5)) {
    throw badRequest(`Invalid Content-MD5 header: ${md5} (expected the base64 of a 16-byte MD5 digest).`);
  }
  const expected = mergeExpected(md5 ? { md5Hash: md5 } : {}, parseGoogHash(headers['x-goog-hash']));
  return { fields, expected, preconditions };
}

/** XML API error codes for the JSON API reasons the emulator raises. */
const XML_CODES: Record<string, string> = {
  notFound: 'NoSuchKey',
  conditionNotMet: 'PreconditionFailed',
  invalid: 'InvalidArgument',
  required: 'MissingParameter',
  conflict: 'Conflict',
  methodNotAllowed: 'MethodNotAllowed',
  uploadTooLarge: 'EntityTooLarge',
  backendError: 'InternalError',
};

const escapeXml = (s: string): string =>
  s.replace(/[<>&'"]/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', "'": '&apos;', '"': '&quot;' })[c]!);

export function xmlErrorBody(err: GcsError): string {
  let code = XML_CODES[err.reason] ?? 'InvalidRequest';
  if (err.reason === 'notFound' && /bucket does not exist/i.test(err.message)) code = 'NoSuchBucket';
  if (/hash .* doesn't match/i.test(err.message)) code = 'BadDigest';
  return (
    `<?xml version='1.0' encoding='UTF-8'?><Error><Code>${code}</Code>` +
    `<Message>${escapeXml(err.message)}</Message></Error>`
  );
}

/** The ETag the XML API answers an upload with: the MD5 in hex, quoted. */
export function xmlEtag(md5Base64: string): string {
  return `"${Buffer.from(md5Base64, 'base64').toString('hex')}"`;
}
