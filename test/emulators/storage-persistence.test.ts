import { randomBytes } from 'node:crypto';
import { request } from 'node:http';
import { readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { Storage } from '@google-cloud/storage';
import test from 'ava';
import { makeTempDir, startTestEmulator } from '../../emulators/storage/testing.js';

const KiB = 1024;

function client(url: string): Storage {
  return new Storage({ apiEndpoint: url, projectId: 'kiln-local' });
}

/** Re-points a session URI (which embeds the old port) at a restarted emulator. */
function rebase(sessionUri: string, url: string): string {
  const u = new URL(sessionUri);
  return `${url}${u.pathname}${u.search}`;
}

test('buckets and objects survive a restart', async (t) => {
  const dataDir = await makeTempDir();
  t.teardown(() => rm(dataDir, { recursive: true, force: true }));
  const big = randomBytes(700 * KiB);

  const first = await startTestEmulator({ dataDir });
  t.teardown(() => first.close());
  const s1 = client(first.url);
  const [bucket] = await s1.createBucket('kiln-persist');
  await bucket.file('a/small.txt').save('small', { resumable: false, metadata: { metadata: { keep: 'me' } } });
  await bucket.file('a/big.bin').save(big, { resumable: true });
  await bucket.file('gone.txt').save('gone', { resumable: false });
  await bucket.file('gone.txt').delete();
  await bucket.file('a/small.txt').setMetadata({ contentType: 'text/plain' });
  const [before] = await bucket.file('a/small.txt').getMetadata();
  await first.close();

  const second = await startTestEmulator({ dataDir });
  t.teardown(() => second.close());
  const s2 = client(second.url);
  const b2 = s2.bucket('kiln-persist');
  t.true((await b2.exists())[0]);
  const [files] = await b2.getFiles();
  t.deepEqual(
    files.map((f) => f.name),
    ['a/big.bin', 'a/small.txt'],
  );
  const [after] = await b2.file('a/small.txt').getMetadata();
  for (const key of ['generation', 'metageneration', 'md5Hash', 'crc32c', 'size', 'contentType', 'timeCreated']) {
    t.is(after[key], before[key], key);
  }
  t.deepEqual(after.metadata, { keep: 'me' });
  t.true((await b2.file('a/big.bin').download())[0].equals(big));
  t.is((await b2.file('a/small.txt').download())[0].toString(), 'small');

  // Generations keep increasing across restarts.
  await b2.file('a/small.txt').save('newer', { resumable: false });
  const [rewritten] = await b2.file('a/small.txt').getMetadata();
  t.true(BigInt(rewritten.generation!) > BigInt(before.generation!));

  // Only committed content files remain on disk: no temp files, no stale generations.
  const bucketDir = join(dataDir, 'buckets', 'kiln-persist', 'objects');
  const onDisk = await readdir(bucketDir);
  t.is(onDisk.filter((f) => f.endsWith('.json')).length, 2);
  t.is(onDisk.filter((f) => f.endsWith('.data')).length, 2);
  t.deepEqual(await readdir(join(dataDir, 'tmp')), []);
});

test('a half-finished resumable upload is invisible, and can be resumed after a restart', async (t) => {
  const dataDir = await makeTempDir();
  t.teardown(() => rm(dataDir, { recursive: true, force: true }));
  const data = randomBytes(1024 * KiB);
  const firstChunk = 256 * KiB;

  const first = await startTestEmulator({ dataDir });
  t.teardown(() => first.close());
  const s1 = client(first.url);
  const [bucket] = await s1.createBucket('kiln-resume');
  const file = bucket.file('pending/model.tflite');
  const [sessionUri] = await file.createResumableUpload({ metadata: { contentType: 'application/x-tflite' } });
  t.regex(sessionUri, /upload_id=/);

  const partial = await fetch(sessionUri, {
    method: 'PUT',
    headers: { 'content-range': `bytes 0-${firstChunk - 1}/${data.length}` },
    body: data.subarray(0, firstChunk),
  });
  t.is(partial.status, 308);
  t.is(partial.headers.get('range'), `bytes=0-${firstChunk - 1}`);

  // Not visible anywhere while incomplete.
  t.false((await file.exists())[0]);
  t.deepEqual((await bucket.getFiles())[0], []);
  const head = await fetch(`${first.url}/storage/v1/b/kiln-resume/o/${encodeURIComponent(file.name)}`);
  t.is(head.status, 404);
  const status = await fetch(sessionUri, { method: 'PUT', headers: { 'content-range': 'bytes */*' } });
  t.is(status.status, 308);
  t.is(status.headers.get('range'), `bytes=0-${firstChunk - 1}`);
  await first.close();

  // The session and its bytes survive a restart.
  const second = await startTestEmulator({ dataDir });
  t.teardown(() => second.close());
  const uri = rebase(sessionUri, second.url);
  const s2 = client(second.url);
  t.false((await s2.bucket('kiln-resume').file(file.name).exists())[0]);
  const status2 = await fetch(uri, { method: 'PUT', headers: { 'content-range': 'bytes */*' } });
  t.is(status2.status, 308);
  t.is(status2.headers.get('range'), `bytes=0-${firstChunk - 1}`);

  const done = await fetch(uri, {
    method: 'PUT',
    headers: { 'content-range': `bytes ${firstChunk}-${data.length - 1}/${data.length}` },
    body: data.subarray(firstChunk),
  });
  t.is(done.status, 200);
  const resource = (await done.json()) as Record<string, string>;
  t.is(resource.name, 'pending/model.tflite');
  t.is(resource.size, String(data.length));
  t.is(resource.contentType, 'application/x-tflite');
  t.true((await s2.bucket('kiln-resume').file(file.name).download())[0].equals(data));

  // Querying a finished session returns the object again.
  const after = await fetch(uri, { method: 'PUT', headers: { 'content-range': 'bytes */*' } });
  t.is(after.status, 200);
  t.is(((await after.json()) as Record<string, string>).generation, resource.generation);
});

test('an upload request cut off mid-body is never visible; the upload resumes from the persisted offset', async (t) => {
  const emu = await startTestEmulator();
  t.teardown(() => emu.dispose());
  const storage = client(emu.url);
  const [bucket] = await storage.createBucket('kiln-abort');
  const file = bucket.file('cut.bin');
  const data = randomBytes(512 * KiB);
  const [sessionUri] = await file.createResumableUpload();

  // Send half the body with a Content-Range promising all of it, then drop the connection.
  await new Promise<void>((resolve) => {
    const req = request(sessionUri, {
      method: 'PUT',
      headers: { 'content-range': `bytes 0-*/${data.length}`, 'content-length': data.length },
    });
    req.on('error', () => resolve());
    req.write(data.subarray(0, 200 * KiB), () => {
      req.destroy();
      resolve();
    });
  });

  t.false((await file.exists())[0]);
  t.deepEqual((await bucket.getFiles())[0], []);

  const status = await fetch(sessionUri, { method: 'PUT', headers: { 'content-range': 'bytes */*' } });
  t.is(status.status, 308);
  const range = status.headers.get('range');
  const offset = range ? Number(/bytes=0-(\d+)/.exec(range)![1]) + 1 : 0;
  t.true(offset <= 200 * KiB);

  // Resume from what the server reported; overlapping bytes are tolerated.
  const done = await fetch(sessionUri, {
    method: 'PUT',
    headers: { 'content-range': `bytes ${offset}-${data.length - 1}/${data.length}` },
    body: data.subarray(offset),
  });
  t.is(done.status, 200);
  t.true((await file.download())[0].equals(data));
});

test('a cancelled resumable session leaves nothing behind', async (t) => {
  const emu = await startTestEmulator();
  t.teardown(() => emu.dispose());
  const storage = client(emu.url);
  const [bucket] = await storage.createBucket('kiln-cancel');
  const file = bucket.file('never.bin');
  const [sessionUri] = await file.createResumableUpload();
  const partial = await fetch(sessionUri, {
    method: 'PUT',
    headers: { 'content-range': `bytes 0-${256 * KiB - 1}/*` },
    body: randomBytes(256 * KiB),
  });
  t.is(partial.status, 308);
  const cancelled = await fetch(sessionUri, { method: 'DELETE' });
  t.is(cancelled.status, 499);
  const gone = await fetch(sessionUri, { method: 'PUT', headers: { 'content-range': 'bytes */*' } });
  t.is(gone.status, 404);
  t.false((await file.exists())[0]);
  t.deepEqual(await readdir(join(emu.dataDir, 'uploads')), []);
});
