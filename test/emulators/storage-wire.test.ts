import { createHash, randomBytes } from 'node:crypto';
import test from 'ava';
import { startEventReceiver, startTestEmulator, type ReceivedRequest } from '../../emulators/storage/testing.js';

/**
 * The requests the Google Cloud CLI and curl send, byte for byte as `gcloud --log-http` shows them, against a running
 * emulator: multipart with a single-quoted boundary, the `/resumable/upload` path in chunks, the XML API PUT upload,
 * and `fields=` partial responses.
 */
const FINALIZED = 'google.cloud.storage.object.v1.finalized';
const md5 = (b: Buffer): string => createHash('md5').update(b).digest('base64');
const json = async (r: Response): Promise<Record<string, unknown>> => (await r.json()) as Record<string, unknown>;
const eventData = (r: ReceivedRequest): Record<string, unknown> =>
  JSON.parse(r.body.toString('utf8')) as Record<string, unknown>;

async function setup(bucket: string) {
  const receiver = await startEventReceiver();
  const emu = await startTestEmulator({
    delivery: { initialBackoffMs: 5, maxBackoffMs: 20 },
    subscribers: [{ bucket, eventType: FINALIZED, url: receiver.url }],
  });
  const created = await fetch(`${emu.url}/storage/v1/b?project=kiln-local`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ name: bucket }),
  });
  if (created.status !== 200) throw new Error(`bucket create: ${created.status}`);
  return { emu, receiver, dispose: async () => (await emu.dispose(), await receiver.close()) };
}

test("gcloud's multipart upload (single-quoted boundary, LF line breaks) stores the media exactly", async (t) => {
  const { emu, receiver, dispose } = await setup('wire-mp');
  t.teardown(dispose);
  const boundary = '===============6878309042470077803==';
  const media = Buffer.concat([randomBytes(2048), Buffer.from('\r')]);
  const body = Buffer.concat([
    Buffer.from(
      `--${boundary}\nContent-Type: application/json\nMIME-Version: 1.0\n\n` +
        `{"bucket": "wire-mp", "contentType": "application/x-hdf5", "name": "small.h5"}\n` +
        `--${boundary}\nContent-Type: application/x-hdf5\nMIME-Version: 1.0\nContent-Transfer-Encoding: binary\n\n`,
    ),
    media,
    Buffer.from(`\n--${boundary}--\n`),
  ]);
  const res = await fetch(`${emu.url}/upload/storage/v1/b/wire-mp/o?alt=json&uploadType=multipart`, {
    method: 'POST',
    headers: { 'content-type': `multipart/related; boundary='${boundary}'` },
    body,
  });
  t.is(res.status, 200);
  const meta = await json(res);
  t.is(meta['name'], 'small.h5');
  t.is(meta['size'], String(media.length));
  t.is(meta['md5Hash'], md5(media));
  t.is(meta['contentType'], 'application/x-hdf5');
  const back = Buffer.from(await (await fetch(`${emu.url}/wire-mp/small.h5`)).arrayBuffer());
  t.true(back.equals(media));
  t.is(eventData(await receiver.nth(1))['name'], 'small.h5');
});

test('a resumable upload on /resumable/upload: chunks answer 308 with Range, status queries, then the object', async (t) => {
  const { emu, receiver, dispose } = await setup('wire-rs');
  t.teardown(dispose);
  const data = randomBytes(3 * 256 * 1024 + 100);
  const start = await fetch(`${emu.url}/resumable/upload/storage/v1/b/wire-rs/o?alt=json&uploadType=resumable`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'X-Upload-Content-Length': String(data.length),
      'X-Upload-Content-Type': 'application/octet-stream',
    },
    body: JSON.stringify({ bucket: 'wire-rs', contentType: 'application/x-hdf5', name: 'big.h5' }),
  });
  t.is(start.status, 200);
  const session = start.headers.get('location')!;
  t.regex(session, /upload_id=/);
  const chunk = 256 * 1024;
  const put = (range: string, body?: Buffer) =>
    fetch(session, {
      method: 'PUT',
      headers: { 'content-range': range },
      ...(body ? { body: new Uint8Array(body) } : {}),
    });

  const first = await put(`bytes 0-${chunk - 1}/*`, data.subarray(0, chunk));
  t.is(first.status, 308);
  t.is(first.headers.get('range'), `bytes=0-${chunk - 1}`);
  const query = await put(`bytes */${data.length}`);
  t.is(query.status, 308);
  t.is(query.headers.get('range'), `bytes=0-${chunk - 1}`);
  // a retried chunk overlapping what the server has is accepted from where it left off
  const second = await put(`bytes 0-${2 * chunk - 1}/*`, data.subarray(0, 2 * chunk));
  t.is(second.status, 308);
  t.is(second.headers.get('range'), `bytes=0-${2 * chunk - 1}`);
  t.is(receiver.requests.length, 0, 'nothing is finalized before the last byte');
  const last = await put(`bytes ${2 * chunk}-${data.length - 1}/${data.length}`, data.subarray(2 * chunk));
  t.is(last.status, 200);
  const meta = await json(last);
  t.is(meta['size'], String(data.length));
  t.is(meta['md5Hash'], md5(data));
  t.is(meta['contentType'], 'application/x-hdf5');
  const again = await put(`bytes */${data.length}`);
  t.is(again.status, 200);
  t.is((await json(again))['generation'], meta['generation']);
  t.is(eventData(await receiver.nth(1))['name'], 'big.h5');
});

