import test from 'ava';
import { startLocalStack, type LocalStack } from '../../emulators/local-stack/stack.js';
import { cloudClients } from '../../shared/cloud/clients.js';
import { FirestoreBuildStore } from '../../shared/cloud/firestore-builds.js';
import { buildIdOf } from '../../shared/pipeline/ids.js';
import { tinyCnnTflite } from '../../shared/toolchain/samples/tiny-cnn.js';
import { captureLogs, collectEvents, sleep, terminalOf, type EventCollector } from '../e2e/stack-helpers.js';

/**
 * A unit forced past its deadline on the local stack: each unit runs in a worker thread (KILN_UNIT_ISOLATION=worker,
 * as deployed) and the deadline is 300 ms — less than a worker takes to load a stage. The worker is terminated, the
 * build fails with the deadline as its reason and one failure event, on the unit's first attempt (within one lease).
 */
const DEADLINE_MS = 300;
const saved = { ...process.env };
let stack: LocalStack;
let events: EventCollector;
const logs = captureLogs();

test.before(async () => {
  // Source mode: the functions run in this process and read these from it.
  process.env['KILN_UNIT_ISOLATION'] = 'worker';
  process.env['KILN_STAGE_TIMEOUT_MS'] = String(DEADLINE_MS);
  process.env['KILN_LEASE_MS'] = '60000';
  stack = await startLocalStack({
    env: { ...process.env, KILN_PROJECT_ID: 'kiln-reliability-deadline' },
    functionsFrom: 'source',
  });
  events = await collectEvents(stack.config);
});

test.after.always(async () => {
  await events?.close();
  await stack?.stop();
  logs.restore();
  for (const k of ['KILN_UNIT_ISOLATION', 'KILN_STAGE_TIMEOUT_MS', 'KILN_LEASE_MS']) {
    if (saved[k] === undefined) delete process.env[k];
    else process.env[k] = saved[k];
  }
});

test('a stage past its deadline fails the build with the reason and one failure event, on its first attempt', async (t) => {
  const file = cloudClients(stack.config).storage.bucket(stack.config.buckets.uploads).file('slow.tflite');
  await file.save(Buffer.from(tinyCnnTflite(43)), { resumable: false });
  const [meta] = await file.getMetadata();
  const buildId = buildIdOf(stack.config.buckets.uploads, 'slow.tflite', String(meta.generation));
  const end = await events.waitFor(terminalOf(buildId), 180_000);
  t.is(end.type, 'dev.kiln.build.v1.failed');
  const data = end.data as { stage: string; error: { code: string; message: string; retryable: boolean } };
  t.is(data.stage, 'convert', 'the first stage already runs past 300 ms in its worker');
  t.is(data.error.code, 'E_BAD_ARGUMENT');
  t.false(data.error.retryable);
  t.regex(
    data.error.message,
    /^convert ran past its 300 ms deadline \(KILN_STAGE_TIMEOUT_MS\)\. Upload a smaller model/,
  );
  // The record notes the published event right after publishing it: wait for that write.
  const store = new FirestoreBuildStore(cloudClients(stack.config).firestore);
  let record = (await store.get('slow', buildId))!;
  for (let i = 0; i < 300 && !record.terminalEventPublished; i++) {
    await sleep(100);
    record = (await store.get('slow', buildId))!;
  }
  t.like(record, { status: 'failed', terminalEventPublished: true });
  t.is(record.stages.convert.units['main']!.attempts, 1, 'failed by Kiln on the first attempt, not by a lease');
  t.is(events.events.filter(terminalOf(buildId)).length, 1);
  t.true(logs.lines.some((l) => /convert\/main failed: convert ran past its 300 ms deadline/.test(l.message)));
});
