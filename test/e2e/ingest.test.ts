import { isTerminalEvent } from '../../shared/cloud/event-watcher.js';
import test from 'ava';
import type { Message } from '@google-cloud/pubsub';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { eventSchemaFiles } from '../../shared/pipeline/event-schemas.js';
import { fromPubsubMessage, type KilnCloudEvent } from '../../shared/pipeline/events.js';
import { cloudClients } from '../../shared/cloud/clients.js';
import { buildIdOf } from '../../shared/pipeline/ids.js';
import { STAGE_NAMES } from '../../shared/pipeline/stages.js';
import { tinyCnnTflite } from '../../shared/toolchain/samples/tiny-cnn.js';
import { startLocalStack, type LocalStack } from '../../emulators/local-stack/stack.js';
import { captureLogs, collectEvents, readBuild, sleep, type EventCollector, terminalOf } from './stack-helpers.js';

let stack: LocalStack;
let events: EventCollector;
/** Before any build of this file: late subscribers seek back to it. */
const startedAt = new Date();
let corruptBuildId = '';
const logs = captureLogs();

test.before(async () => {
  stack = await startLocalStack({ env: { KILN_PROJECT_ID: 'kiln-ingest-test' } });
  events = await collectEvents(stack.config);
});

test.after.always(async () => {
  await events?.close();
  await stack?.stop();
  logs.restore();
});

async function upload(name: string, bytes: Uint8Array) {
  const file = cloudClients(stack.config).storage.bucket(stack.config.buckets.uploads).file(name);
  await file.save(Buffer.from(bytes), { resumable: false });
  const [meta] = await file.getMetadata();
  return { file, meta: meta as Record<string, unknown>, generation: String(meta.generation) };
}

test.serial(
  'a corrupt upload fails its build with a readable reason and a failure event; the upload is untouched',
  async (t) => {
    const corrupt = new Uint8Array(256).fill(7);
    const { file, generation } = await upload('corrupt.tflite', corrupt);
    const buildId = buildIdOf(stack.config.buckets.uploads, 'corrupt.tflite', generation);
    corruptBuildId = buildId;
    const failed = await events.waitFor((e) => e.type === 'dev.kiln.build.v1.failed' && e.data.buildId === buildId);
    t.is(failed.data.modelId, 'corrupt');
    const data = failed.data as { error: { code: string; message: string; retryable: boolean } };
    t.is(data.error.code, 'E_TFLITE_IDENTIFIER');
    t.regex(data.error.message, /corrupt\.tflite is not a TFLite flatbuffer/);
    t.false(data.error.retryable);
    const record = await readBuild(stack.config, 'corrupt', buildId);
    t.is(record?.status, 'failed');
    t.is(record?.error?.code, 'E_TFLITE_IDENTIFIER');
    const [after] = await file.download();
    t.deepEqual(new Uint8Array(after), corrupt);
    const [meta] = await file.getMetadata();
    t.is(String(meta.generation), generation);
    t.true(events.events.some((e) => e.type === 'dev.kiln.build.v1.stage.failed' && e.data.buildId === buildId));
  },
);

