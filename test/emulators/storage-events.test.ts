import { createHash } from 'node:crypto';
import { CRC32C, Storage } from '@google-cloud/storage';
import test from 'ava';
import {
  startEventReceiver,
  startTestEmulator,
  unusedLocalUrl,
  type ReceivedRequest,
} from '../../emulators/storage/testing.js';

const FINALIZED = 'google.cloud.storage.object.v1.finalized';
const DELETED = 'google.cloud.storage.object.v1.deleted';
const METADATA_UPDATED = 'google.cloud.storage.object.v1.metadataUpdated';
/** Fast retries keep the suite quick; nothing below depends on how long anything takes. */
const delivery = { initialBackoffMs: 5, maxBackoffMs: 20 };

const json = (r: ReceivedRequest): Record<string, unknown> =>
  JSON.parse(r.body.toString('utf8')) as Record<string, unknown>;

test('finalize delivers a binary-mode CloudEvent with ce-* headers and StorageObjectData body', async (t) => {
  const receiver = await startEventReceiver();
  const emu = await startTestEmulator({
    delivery,
    subscribers: [{ bucket: 'kiln-events-a', eventType: FINALIZED, url: receiver.url }],
  });
  t.teardown(() => emu.dispose());
  t.teardown(() => receiver.close());
  const storage = new Storage({ apiEndpoint: emu.url, projectId: 'kiln-local' });
  const [bucket] = await storage.createBucket('kiln-events-a');
  const data = Buffer.from('compiled model bytes');
  await bucket
    .file('models/m 1.tflite')
    .save(data, { resumable: false, metadata: { contentType: 'application/octet-stream', metadata: { job: '42' } } });
  const [meta] = await bucket.file('models/m 1.tflite').getMetadata();

  const req = await receiver.nth(1);
  t.is(req.method, 'POST');
  t.is(req.headers['ce-specversion'], '1.0');
  t.is(req.headers['ce-type'], FINALIZED);
  t.is(req.headers['ce-source'], '//storage.googleapis.com/projects/_/buckets/kiln-events-a');
  t.is(req.headers['ce-subject'], 'objects/models/m 1.tflite');
  t.is(req.headers['ce-bucket'], 'kiln-events-a');
  t.truthy(req.headers['ce-id']);
  t.false(Number.isNaN(Date.parse(String(req.headers['ce-time']))));
  t.regex(String(req.headers['content-type']), /^application\/json/);

  const body = json(req);
  t.is(body.bucket, 'kiln-events-a');
  t.is(body.name, 'models/m 1.tflite');
  t.is(body.generation, meta.generation);
  t.is(body.metageneration, '1');
  t.is(body.contentType, 'application/octet-stream');
  t.is(body.size, String(data.length));
  t.is(body.md5Hash, createHash('md5').update(data).digest('base64'));
  const crc = new CRC32C();
  crc.update(data);
  t.is(body.crc32c, crc.toString());
  t.is(body.timeCreated, meta.timeCreated);
  t.is(body.updated, meta.updated);
  t.deepEqual(body.metadata, { job: '42' });

  await emu.eventsIdle();
  t.is(receiver.requests.length, 1);
});

test('delivery is retried when the subscriber answers 500, with the same event id', async (t) => {
  const receiver = await startEventReceiver((n) => (n === 1 ? 500 : 204));
  const emu = await startTestEmulator({ delivery: { ...delivery, maxAttempts: 5 } });
  t.teardown(() => emu.dispose());
  t.teardown(() => receiver.close());
  emu.addSubscriber({ bucket: 'kiln-events-b', eventType: FINALIZED, url: receiver.url });
  const storage = new Storage({ apiEndpoint: emu.url, projectId: 'kiln-local' });
  const [bucket] = await storage.createBucket('kiln-events-b');
  await bucket.file('a.txt').save('a', { resumable: false });

  const first = await receiver.nth(1);
  const second = await receiver.nth(2);
  t.is(first.status, 500);
  t.is(second.status, 204);
  t.is(second.headers['ce-id'], first.headers['ce-id']);
  t.is(second.headers['ce-type'], FINALIZED);
  t.deepEqual(json(second), json(first));

  await emu.eventsIdle();
  t.is(receiver.requests.length, 2);
  const retryLog = emu.logs.find((l) => l.message === 'event delivery failed; will retry');
  t.is(retryLog?.severity, 'WARNING');
  t.is(retryLog?.status, 500);
  t.is(retryLog?.attempt, 1);
  t.truthy(emu.logs.find((l) => l.message === 'event delivered' && l.attempt === 2));
});

