import test from 'ava';
import { buildDoc, FirestoreBuildStore, isTransientStoreError, modelDoc } from '../../shared/cloud/firestore-builds.js';
import { parseBuildConfig } from '../../shared/pipeline/build-config.js';
import {
  beginUnit,
  completeBuild,
  failUnit,
  newBuild,
  succeedUnit,
  type BuildRecord,
} from '../../shared/pipeline/build-state.js';
import { loadConfig } from '../../shared/pipeline/config.js';
import type { KilnCloudEvent } from '../../shared/pipeline/events.js';
import { buildIdOf } from '../../shared/pipeline/ids.js';
import { ingestUpload } from '../../shared/pipeline/ingest.js';
import { setLogSink } from '../../shared/pipeline/log.js';
import { STAGE_MESSAGE_SCHEMA_V1, type StageMessage } from '../../shared/pipeline/messages.js';
import type { ArtifactStore, BuildStore, PipelineDeps } from '../../shared/pipeline/ports.js';
import { runUnit } from '../../shared/pipeline/run-unit.js';
import { stagesOf } from '../../shared/pipeline/stages.js';
import { unitsOf } from '../../shared/pipeline/build-state.js';
import { SINGLE_FILE_UPLOAD, T } from '../helpers/builds.js';
import { useFirestoreEmulator } from '../helpers/firestore-emulator.js';

/**
 * The build store under contention and failure, against the official Firestore emulator (whose pessimistic locks
 * time out concurrent read-write transactions on one document): the faults behind a build that stopped advancing when
 * every message was delivered three times.
 */
const PROJECT = 'kiln-store-faults';
const firestore = useFirestoreEmulator(PROJECT, 'store-faults');
setLogSink(() => undefined);

const input = SINGLE_FILE_UPLOAD;
/** A build that is its model's only one: each test writes its own model document, so tests do not contend. */
const fresh = async (store: BuildStore, buildId: string): Promise<BuildRecord> =>
  (await store.create(newBuild(buildId, buildId, input, parseBuildConfig({}, 8), new Date().toISOString()))).record;

test('concurrent transitions of one build all apply: lock timeouts and aborts are retried, none is lost', async (t) => {
  const store = new FirestoreBuildStore(firestore());
  await fresh(store, 'contended');
  const n = 8;
  await Promise.all(
    Array.from({ length: n }, (_, i) =>
      store.update('contended', 'contended', (r) => {
        r.summary[`writer-${i}`] = i;
        r.updatedAt = new Date().toISOString();
      }),
    ),
  );
  const after = (await store.get('contended', 'contended'))!;
  t.deepEqual(Object.keys(after.summary).sort(), Array.from({ length: n }, (_, i) => `writer-${i}`).sort());
});

test('concurrent builds of one model: every stage transition lands, and the model document names the newest build', async (t) => {
  const store = new FirestoreBuildStore(firestore());
  const ids = Array.from({ length: 6 }, (_, i) => `together-${i}`);
  const base = Date.now();
  const at = (s: number) => new Date(base + s * 1000).toISOString();
  await Promise.all(
    ids.map(async (id, i) => {
      await store.create(newBuild(id, 'together', input, parseBuildConfig({}, 8), at(i)));
      for (const { name: stage } of stagesOf('model')) {
        const [unit] = unitsOf((await store.get('together', id))!, stage);
        const run = `${id}-${stage}`;
        await store.update('together', id, (r) => beginUnit(r, stage, unit!.key, at(10 + i), 540_000, run));
        await store.update('together', id, (r) =>
          succeedUnit(r, stage, unit!.key, { artifacts: {}, summary: { i } }, at(11 + i), run),
        );
      }
      await store.update('together', id, (r) => completeBuild(r, {}, at(20 + i)));
    }),
  );
  for (const id of ids) t.is((await store.get('together', id))!.status, 'succeeded', id);
  t.like((await modelDoc(firestore(), 'together').get()).data(), {
    latestBuildId: 'together-5',
    latestStatus: 'succeeded',
    best: { buildId: 'together-5' },
  });
});

test('a transition that changes nothing writes nothing; one inside a running build writes the build document alone', async (t) => {
  const store = new FirestoreBuildStore(firestore());
  await fresh(store, 'quiet');
  const times = async () =>
    Promise.all([buildDoc(firestore(), 'quiet', 'quiet').get(), modelDoc(firestore(), 'quiet').get()]).then((s) =>
      s.map((d) => d.updateTime?.toMillis()),
    );
  const before = await times();
  const { result } = await store.update('quiet', 'quiet', (r) => r.status);
  t.is(result, 'running');
  t.deepEqual(await times(), before);
  const now = () => new Date().toISOString();
  await store.update('quiet', 'quiet', (r) => beginUnit(r, 'convert', 'main', now(), 540_000, 'run-1'));
  const [build, model] = await times();
  t.true(build! > before[0]!, 'a unit claim writes the build document');
  t.is(model, before[1], 'and leaves the model document alone (the build is still running)');
  await store.update('quiet', 'quiet', (r) =>
    failUnit(r, 'convert', 'main', { code: 'E_X', message: 'bad', retryable: false }, 3, now(), 'run-1'),
  );
  const [, failedModel] = await times();
  t.true(failedModel! > model!, 'a status change writes the model document too');
  t.like((await modelDoc(firestore(), 'quiet').get()).data(), { latestBuildId: 'quiet', latestStatus: 'failed' });
});

