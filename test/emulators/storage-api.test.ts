import { createHash, randomBytes } from 'node:crypto';
import { CRC32C, Storage, type File } from '@google-cloud/storage';
import anyTest, { type TestFn } from 'ava';
import { startTestEmulator, type TestEmulator } from '../../emulators/storage/testing.js';

const test = anyTest as TestFn<{ emu: TestEmulator; storage: Storage }>;

const md5 = (b: Buffer): string => createHash('md5').update(b).digest('base64');
const crc32c = (b: Buffer): string => {
  const c = new CRC32C();
  c.update(b);
  return c.toString();
};
let seq = 0;
const uniqueBucket = (): string => `kiln-api-${process.pid}-${++seq}`;

/** Error code as the client reports it (ApiError.code, or GaxiosError status for resumable calls). */
function statusOf(err: unknown): number | undefined {
  const e = err as { code?: unknown; status?: unknown; response?: { status?: unknown } };
  if (typeof e.code === 'number') return e.code;
  if (typeof e.status === 'number') return e.status;
  if (typeof e.response?.status === 'number') return e.response.status;
  return undefined;
}

test.before(async (t) => {
  const emu = await startTestEmulator();
  t.context = { emu, storage: new Storage({ apiEndpoint: emu.url, projectId: 'kiln-local' }) };
});

test.after.always(async (t) => {
  await t.context.emu?.dispose();
});

test('bucket create, get, list and delete', async (t) => {
  const { storage } = t.context;
  const name = uniqueBucket();
  const [bucket] = await storage.createBucket(name);
  t.is(bucket.name, name);
  const [meta] = await bucket.getMetadata();
  t.is(meta.name, name);
  t.is(meta.kind, 'storage#bucket');
  t.true((await bucket.exists())[0]);

  const [buckets] = await storage.getBuckets();
  t.true(buckets.some((b) => b.name === name));

  const err = await t.throwsAsync(storage.createBucket(name));
  t.is(statusOf(err), 409);

  await bucket.file('keep.txt').save('x', { resumable: false });
  const notEmpty = await t.throwsAsync(bucket.delete());
  t.is(statusOf(notEmpty), 409);
  await bucket.file('keep.txt').delete();

  const [labelled] = await bucket.setMetadata({ labels: { team: 'kiln', tmp: 'x' } });
  t.deepEqual(labelled.labels, { team: 'kiln', tmp: 'x' });
  const [unlabelled] = await bucket.setMetadata({ labels: { tmp: null } });
  t.deepEqual(unlabelled.labels, { team: 'kiln' });
  t.is(unlabelled.metageneration, '3');

  await bucket.delete();
  t.false((await bucket.exists())[0]);
  const missing = await t.throwsAsync(bucket.getMetadata());
  t.is(statusOf(missing), 404);
});

test('simple (multipart) upload with metadata, download and hashes', async (t) => {
  const [bucket] = await t.context.storage.createBucket(uniqueBucket());
  const data = Buffer.from('hello world');
  const file = bucket.file('docs/hello.txt');
  await file.save(data, {
    resumable: false,
    metadata: { contentType: 'text/plain', cacheControl: 'no-cache', metadata: { stage: 'compile', n: '1' } },
  });

  const [meta] = await file.getMetadata();
  t.is(meta.kind, 'storage#object');
  t.is(meta.name, 'docs/hello.txt');
  t.is(meta.bucket, bucket.name);
  t.is(meta.contentType, 'text/plain');
  t.is(meta.cacheControl, 'no-cache');
  t.is(meta.size, String(data.length));
  t.is(meta.md5Hash, md5(data));
  t.is(meta.crc32c, crc32c(data));
  t.is(meta.crc32c, 'yZRlqg=='); // big-endian CRC32C of "hello world" (0xc99465aa)
  t.deepEqual(meta.metadata, { stage: 'compile', n: '1' });
  t.is(meta.metageneration, '1');
  t.regex(String(meta.generation), /^\d{16}$/);
  t.is(meta.id, `${bucket.name}/docs/hello.txt/${meta.generation}`);
  t.truthy(meta.etag);
  t.truthy(meta.timeCreated);
  t.truthy(meta.updated);
  t.truthy(meta.selfLink);
  t.truthy(meta.mediaLink);

  const [downloaded] = await file.download();
  t.deepEqual(downloaded, data);
  const [ranged] = await file.download({ start: 6, end: 10 });
  t.is(ranged.toString(), 'world');
  const [tail] = await file.download({ end: -5 } as { end: number });
  t.is(tail.toString(), 'world');
});

