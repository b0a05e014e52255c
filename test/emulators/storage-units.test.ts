import { randomBytes } from 'node:crypto';
import { CRC32C } from '@google-cloud/storage';
import test from 'ava';
import { parseByteRange, parseUploadRange } from '../../emulators/storage/content-range.js';
import { ObjectHasher, digestBuffer, parseGoogHash } from '../../emulators/storage/hashes.js';
import { listPage, parseListQuery } from '../../emulators/storage/listing.js';
import { boundaryOf, parseMultipart } from '../../emulators/storage/multipart.js';
import { evaluatePreconditions } from '../../emulators/storage/preconditions.js';
import { objectEtag } from '../../emulators/storage/resource.js';
import { route } from '../../emulators/storage/router.js';

test('crc32c matches the RFC 3720 check value and the client library, one-shot or in chunks', (t) => {
  t.is(Buffer.from(digestBuffer(Buffer.from('123456789')).crc32c, 'base64').readUInt32BE(0), 0xe3069283);
  for (const size of [0, 1, 31, 4096, 100_003]) {
    const data = randomBytes(size);
    const reference = new CRC32C();
    reference.update(data);
    t.is(digestBuffer(data).crc32c, reference.toString(), `size ${size}`);
  }
  // Incremental updates equal one-shot, chunks given as views into a larger buffer included.
  const data = randomBytes(10_000);
  const h = new ObjectHasher();
  h.update(data.subarray(0, 3333));
  h.update(new Uint8Array(data.buffer, data.byteOffset + 3333, 10_000 - 3333));
  t.deepEqual(h.digest(), digestBuffer(data));
});

test('x-goog-hash parsing', (t) => {
  t.deepEqual(parseGoogHash('crc32c=AAAAAA==,md5=abc=='), { crc32c: 'AAAAAA==', md5Hash: 'abc==' });
  t.deepEqual(parseGoogHash(['crc32c=x', 'md5=y']), { crc32c: 'x', md5Hash: 'y' });
  t.deepEqual(parseGoogHash(undefined), {});
});

test('multipart/related parsing keeps binary bodies intact', (t) => {
  const boundary = 'b0undary';
  t.is(boundaryOf(`multipart/related; boundary=${boundary}`), boundary);
  t.is(boundaryOf('multipart/related; boundary="quoted b"'), 'quoted b');
  t.is(boundaryOf('application/json'), undefined);
  const media = Buffer.concat([randomBytes(1000), Buffer.from(`\r\n--${boundary}x`), randomBytes(10)]);
  const body = Buffer.concat([
    Buffer.from(`--${boundary}\r\nContent-Type: application/json\r\n\r\n{"name":"x"}\r\n`),
    Buffer.from(`--${boundary}\r\nContent-Type: image/png\r\n\r\n`),
    media,
    Buffer.from(`\r\n--${boundary}--`),
  ]);
  const parts = parseMultipart(body, boundary);
  t.is(parts.length, 2);
  t.is(parts[0]!.body.toString(), '{"name":"x"}');
  t.is(parts[1]!.headers['content-type'], 'image/png');
  // The media part legitimately contains "\r\n--b0undaryx"; only the exact boundary line ends it.
  t.true(parts[1]!.body.equals(media));
});

test('Content-Range parsing for resumable uploads', (t) => {
  t.deepEqual(parseUploadRange('bytes */*'), { kind: 'query' });
  t.deepEqual(parseUploadRange('bytes */100'), { kind: 'query', total: 100 });
  t.deepEqual(parseUploadRange('bytes 0-99/200'), { kind: 'data', start: 0, end: 99, total: 200 });
  t.deepEqual(parseUploadRange('bytes 100-199/*'), { kind: 'data', start: 100, end: 199 });
  t.deepEqual(parseUploadRange('bytes 0-*/*'), { kind: 'data', start: 0 });
  t.deepEqual(parseUploadRange(undefined), { kind: 'data', start: 0 });
  t.throws(() => parseUploadRange('bytes 5-1/10'));
  t.throws(() => parseUploadRange('bytes 0-10/10'));
  t.throws(() => parseUploadRange('items 0-1/2'));
});

test('Range parsing for downloads', (t) => {
  t.deepEqual(parseByteRange('bytes=0-9', 100), { start: 0, end: 9 });
  t.deepEqual(parseByteRange('bytes=90-', 100), { start: 90, end: 99 });
  t.deepEqual(parseByteRange('bytes=-10', 100), { start: 90, end: 99 });
  t.deepEqual(parseByteRange('bytes=50-500', 100), { start: 50, end: 99 });
  t.is(parseByteRange('bytes=100-', 100), 'unsatisfiable');
  t.is(parseByteRange('bytes=0-1,5-6', 100), undefined);
  t.is(parseByteRange(undefined, 100), undefined);
});