test.serial('the same storage event delivered 3 more times makes one build', async (t) => {
  const { meta, generation } = await upload('dup.tflite', tinyCnnTflite(3));
  const buildId = buildIdOf(stack.config.buckets.uploads, 'dup.tflite', generation);
  await events.waitFor((e) => e.type === 'dev.kiln.build.v1.started' && e.data.buildId === buildId);
  const headers = {
    'ce-specversion': '1.0',
    'ce-id': 'redelivered-event',
    'ce-source': `//storage.googleapis.com/projects/_/buckets/${stack.config.buckets.uploads}`,
    'ce-type': 'google.cloud.storage.object.v1.finalized',
    'ce-subject': 'objects/dup.tflite',
    'ce-time': new Date().toISOString(),
    'content-type': 'application/json',
  };
  const responses = await Promise.all(
    [1, 2, 3].map(() =>
      fetch(`${stack.endpoints.functions['ingest']}/`, { method: 'POST', headers, body: JSON.stringify(meta) }),
    ),
  );
  t.true(responses.every((r) => r.status >= 200 && r.status < 300));
  // the build ends either way (succeeded, or failed because a stage core is missing in this build); wait for it
  await events.waitFor(terminalOf(buildId));
  await sleep(1500);
  const { firestore } = cloudClients(stack.config);
  const builds = await firestore.collection('models').doc('dup').collection('builds').get();
  t.is(builds.size, 1);
  const mine = events.events.filter((e) => e.data.buildId === buildId);
  t.is(mine.filter((e) => e.type === 'dev.kiln.build.v1.started').length, 1);
  t.is(mine.filter(isTerminalEvent).length, 1);
  const record = await readBuild(stack.config, 'dup', buildId);
  t.is(record?.stages.convert.units['main']?.attempts, 1);
  t.true(logs.lines.some((l) => /duplicate storage event/.test(l.message)));
  // One trace from the upload on: ingest's span, then each stage's, continued through the messages and events.
  const mineLogged = logs.lines.filter((l) => l['logging.googleapis.com/labels']['build'] === buildId);
  const created = mineLogged.find((l) => /^build created/.test(l.message));
  const trace = created?.['logging.googleapis.com/trace'];
  t.regex(String(trace), /^projects\/kiln-ingest-test\/traces\/[0-9a-f]{32}$/);
  const stageLines = mineLogged.filter((l) =>
    (STAGE_NAMES as readonly string[]).includes(l['logging.googleapis.com/labels']['stage'] ?? ''),
  );
  t.true(new Set(stageLines.map((l) => l['logging.googleapis.com/labels']['stage'])).size >= 1);
  for (const l of stageLines) t.is(l['logging.googleapis.com/trace'], trace, l.message);
  t.true(new Set(stageLines.map((l) => l['logging.googleapis.com/spanId'])).size >= 1);
  for (const l of stageLines) t.not(l['logging.googleapis.com/spanId'], created?.['logging.googleapis.com/spanId']);
  const traceId = String(trace).split('/').pop();
  for (const e of mine) t.regex(e.traceparent ?? '', new RegExp(`^00-${traceId}-[0-9a-f]{16}-0[01]$`), e.type);
});

test.serial('a subscriber created after a build seeks back to a time and receives its terminal event', async (t) => {
  t.truthy(corruptBuildId, 'the corrupt upload test ran first');
  const { pubsub } = cloudClients(stack.config);
  const [meta] = await pubsub.topic(stack.config.topics.events).getMetadata();
  t.is(Number(meta.messageRetentionDuration?.seconds), 7 * 24 * 3600, 'the events topic keeps 7 days');
  const [sub] = await pubsub.topic(stack.config.topics.events).createSubscription(`late-${Date.now()}`);
  try {
    await sub.seek(startedAt);
    const seen = await new Promise<KilnCloudEvent>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('the late subscriber received no terminal event')), 60_000);
      sub.on('message', (m: Message) => {
        m.ack();
        const e = fromPubsubMessage(m.data, m.attributes);
        if (e.data.buildId === corruptBuildId && isTerminalEvent(e)) {
          clearTimeout(timer);
          resolve(e);
        }
      });
    });
    t.is(seen.type, 'dev.kiln.build.v1.failed');
    t.is(seen.dataschema, 'urn:kiln:docs/schemas/dev.kiln.build.v1.failed.json');
  } finally {
    await sub.close();
    await sub.delete().catch(() => undefined);
  }
});

test.serial('every event the stack published names its schema and validates against it', async (t) => {
  const ajv = new Ajv2020({ strict: true });
  for (const schema of Object.values(eventSchemaFiles())) ajv.addSchema(schema);
  t.true(events.events.length >= 4);
  for (const e of events.events) {
    const validate = ajv.getSchema(e.dataschema);
    t.truthy(validate, `${e.type}: ${e.dataschema}`);
    t.true(validate!(e.data), `${e.id}: ${JSON.stringify(validate!.errors)}`);
  }
});