test('large resumable upload (single request) round-trips and reports correct hashes', async (t) => {
  const [bucket] = await t.context.storage.createBucket(uniqueBucket());
  const data = randomBytes(6 * 1024 * 1024 + 517);
  const file = bucket.file('models/large.tflite');
  await file.save(data, { resumable: true, metadata: { contentType: 'application/octet-stream' } });
  const [meta] = await file.getMetadata();
  t.is(meta.size, String(data.length));
  t.is(meta.md5Hash, md5(data));
  t.is(meta.crc32c, crc32c(data));
  const [downloaded] = await file.download();
  t.true(downloaded.equals(data));
});

test('large resumable upload in chunks (308 Resume Incomplete between chunks)', async (t) => {
  const [bucket] = await t.context.storage.createBucket(uniqueBucket());
  const data = randomBytes(6 * 1024 * 1024 + 1234);
  const file = bucket.file('models/chunked.bin');
  await file.save(data, { resumable: true, chunkSize: 1024 * 1024, metadata: { metadata: { chunked: 'yes' } } });
  const [meta] = await file.getMetadata();
  t.is(meta.size, String(data.length));
  t.is(meta.md5Hash, md5(data));
  t.is(meta.crc32c, crc32c(data));
  t.deepEqual(meta.metadata, { chunked: 'yes' });
  t.true((await file.download())[0].equals(data));
  // The 6 MiB file took several PUTs to the same session, each chunk answered with 308.
  const puts = t.context.emu.logs.filter((l) => {
    const r = l.httpRequest as { requestMethod?: string; requestUrl?: string; status?: number } | undefined;
    return r?.requestMethod === 'PUT' && r.requestUrl?.includes('upload_id=') && r.status === 308;
  });
  t.true(puts.length >= 6);
});

test('uploadType=media via raw HTTP, with x-goog-hash validation', async (t) => {
  const { emu, storage } = t.context;
  const [bucket] = await storage.createBucket(uniqueBucket());
  const data = Buffer.from('raw media bytes');
  const url = `${emu.url}/upload/storage/v1/b/${bucket.name}/o?uploadType=media&name=${encodeURIComponent('raw/one.bin')}`;

  const bad = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/x-test', 'x-goog-hash': `crc32c=AAAAAA==,md5=${md5(data)}` },
    body: data,
  });
  t.is(bad.status, 400);
  const badBody = (await bad.json()) as { error: { code: number; message: string; errors: unknown[] } };
  t.is(badBody.error.code, 400);
  t.true(Array.isArray(badBody.error.errors));
  t.false((await bucket.file('raw/one.bin').exists())[0]);

  const ok = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/x-test', 'x-goog-hash': `crc32c=${crc32c(data)},md5=${md5(data)}` },
    body: data,
  });
  t.is(ok.status, 200);
  const resource = (await ok.json()) as Record<string, string>;
  t.is(resource.name, 'raw/one.bin');
  t.is(resource.contentType, 'application/x-test');
  t.is(resource.size, String(data.length));

  // Direct download URL form.
  const dl = await fetch(
    `${emu.url}/download/storage/v1/b/${bucket.name}/o/${encodeURIComponent('raw/one.bin')}?alt=media`,
  );
  t.is(dl.status, 200);
  t.deepEqual(Buffer.from(await dl.arrayBuffer()), data);
  t.is(dl.headers.get('x-goog-hash'), `crc32c=${crc32c(data)},md5=${md5(data)}`);
  t.is(dl.headers.get('x-goog-generation'), resource.generation);

  const part = await fetch(resource.mediaLink!, { headers: { range: 'bytes=4-8' } });
  t.is(part.status, 206);
  t.is(part.headers.get('content-range'), `bytes 4-8/${data.length}`);
  t.is(await part.text(), 'media');
  const unsatisfiable = await fetch(resource.mediaLink!, { headers: { range: 'bytes=500-' } });
  t.is(unsatisfiable.status, 416);
});

test('multipart upload rejects a declared md5Hash that does not match', async (t) => {
  const [bucket] = await t.context.storage.createBucket(uniqueBucket());
  const file = bucket.file('bad-hash.txt');
  const err = await t.throwsAsync(
    file.save('payload', { resumable: false, validation: false, metadata: { md5Hash: md5(Buffer.from('other')) } }),
  );
  t.is(statusOf(err), 400);
  t.false((await file.exists())[0]);
});

