import { createHash, randomBytes } from 'node:crypto';
import test from 'ava';
import { GcsError } from '../../emulators/storage/errors.js';
import { applyFieldMask, parseFieldMask, selectFields } from '../../emulators/storage/fields.js';
import { boundaryOf, parseContentType, parseMultipart } from '../../emulators/storage/multipart.js';
import { route } from '../../emulators/storage/router.js';
import { parseXmlUploadHeaders, xmlErrorBody, xmlEtag } from '../../emulators/storage/xml-api.js';

/** What gcloud (Python's email package) sends: single-quoted `=`-padded boundary, LF line breaks, MIME-Version. */
const GCLOUD_BOUNDARY = '===============0802813245801638175==';
const gcloudBody = (media: Buffer): Buffer =>
  Buffer.concat([
    Buffer.from(
      `--${GCLOUD_BOUNDARY}\nContent-Type: application/json\nMIME-Version: 1.0\n\n` +
        `{"bucket": "b", "contentType": "application/x-hdf5", "name": "small.h5"}\n` +
        `--${GCLOUD_BOUNDARY}\nContent-Type: application/x-hdf5\nMIME-Version: 1.0\nContent-Transfer-Encoding: binary\n\n`,
    ),
    media,
    Buffer.from(`\n--${GCLOUD_BOUNDARY}--\n`),
  ]);

test('boundaryOf reads the boundary unquoted, double-quoted (with escapes) and single-quoted', (t) => {
  t.is(boundaryOf(`multipart/related; boundary='${GCLOUD_BOUNDARY}'`), GCLOUD_BOUNDARY);
  t.is(boundaryOf('multipart/related; boundary="a b;c"'), 'a b;c');
  t.is(boundaryOf('multipart/related; boundary="q\\"uote"'), 'q"uote');
  t.is(boundaryOf('Multipart/Related;BOUNDARY=plain_1; type=application/json'), 'plain_1');
  t.is(boundaryOf('multipart/related; type="application/json"; boundary=xyz'), 'xyz');
  t.is(boundaryOf('multipart/related'), undefined);
  t.is(boundaryOf('multipart/related; boundary=""'), undefined);
  t.is(boundaryOf('application/json; boundary=x'), undefined);
  t.deepEqual(parseContentType('text/plain; charset="utf-8"'), { type: 'text/plain', params: { charset: 'utf-8' } });
});

test("gcloud's multipart body (LF line breaks, quoted boundary) splits into metadata and exact media bytes", (t) => {
  const boundary = boundaryOf(`multipart/related; boundary='${GCLOUD_BOUNDARY}'`)!;
  // media that ends in CR and LF bytes and contains the boundary mid-line must survive byte for byte
  const media = Buffer.concat([randomBytes(4096), Buffer.from(`x--${GCLOUD_BOUNDARY}\r\n\r`)]);
  const parts = parseMultipart(gcloudBody(media), boundary);
  t.is(parts.length, 2);
  t.deepEqual(JSON.parse(parts[0]!.body.toString()), {
    bucket: 'b',
    contentType: 'application/x-hdf5',
    name: 'small.h5',
  });
  t.is(parts[1]!.headers['content-type'], 'application/x-hdf5');
  t.is(parts[1]!.headers['mime-version'], '1.0');
  t.true(parts[1]!.body.equals(media));
});

test('multipart: preamble, epilogue, transport padding, header case and folding, headerless parts', (t) => {
  const media = randomBytes(300);
  const body = Buffer.concat([
    Buffer.from('This is the preamble.\r\n--B \t\r\nCONTENT-type: application/json;\r\n charset=UTF-8\r\n\r\n{"a":1}'),
    Buffer.from('\r\n--B\r\n\r\n'),
    media,
    Buffer.from('\r\n--B--  \r\nThis is the epilogue.\r\n--B\r\nnot a part\r\n'),
  ]);
  const parts = parseMultipart(body, 'B');
  t.is(parts.length, 2);
  t.is(parts[0]!.headers['content-type'], 'application/json; charset=UTF-8');
  t.is(parts[0]!.body.toString(), '{"a":1}');
  t.deepEqual(parts[1]!.headers, {});
  t.true(parts[1]!.body.equals(media));
});

test('multipart: CRLF bodies keep a trailing LF of the content, empty bodies and base64 parts decode', (t) => {
  const body = Buffer.from(
    '--x\r\nContent-Type: text/plain\r\n\r\nline\n\r\n' +
      '--x\r\nContent-Type: text/plain\r\n\r\n\r\n' +
      '--x\r\nContent-Transfer-Encoding: BASE64\r\n\r\naGVsbG8g\r\nd29ybGQ=\r\n' +
      '--x--',
  );
  const parts = parseMultipart(body, 'x');
  t.deepEqual(
    parts.map((p) => p.body.toString()),
    ['line\n', '', 'hello world'],
  );
});

