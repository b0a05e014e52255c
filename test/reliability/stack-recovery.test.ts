import test from 'ava';
import { startLocalStack, type LocalStack } from '../../emulators/local-stack/stack.js';
import { deadLetterTopic } from '../../emulators/local-stack/topology.js';
import { cloudClients } from '../../shared/cloud/clients.js';
import { FirestoreBuildStore } from '../../shared/cloud/firestore-builds.js';
import type { BuildRecord } from '../../shared/pipeline/build-state.js';
import { buildIdOf } from '../../shared/pipeline/ids.js';
import { STAGE_MESSAGE_SCHEMA_V1, encodeStageMessage } from '../../shared/pipeline/messages.js';
import { stagesOf, stageTopic, type StageName } from '../../shared/pipeline/stages.js';

/** A model upload's stages (the dataset route's train stage is not in its record). */
const STAGE_NAMES = stagesOf('model').map((s) => s.name);
import { tinyCnnTflite } from '../../shared/toolchain/samples/tiny-cnn.js';
import { captureLogs, collectEvents, terminalOf, type EventCollector } from '../e2e/stack-helpers.js';

/**
 * No build stays `running` (the stack serves the installed bundle, with its deadletter and sweeper functions): a unit
 * whose process died and whose message is gone is re-driven by the sweeper and completes; one that used up its attempts
 * fails with a reason; a stage message dead-lettered by hand fails its build. Each ends with exactly one terminal event.
 */
const LEASE_MS = 20_000;
let stack: LocalStack;
let events: EventCollector;
let store: FirestoreBuildStore;
let base: BuildRecord;
const logs = captureLogs();

test.before(async () => {
  stack = await startLocalStack({
    env: {
      ...process.env,
      KILN_PROJECT_ID: 'kiln-reliability-recovery',
      KILN_LEASE_MS: String(LEASE_MS),
      KILN_SWEEP_PERIOD_MS: '1000',
    },
  });
  events = await collectEvents(stack.config);
  store = new FirestoreBuildStore(cloudClients(stack.config).firestore);
  // One real build: its record and artifacts are the starting point of the stalled copies below.
  const file = cloudClients(stack.config).storage.bucket(stack.config.buckets.uploads).file('recover.tflite');
  await file.save(Buffer.from(tinyCnnTflite(41)), { resumable: false });
  const [meta] = await file.getMetadata();
  const buildId = buildIdOf(stack.config.buckets.uploads, 'recover.tflite', String(meta.generation));
  const end = await events.waitFor(terminalOf(buildId), 300_000);
  if (end.type !== 'dev.kiln.build.v1.completed') throw new Error(`base build ${JSON.stringify(end.data)}`);
  base = (await store.get('recover', buildId))!;
});

test.after.always(async () => {
  await events?.close();
  await stack?.stop();
  logs.restore();
});

const ago = (ms: number) => new Date(Date.now() - ms).toISOString();

/**
 * A copy of the base build as if it had stopped in `stage`: that stage's unit `running` since long before its lease
 * with `attempts` runs (or `pending`), the later stages not started, nothing published for it.
 */
function stalledCopy(buildId: string, stage: StageName, unit: { status: 'running' | 'pending'; attempts: number }) {
  const r = structuredClone(base);
  r.buildId = buildId;
  r.status = 'running';
  delete r.finishedAt;
  r.terminalEventPublished = false;
  r.createdAt = ago(5 * 60_000);
  r.updatedAt = unit.status === 'running' ? ago(3 * LEASE_MS) : new Date().toISOString();
  for (const s of STAGE_NAMES.slice(STAGE_NAMES.indexOf(stage))) {
    const st = r.stages[s];
    st.status = 'pending';
    st.handedOff = false;
    delete st.startedAt;
    delete st.finishedAt;
    delete st.durationMs;
    delete st.completedBy;
    delete r.summary[s];
    for (const u of Object.values(st.units)) {
      u.status = 'pending';
      u.attempts = 0;
      for (const k of ['startedAt', 'finishedAt', 'durationMs', 'summary', 'artifacts', 'runId', 'error'] as const)
        delete u[k];
    }
  }
  const u = r.stages[stage].units['main']!;
  Object.assign(
    u,
    unit,
    unit.status === 'running' ? { startedAt: ago(3 * LEASE_MS), runId: 'a-process-that-died' } : {},
  );
  if (unit.status === 'running') Object.assign(r.stages[stage], { status: 'running', startedAt: ago(3 * LEASE_MS) });
  return r;
}

test.serial(
  'a unit whose process died and whose message is gone is re-driven by the sweeper and completes',
  async (t) => {
    const buildId = '0000000000000000000000a1';
    await store.create(stalledCopy(buildId, 'quantize', { status: 'running', attempts: 1 }));
    const end = await events.waitFor(terminalOf(buildId), 300_000);
    t.is(end.type, 'dev.kiln.build.v1.completed', JSON.stringify(end.data));
    const record = (await store.get('recover', buildId))!;
    t.like(record.stages.quantize.units['main'], { status: 'succeeded', attempts: 2, redrives: 1 });
    t.true(Object.values(record.artifacts).some((uri) => uri.includes(`/${buildId}/model.int8.tflite`)));
    t.is(events.events.filter(terminalOf(buildId)).length, 1);
  },
);

test.serial(
  'a unit that used up its attempts ends the build failed with the reason and one failure event',
  async (t) => {
    const buildId = '0000000000000000000000a2';
    await store.create(
      stalledCopy(buildId, 'quantize', { status: 'running', attempts: stack.config.limits.maxAttempts }),
    );
    const end = await events.waitFor(terminalOf(buildId), 120_000);
    t.is(end.type, 'dev.kiln.build.v1.failed');
    const data = end.data as { stage: string; error: { code: string; message: string } };
    t.is(data.stage, 'quantize');
    t.is(data.error.code, 'E_STALLED');
    t.regex(data.error.message, /quantize\/main did not finish within its 20 s lease, 3 times/);
    t.like(await store.get('recover', buildId), { status: 'failed', stages: { quantize: { status: 'failed' } } });
    t.is(events.events.filter(terminalOf(buildId)).length, 1);
  },
);

test.serial('a stage message dead-lettered by hand ends its build failed, naming the deliveries', async (t) => {
  const buildId = '0000000000000000000000a3';
  await store.create(stalledCopy(buildId, 'quantize', { status: 'pending', attempts: 0 }));
  const topic = deadLetterTopic(stageTopic(stack.config.topics.stagePrefix, 'quantize'));
  const unit = { key: 'main', index: 0, count: 1, params: {} };
  await cloudClients(stack.config)
    .pubsub.topic(topic)
    .publishMessage({
      data: encodeStageMessage({
        schema: STAGE_MESSAGE_SCHEMA_V1,
        buildId,
        modelId: 'recover',
        stage: 'quantize',
        unit,
      }),
      attributes: { CloudPubSubDeadLetterSourceDeliveryCount: '7' },
    });
  const end = await events.waitFor(terminalOf(buildId), 120_000);
  t.is(end.type, 'dev.kiln.build.v1.failed');
  const data = end.data as { stage: string; error: { code: string; message: string } };
  t.is(data.error.code, 'E_STALLED');
  t.regex(data.error.message, /quantize\/main: Pub\/Sub gave up on the stage message after 7 deliveries/);
  t.is(events.events.filter(terminalOf(buildId)).length, 1);
});