test('which store failures are retried: contention, timeouts, unavailability and expired transactions', (t) => {
  const err = (code: number, message = '') => Object.assign(new Error(message), { code });
  t.true(isTransientStoreError(err(10, 'Transaction lock timeout.')));
  t.true(isTransientStoreError(err(14)));
  t.true(isTransientStoreError(err(4)));
  // the emulator's answer to a transaction it already timed out; production's "transaction has expired"
  t.true(isTransientStoreError(err(3, 'Transaction is invalid or closed.')));
  t.true(isTransientStoreError(err(3, 'The referenced transaction has expired or is no longer valid.')));
  t.false(isTransientStoreError(err(3, 'Document path must not be empty')));
  t.false(isTransientStoreError(err(7, 'Missing or insufficient permissions.')));
  t.false(isTransientStoreError(new Error('build m/b does not exist')));
});

/** Artifacts in memory and a recording publisher: the other ports of runUnit, so only the store is under test. */
function memoryDeps(store: BuildStore) {
  const objects = new Map<string, Uint8Array>();
  const published: (StageMessage | KilnCloudEvent)[] = [];
  const artifacts: ArtifactStore = {
    read: async (bucket, object) => objects.get(`gs://${bucket}/${object}`) ?? new Uint8Array(),
    readHead: async (bucket, object, _g, n) =>
      (objects.get(`gs://${bucket}/${object}`) ?? new Uint8Array()).slice(0, n),
    stat: async () => undefined,
    list: async () => [],
    readUpload: async () => new Map([['upload/m.tflite', new Uint8Array([1, 2, 3])]]),
    writeArtifact: async (modelId, buildId, name, bytes) => {
      const uri = `gs://artifacts/${modelId}/${buildId}/${name}`;
      if (!objects.has(uri)) objects.set(uri, bytes);
      return uri;
    },
  };
  const deps: PipelineDeps = {
    store,
    objects: artifacts,
    publisher: {
      publishStage: async (_stage, m) => void published.push(m),
      publishEvent: async (e) => void published.push(e),
    },
  };
  return { deps, published };
}

test('a delivery that cannot record its result gives its lease back: the redelivery runs at once', async (t) => {
  const real = new FirestoreBuildStore(firestore());
  const record = await fresh(real, 'lost-result');
  // The store fails the write after the first run of the core (the result transaction), as an outage would.
  let failNext = 0;
  const store: BuildStore = {
    get: (m, b) => real.get(m, b),
    create: (r) => real.create(r),
    running: (n) => real.running(n),
    update: (m, b, fn) =>
      failNext-- > 0 ? Promise.reject(new Error('UNAVAILABLE: injected outage')) : real.update(m, b, fn),
  };
  const { deps, published } = memoryDeps(store);
  let runs = 0;
  const opts = {
    config: loadConfig({ KILN_PROJECT_ID: PROJECT }),
    leaseMs: 540_000,
    cores: {
      convert: async () => {
        runs += 1;
        if (runs === 1) failNext = 1;
        return { artifacts: { 'model.tflite': new Uint8Array([7]) }, summary: { runs } };
      },
    },
  };
  const [unit] = unitsOf(record, 'convert');
  const msg: StageMessage = {
    schema: STAGE_MESSAGE_SCHEMA_V1,
    buildId: 'lost-result',
    modelId: 'lost-result',
    stage: 'convert',
    unit: unit!,
  };
  await t.throwsAsync(runUnit(deps, msg, opts), { message: /injected outage/ });
  const released = (await real.get('lost-result', 'lost-result'))!;
  t.like(released.stages.convert.units['main'], { status: 'pending', attempts: 1 });
  // the redelivery, well inside the 540 s lease, runs the unit and completes the stage
  t.is(await runUnit(deps, msg, opts), 'succeeded');
  const done = (await real.get('lost-result', 'lost-result'))!;
  t.like(done.stages.convert, { status: 'succeeded', handedOff: true });
  t.like(done.stages.convert.units['main'], { status: 'succeeded', attempts: 2 });
  t.is(published.filter((p) => 'stage' in p && p.stage === 'quantize').length, 1, 'quantize message published once');
});

test('a duplicate storage event for a build that failed in a stage leaves its failure events to the stage', async (t) => {
  const real = new FirestoreBuildStore(firestore());
  const config = loadConfig({ KILN_PROJECT_ID: PROJECT });
  const obj = { bucket: config.buckets.uploads, name: 'dup.tflite', generation: '5', size: 100 };
  const buildId = buildIdOf(obj.bucket, obj.name, obj.generation);
  // The first ingest created the build and published convert, but has not yet recorded its hand-off; convert failed
  // the build (claim 'a') and is publishing the failure events when the storage event is delivered again.
  const r = newBuild(buildId, 'dup', { ...input, bucket: obj.bucket, object: obj.name }, parseBuildConfig({}, 8), T(0));
  beginUnit(r, 'convert', 'main', T(1), 540_000, 'a');
  failUnit(r, 'convert', 'main', { code: 'E_TFLITE_MALFORMED', message: 'corrupt', retryable: false }, 3, T(2), 'a');
  await real.create(r);
  const { deps, published } = memoryDeps(real);
  const again = await ingestUpload(deps, obj, { config, leaseMs: 540_000, now: () => T(3) });
  t.like(again, { outcome: 'duplicate', status: 'failed' });
  t.deepEqual(published, [], 'no second set of failure events');
  // Had the stage's delivery died before publishing, a duplicate after its lease publishes them.
  const late = await ingestUpload(deps, obj, { config, leaseMs: 540_000, now: () => T(2 + 541) });
  t.like(late, { outcome: 'duplicate' });
  t.deepEqual(
    published.map((e) => (e as KilnCloudEvent).type),
    ['dev.kiln.build.v1.stage.failed', 'dev.kiln.build.v1.failed'],
  );
});