test('multipart: errors name what is missing', (t) => {
  t.throws(() => parseMultipart(Buffer.from('--other\r\n\r\nx\r\n--other--'), 'B'), {
    instanceOf: GcsError,
    message: /boundary not found \(expected a line "--B"\)/,
  });
  t.throws(() => parseMultipart(Buffer.from('--B\r\nContent-Type: a\r\n\r\nx'), 'B'), {
    message: /missing closing boundary "--B--"/,
  });
  // "--Bx" is not a delimiter of boundary B
  t.throws(() => parseMultipart(Buffer.from('--Bx\r\n\r\nx\r\n--Bx--'), 'B'), { message: /boundary not found/ });
  t.throws(() => parseMultipart(Buffer.from('--B\r\nno colon here\r\n\r\nx\r\n--B--'), 'B'), {
    message: /header line without a colon/,
  });
  t.throws(() => parseMultipart(Buffer.from('--B\r\nContent-Transfer-Encoding: uuencode\r\n\r\nx\r\n--B--'), 'B'), {
    message: /Unsupported Content-Transfer-Encoding.*uuencode/,
  });
});

test('fields: paths, sub-selections, wildcards and arrays narrow a response', (t) => {
  const list = {
    kind: 'storage#objects',
    prefixes: ['d/'],
    items: [
      { name: 'a', size: '1', generation: '5', metadata: { k: 'v', j: 'w' } },
      { name: 'b', size: '2', generation: '6' },
    ],
    nextPageToken: 'tok',
  };
  t.deepEqual(selectFields(list, 'prefixes,items/name,items/size,items/generation,nextPageToken'), {
    prefixes: ['d/'],
    items: [
      { name: 'a', size: '1', generation: '5' },
      { name: 'b', size: '2', generation: '6' },
    ],
    nextPageToken: 'tok',
  });
  t.deepEqual(selectFields(list, 'items(name,metadata/k)'), {
    items: [{ name: 'a', metadata: { k: 'v' } }, { name: 'b' }],
  });
  t.deepEqual(selectFields(list, 'kind,items/*'), { kind: 'storage#objects', items: list.items });
  t.is(selectFields(list, null), list);
  t.is(selectFields(list, ''), list);
  t.deepEqual(applyFieldMask({ a: 1 }, parseFieldMask('b')), {});
  t.throws(() => parseFieldMask('items(name'), { message: /expected "\)"/ });
  t.throws(() => parseFieldMask('a,,b'), { message: /expected a field name/ });
});

test('XML API upload headers become fields, metadata, expected hashes and preconditions', (t) => {
  const md5 = createHash('md5').update('x').digest('base64');
  const req = parseXmlUploadHeaders({
    'content-type': 'application/x-hdf5',
    'cache-control': 'no-cache',
    'x-goog-meta-owner': 'ada',
    'x-goog-meta-run-id': '7',
    'content-md5': md5,
    'x-goog-hash': 'crc32c=AAAAAA==',
    'x-goog-if-generation-match': '0',
  });
  t.deepEqual(req.fields, {
    contentType: 'application/x-hdf5',
    cacheControl: 'no-cache',
    metadata: { owner: 'ada', 'run-id': '7' },
  });
  t.deepEqual(req.expected, { md5Hash: md5, crc32c: 'AAAAAA==' });
  t.deepEqual(req.preconditions, { ifGenerationMatch: '0' });
  t.deepEqual(parseXmlUploadHeaders({}), { fields: {}, expected: {}, preconditions: {} });
  t.throws(() => parseXmlUploadHeaders({ 'content-md5': 'abc' }), { message: /Invalid Content-MD5/ });
  t.throws(() => parseXmlUploadHeaders({ 'x-goog-if-generation-match': 'soon' }), {
    message: /x-goog-if-generation-match/,
  });
  t.is(xmlEtag(md5), `"${createHash('md5').update('x').digest('hex')}"`);
  t.regex(
    xmlErrorBody(new GcsError(404, 'notFound', 'The specified bucket does not exist.')),
    /<Error><Code>NoSuchBucket<\/Code><Message>The specified bucket does not exist.<\/Message><\/Error>/,
  );
  t.regex(xmlErrorBody(new GcsError(412, 'conditionNotMet', 'a < b')), /<Code>PreconditionFailed<\/Code>.*a &lt; b/);
});

test('routes: the resumable upload path, XML PUT uploads and storageLayout', (t) => {
  t.deepEqual(route('/resumable/upload/storage/v1/b/bkt/o', 'POST'), { kind: 'upload', bucket: 'bkt' });
  t.deepEqual(route('/upload/storage/v1/b/bkt/o', 'PUT'), { kind: 'upload', bucket: 'bkt' });
  t.deepEqual(route('/bkt/dir/m%201.h5', 'PUT'), { kind: 'xmlUpload', bucket: 'bkt', object: 'dir/m 1.h5' });
  t.deepEqual(route('/bkt/m.h5', 'GET'), { kind: 'download', bucket: 'bkt', object: 'm.h5', xml: true });
  t.deepEqual(route('/storage/v1/b/bkt/storageLayout', 'GET'), { kind: 'storageLayout', bucket: 'bkt' });
  t.deepEqual(route('/storage/v1/b/bkt/o/storageLayout', 'GET'), {
    kind: 'object',
    bucket: 'bkt',
    object: 'storageLayout',
  });
});