test('the XML API PUT upload (curl -T) stores Content-Type and x-goog-meta-*, and announces the object', async (t) => {
  const { emu, receiver, dispose } = await setup('wire-xml');
  t.teardown(dispose);
  const data = randomBytes(5000);
  const res = await fetch(`${emu.url}/wire-xml/models/m%201.h5`, {
    method: 'PUT',
    headers: { 'content-type': 'application/x-hdf5', 'x-goog-meta-owner': 'ada', 'content-md5': md5(data) },
    body: data,
  });
  t.is(res.status, 200);
  t.is(res.headers.get('etag'), `"${createHash('md5').update(data).digest('hex')}"`);
  t.regex(res.headers.get('x-goog-generation') ?? '', /^\d+$/);
  const meta = await json(await fetch(`${emu.url}/storage/v1/b/wire-xml/o/models%2Fm%201.h5`));
  t.is(meta['contentType'], 'application/x-hdf5');
  t.deepEqual(meta['metadata'], { owner: 'ada' });
  t.is(meta['md5Hash'], md5(data));
  const event = eventData(await receiver.nth(1));
  t.is(event['name'], 'models/m 1.h5');
  t.deepEqual(event['metadata'], { owner: 'ada' });

  const bad = await fetch(`${emu.url}/wire-xml/x.bin`, {
    method: 'PUT',
    headers: { 'content-md5': md5(Buffer.from('other')) },
    body: data,
  });
  t.is(bad.status, 400);
  t.regex(await bad.text(), /<Code>BadDigest<\/Code>/);
  const missing = await fetch(`${emu.url}/no-such-bucket/x.bin`, { method: 'PUT', body: data });
  t.is(missing.status, 404);
  t.regex(await missing.text(), /<Code>NoSuchBucket<\/Code>/);
  const noKey = await fetch(`${emu.url}/wire-xml/absent.bin`);
  t.is(noKey.status, 404);
  t.regex(await noKey.text(), /<Code>NoSuchKey<\/Code>/);
  const got = await fetch(`${emu.url}/wire-xml/models/m%201.h5`, { headers: { range: 'bytes=0-9' } });
  t.is(got.status, 206);
  t.true(Buffer.from(await got.arrayBuffer()).equals(data.subarray(0, 10)));
  const guarded = await fetch(`${emu.url}/wire-xml/models%2Fm%201.h5`, {
    method: 'PUT',
    headers: { 'x-goog-if-generation-match': '0' },
    body: data,
  });
  t.is(guarded.status, 412);
  t.regex(await guarded.text(), /<Code>PreconditionFailed<\/Code>/);
});

test('listing and metadata answer the fields= selections gcloud asks for', async (t) => {
  const { emu, dispose } = await setup('wire-ls');
  t.teardown(dispose);
  for (const name of ['a.h5', 'sm/saved_model.pb', 'sm/variables/variables.index', 'z.tflite']) {
    const r = await fetch(
      `${emu.url}/upload/storage/v1/b/wire-ls/o?uploadType=media&name=${encodeURIComponent(name)}`,
      {
        method: 'POST',
        body: name,
      },
    );
    t.is(r.status, 200);
  }
  const fields = 'prefixes,items/name,items/size,items/generation,nextPageToken';
  const q = (extra: string) =>
    fetch(
      `${emu.url}/storage/v1/b/wire-ls/o?alt=json&fields=${encodeURIComponent(fields)}&projection=noAcl&${extra}`,
    ).then(json);
  const top = await q('delimiter=%2F&maxResults=2');
  t.deepEqual(Object.keys(top).sort(), ['items', 'nextPageToken', 'prefixes']);
  t.deepEqual(top['prefixes'], ['sm/']);
  t.deepEqual(
    (top['items'] as Record<string, unknown>[]).map((i) => Object.keys(i).sort()),
    [['generation', 'name', 'size']],
  );
  const rest = await q(`delimiter=%2F&maxResults=2&pageToken=${top['nextPageToken'] as string}`);
  t.is(rest['prefixes'], undefined);
  t.is(rest['nextPageToken'], undefined);
  t.deepEqual(
    (rest['items'] as { name: string }[]).map((i) => i.name),
    ['z.tflite'],
  );
  const nested = await q('prefix=sm%2F');
  t.deepEqual(
    (nested['items'] as { name: string }[]).map((i) => i.name),
    ['sm/saved_model.pb', 'sm/variables/variables.index'],
  );
  const one = await json(
    await fetch(`${emu.url}/storage/v1/b/wire-ls/o/a.h5?alt=json&fields=bucket%2Cname%2Csize%2Cgeneration`),
  );
  t.deepEqual(Object.keys(one).sort(), ['bucket', 'generation', 'name', 'size']);
  t.is(one['size'], '4');
  const layout = await json(await fetch(`${emu.url}/storage/v1/b/wire-ls/storageLayout?alt=json`));
  t.deepEqual(layout['hierarchicalNamespace'], { enabled: false });
  const badFields = await fetch(`${emu.url}/storage/v1/b/wire-ls/o/a.h5?fields=items(name`);
  t.is(badFields.status, 400);
});