test('setMetadata patches custom metadata and bumps metageneration', async (t) => {
  const [bucket] = await t.context.storage.createBucket(uniqueBucket());
  const file = bucket.file('meta.json');
  await file.save('{}', {
    resumable: false,
    metadata: { contentType: 'application/json', metadata: { a: '1', b: '2' } },
  });
  const [before] = await file.getMetadata();

  const [patched] = await file.setMetadata({ contentType: 'text/plain', metadata: { b: null, c: '3' } });
  t.is(patched.contentType, 'text/plain');
  t.deepEqual(patched.metadata, { a: '1', c: '3' });
  t.is(patched.metageneration, '2');
  t.is(patched.generation, before.generation);
  t.not(patched.etag, before.etag);

  const [after] = await file.getMetadata();
  t.deepEqual(after.metadata, { a: '1', c: '3' });
  t.is(after.metageneration, '2');
  t.is(after.md5Hash, before.md5Hash);

  const err = await t.throwsAsync(
    file.setMetadata({ metadata: { d: '4' } }, { ifMetagenerationMatch: 1 } as Record<string, unknown>),
  );
  t.is(statusOf(err), 412);
});

test('preconditions: ifGenerationMatch 0 on an existing object fails with 412', async (t) => {
  const [bucket] = await t.context.storage.createBucket(uniqueBucket());
  const file = bucket.file('once.txt');
  await file.save('first', { resumable: false, preconditionOpts: { ifGenerationMatch: 0 } });

  const simple = await t.throwsAsync(
    file.save('second', { resumable: false, preconditionOpts: { ifGenerationMatch: 0 } }),
  );
  t.is(statusOf(simple), 412);
  t.regex(simple!.message, /pre-conditions/);

  const resumable = await t.throwsAsync(
    file.save('second', { resumable: true, preconditionOpts: { ifGenerationMatch: 0 } }),
  );
  t.is(statusOf(resumable), 412);
  t.is((await file.download())[0].toString(), 'first');

  const [meta] = await file.getMetadata();
  await file.save('third', { resumable: false, preconditionOpts: { ifGenerationMatch: Number(meta.generation) } });
  t.is((await file.download())[0].toString(), 'third');

  const del = await t.throwsAsync(bucket.file('once.txt', { generation: 1 }).delete({ ifGenerationMatch: 1 }));
  t.true([404, 412].includes(statusOf(del) ?? 0));
  const delWrong = await t.throwsAsync(bucket.file('once.txt').delete({ ifGenerationMatch: 1 }));
  t.is(statusOf(delWrong), 412);
  const gone = await t.throwsAsync(bucket.file('never.txt').getMetadata());
  t.is(statusOf(gone), 404);
});

test('errors use the GCS JSON error format', async (t) => {
  const { emu, storage } = t.context;
  const [bucket] = await storage.createBucket(uniqueBucket());
  const res = await fetch(`${emu.url}/storage/v1/b/${bucket.name}/o/nope`);
  t.is(res.status, 404);
  t.regex(res.headers.get('content-type') ?? '', /^application\/json/);
  const body = (await res.json()) as { error: { code: number; message: string; errors: { reason: string }[] } };
  t.is(body.error.code, 404);
  t.is(body.error.message, `No such object: ${bucket.name}/nope`);
  t.is(body.error.errors[0]?.reason, 'notFound');

  await bucket.file('p.txt').save('p', { resumable: false });
  const pre = await fetch(`${emu.url}/storage/v1/b/${bucket.name}/o/p.txt?ifGenerationMatch=1`, { method: 'DELETE' });
  t.is(pre.status, 412);
  const preBody = (await pre.json()) as { error: { code: number; errors: { reason: string }[] } };
  t.is(preBody.error.code, 412);
  t.is(preBody.error.errors[0]?.reason, 'conditionNotMet');
});

test('list with prefix, delimiter and pagination', async (t) => {
  const [bucket] = await t.context.storage.createBucket(uniqueBucket());
  const names = ['a.txt', 'dir/b.txt', 'dir/c.txt', 'dir/sub/d.txt', 'dir2/e.txt', 'z.txt'];
  await Promise.all(names.map((n) => bucket.file(n).save(n, { resumable: false })));

  const [all] = await bucket.getFiles();
  t.deepEqual(
    all.map((f) => f.name),
    names,
  );

  const [prefixed] = await bucket.getFiles({ prefix: 'dir/' });
  t.deepEqual(
    prefixed.map((f) => f.name),
    ['dir/b.txt', 'dir/c.txt', 'dir/sub/d.txt'],
  );

  const [top, , topResp] = await bucket.getFiles({ delimiter: '/', autoPaginate: false });
  t.deepEqual(
    top.map((f) => f.name),
    ['a.txt', 'z.txt'],
  );
  t.deepEqual((topResp as { prefixes?: string[] }).prefixes, ['dir/', 'dir2/']);

  const [inDir, , dirResp] = await bucket.getFiles({ prefix: 'dir/', delimiter: '/', autoPaginate: false });
  t.deepEqual(
    inDir.map((f) => f.name),
    ['dir/b.txt', 'dir/c.txt'],
  );
  t.deepEqual((dirResp as { prefixes?: string[] }).prefixes, ['dir/sub/']);

  const [page1, next1] = await bucket.getFiles({ maxResults: 4, autoPaginate: false });
  t.deepEqual(
    page1.map((f) => f.name),
    names.slice(0, 4),
  );
  t.truthy(next1);
  const [page2, next2] = await bucket.getFiles({ ...(next1 as object), autoPaginate: false });
  t.deepEqual(
    page2.map((f) => f.name),
    names.slice(4),
  );
  t.falsy(next2);

  // Walk every page of two entries each.
  const walked: string[] = [];
  let query: Record<string, unknown> | null = { maxResults: 2, autoPaginate: false };
  while (query) {
    const [files, nextQuery]: [File[], Record<string, unknown> | null] = (await bucket.getFiles(query)) as never;
    walked.push(...files.map((f) => f.name));
    query = nextQuery ? { ...nextQuery, autoPaginate: false } : null;
  }
  t.deepEqual(walked, names);
});