test('retries are bounded when the subscriber is unreachable', async (t) => {
  const url = await unusedLocalUrl();
  const emu = await startTestEmulator({
    delivery: { ...delivery, maxAttempts: 3 },
    subscribers: [{ eventType: FINALIZED, url }],
  });
  t.teardown(() => emu.dispose());
  const storage = new Storage({ apiEndpoint: emu.url, projectId: 'kiln-local' });
  const [bucket] = await storage.createBucket('kiln-events-c');
  await bucket.file('x').save('x', { resumable: false });
  await emu.eventsIdle();
  const attempts = emu.logs.filter((l) => l.message === 'event delivery failed; will retry');
  t.is(attempts.length, 2);
  const dropped = emu.logs.filter((l) => l.message === 'event delivery failed permanently; dropping event');
  t.is(dropped.length, 1);
  t.is(dropped[0]?.severity, 'ERROR');
  t.is(dropped[0]?.attempt, 3);
});

test('delivery does not block the upload response', async (t) => {
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  let arrived!: () => void;
  const requestArrived = new Promise<void>((r) => (arrived = r));
  const receiver = await startEventReceiver(async () => {
    arrived();
    await gate;
    return 204;
  });
  const emu = await startTestEmulator({ delivery, subscribers: [{ eventType: FINALIZED, url: receiver.url }] });
  t.teardown(() => emu.dispose());
  t.teardown(() => receiver.close());
  const storage = new Storage({ apiEndpoint: emu.url, projectId: 'kiln-local' });
  const [bucket] = await storage.createBucket('kiln-events-d');
  // The receiver holds the event open; the upload still completes.
  await bucket.file('held.txt').save('held', { resumable: false });
  await requestArrived;
  t.is(receiver.requests.length, 0);
  release();
  t.is((await receiver.nth(1)).status, 204);
  await emu.eventsIdle();
});

test('deleted and metadataUpdated events; subscriptions via the admin endpoint', async (t) => {
  const receiver = await startEventReceiver();
  const emu = await startTestEmulator({ delivery });
  t.teardown(() => emu.dispose());
  t.teardown(() => receiver.close());

  for (const eventType of [FINALIZED, METADATA_UPDATED, DELETED]) {
    const res = await fetch(`${emu.url}/_kiln/subscriptions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ bucket: 'kiln-events-e', eventType, url: receiver.url }),
    });
    t.is(res.status, 201);
  }
  const bad = await fetch(`${emu.url}/_kiln/subscriptions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ eventType: 'nope', url: 'not a url' }),
  });
  t.is(bad.status, 400);
  const listed = (await (await fetch(`${emu.url}/_kiln/subscriptions`)).json()) as { subscriptions: unknown[] };
  t.is(listed.subscriptions.length, 3);

  const storage = new Storage({ apiEndpoint: emu.url, projectId: 'kiln-local' });
  const [bucket] = await storage.createBucket('kiln-events-e');
  const [other] = await storage.createBucket('kiln-events-other');
  await other.file('ignored.txt').save('not for us', { resumable: false });
  const file = bucket.file('obj.txt');
  await file.save('v1', { resumable: false });
  await emu.eventsIdle();
  await file.setMetadata({ metadata: { state: 'done' } });
  await emu.eventsIdle();
  await file.delete();
  await emu.eventsIdle();

  const types = receiver.requests.map((r) => r.headers['ce-type']);
  t.deepEqual(types, [FINALIZED, METADATA_UPDATED, DELETED]);
  t.true(receiver.requests.every((r) => r.headers['ce-bucket'] === 'kiln-events-e'));
  t.deepEqual(json(receiver.requests[1]!).metadata, { state: 'done' });
  t.is(json(receiver.requests[1]!).metageneration, '2');
  t.is(json(receiver.requests[2]!).name, 'obj.txt');

  const ids = emu.subscribers().map((s) => s.id);
  for (const id of ids) {
    const del = await fetch(`${emu.url}/_kiln/subscriptions/${id}`, { method: 'DELETE' });
    t.is(del.status, 204);
  }
  t.deepEqual(emu.subscribers(), []);
});