test('listing: delimiter collapsing and page tokens', (t) => {
  const objs = ['a', 'd/', 'd/1', 'd/2', 'd/e/3', 'f/1', 'g'].map((name) => ({ name }));
  const q = (params: Record<string, string>) => parseListQuery(new URLSearchParams(params));
  const page = listPage(objs, q({ delimiter: '/' }));
  t.deepEqual(
    page.items.map((o) => o.name),
    ['a', 'g'],
  );
  t.deepEqual(page.prefixes, ['d/', 'f/']);
  const trailing = listPage(objs, q({ delimiter: '/', includeTrailingDelimiter: 'true' }));
  t.deepEqual(
    trailing.items.map((o) => o.name),
    ['a', 'd/', 'g'],
  );
  const inD = listPage(objs, q({ prefix: 'd/', delimiter: '/' }));
  t.deepEqual(
    inD.items.map((o) => o.name),
    ['d/', 'd/1', 'd/2'],
  );
  t.deepEqual(inD.prefixes, ['d/e/']);

  // Paging through with one entry per page visits every entry exactly once.
  const seen: string[] = [];
  let token: string | undefined;
  do {
    const p = listPage(objs, q({ delimiter: '/', maxResults: '1', ...(token ? { pageToken: token } : {}) }));
    seen.push(...p.items.map((o) => o.name), ...p.prefixes);
    token = p.nextPageToken;
  } while (token);
  t.deepEqual(seen, ['a', 'd/', 'f/', 'g']);

  const offsets = listPage(objs, q({ startOffset: 'd/2', endOffset: 'g' }));
  t.deepEqual(
    offsets.items.map((o) => o.name),
    ['d/2', 'd/e/3', 'f/1'],
  );
});

test('preconditions', (t) => {
  const cur = { generation: '10', metageneration: '2' };
  t.is(evaluatePreconditions(cur, { ifGenerationMatch: '10' }, 'write'), undefined);
  t.is(evaluatePreconditions(cur, { ifGenerationMatch: '0' }, 'write')?.code, 412);
  t.is(evaluatePreconditions(undefined, { ifGenerationMatch: '0' }, 'write'), undefined);
  t.is(evaluatePreconditions(undefined, { ifGenerationMatch: '10' }, 'write')?.code, 412);
  t.is(evaluatePreconditions(cur, { ifGenerationNotMatch: '10' }, 'write')?.code, 412);
  t.is(evaluatePreconditions(cur, { ifGenerationNotMatch: '10' }, 'read')?.code, 304);
  t.is(evaluatePreconditions(cur, { ifMetagenerationMatch: '1' }, 'write')?.code, 412);
  t.is(evaluatePreconditions(cur, { ifMetagenerationNotMatch: '1' }, 'write'), undefined);
});

test('etag is the GCS protobuf-style encoding', (t) => {
  // generation 1, metageneration 1 -> bytes 08 01 10 01
  t.is(objectEtag('1', '1'), Buffer.from([8, 1, 16, 1]).toString('base64'));
});

test('routing', (t) => {
  t.deepEqual(route('/storage/v1/b', 'GET'), { kind: 'buckets' });
  t.deepEqual(route('/b/bkt', 'GET'), { kind: 'bucket', bucket: 'bkt' });
  t.deepEqual(route('/storage/v1/b/bkt/o/a%2Fb.txt', 'GET'), { kind: 'object', bucket: 'bkt', object: 'a/b.txt' });
  t.deepEqual(route('/download/storage/v1/b/bkt/o/raw/slash.txt', 'GET'), {
    kind: 'download',
    bucket: 'bkt',
    object: 'raw/slash.txt',
  });
  t.deepEqual(route('/upload/storage/v1/b/bkt/o', 'POST'), { kind: 'upload', bucket: 'bkt' });
  t.deepEqual(route('/storage/v1/b/s/o/x%2Fy/rewriteTo/b/d/o/z', 'POST'), {
    kind: 'copy',
    op: 'rewriteTo',
    bucket: 's',
    object: 'x/y',
    destBucket: 'd',
    destObject: 'z',
  });
  t.deepEqual(route('/b/s/o/x/compose', 'POST'), { kind: 'compose', bucket: 's', object: 'x' });
  t.deepEqual(route('/b/s/o/x/compose', 'GET'), { kind: 'object', bucket: 's', object: 'x/compose' });
  t.deepEqual(route('/_kiln/subscriptions/abc', 'DELETE'), { kind: 'admin', segments: ['subscriptions', 'abc'] });
  t.deepEqual(route('/elsewhere', 'GET'), { kind: 'unknown' });
});