test('delete removes the object', async (t) => {
  const [bucket] = await t.context.storage.createBucket(uniqueBucket());
  const file = bucket.file('tmp/delete-me');
  await file.save('bye', { resumable: false });
  t.true((await file.exists())[0]);
  await file.delete();
  t.false((await file.exists())[0]);
  const [files] = await bucket.getFiles();
  t.deepEqual(files, []);
  const again = await t.throwsAsync(file.delete());
  t.is(statusOf(again), 404);
});

test('copy (rewrite), move and compose', async (t) => {
  const [bucket] = await t.context.storage.createBucket(uniqueBucket());
  const [other] = await t.context.storage.createBucket(uniqueBucket());
  const src = bucket.file('src.bin');
  await src.save('abc', { resumable: false, metadata: { contentType: 'text/plain', metadata: { from: 'src' } } });

  const [copy] = await src.copy(other.file('copied.bin'));
  const [copyMeta] = await copy.getMetadata();
  t.is(copyMeta.bucket, other.name);
  t.is(copyMeta.contentType, 'text/plain');
  t.deepEqual(copyMeta.metadata, { from: 'src' });
  t.is((await copy.download())[0].toString(), 'abc');

  await bucket.file('second.bin').save('def', { resumable: false });
  const [combined] = await bucket.combine([src, bucket.file('second.bin')], bucket.file('combined.bin'));
  const data = Buffer.from('abcdef');
  t.is((await combined.download())[0].toString(), 'abcdef');
  t.is((await combined.getMetadata())[0].crc32c, crc32c(data));

  await bucket.file('second.bin').moveFileAtomic('moved.bin');
  t.false((await bucket.file('second.bin').exists())[0]);
  t.is((await bucket.file('moved.bin').download())[0].toString(), 'def');
});

test('works with STORAGE_EMULATOR_HOST (bare /b/... paths)', async (t) => {
  const { emu } = t.context;
  const previous = process.env.STORAGE_EMULATOR_HOST;
  process.env.STORAGE_EMULATOR_HOST = emu.url;
  let storage: Storage;
  try {
    storage = new Storage({ apiEndpoint: emu.url, projectId: 'kiln-local' });
  } finally {
    if (previous === undefined) delete process.env.STORAGE_EMULATOR_HOST;
    else process.env.STORAGE_EMULATOR_HOST = previous;
  }
  const [bucket] = await storage.createBucket(uniqueBucket());
  const file = bucket.file('env/host.txt');
  await file.save('via env', { resumable: false });
  await bucket.file('env/big.bin').save(randomBytes(300 * 1024), { resumable: true });
  t.is((await file.download())[0].toString(), 'via env');
  const [files] = await bucket.getFiles({ prefix: 'env/' });
  t.deepEqual(
    files.map((f) => f.name),
    ['env/big.bin', 'env/host.txt'],
  );
  const [meta] = await file.getMetadata();
  t.is(meta.size, '7');
});

test('gzip content encoding round-trips and publicUrl serves media', async (t) => {
  const [bucket] = await t.context.storage.createBucket(uniqueBucket());
  const text = 'compress me '.repeat(1000);
  const file = bucket.file('logs/build.txt');
  await file.save(text, { resumable: false, gzip: true, metadata: { contentType: 'text/plain' } });
  const [meta] = await file.getMetadata();
  t.is(meta.contentEncoding, 'gzip');
  t.true(Number(meta.size) < text.length);
  t.is((await file.download())[0].toString(), text);

  const plain = bucket.file('public/hello.txt');
  await plain.save('public hello', { resumable: false });
  const res = await fetch(plain.publicUrl());
  t.is(res.status, 200);
  t.is(await res.text(), 'public hello');
});
