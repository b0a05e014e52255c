import test from 'ava';
import { Timestamp } from 'firebase-admin/firestore';
import { buildDoc, FirestoreBuildStore, modelDoc } from '../../shared/cloud/firestore-builds.js';
import { readBuild, recentBuilds } from '../../shared/cloud/firestore-queries.js';
import { parseBuildConfig } from '../../shared/pipeline/build-config.js';
import { beginUnit, newBuild, succeedUnit } from '../../shared/pipeline/build-state.js';
import { loadConfig } from '../../shared/pipeline/config.js';
import type { StageCores } from '../../shared/pipeline/core.js';
import { DATA_MANIFEST } from '../../shared/pipeline/data-manifest.js';
import type { KilnCloudEvent } from '../../shared/pipeline/events.js';
import { gsUri } from '../../shared/pipeline/ids.js';
import { setLogSink } from '../../shared/pipeline/log.js';
import { STAGE_MESSAGE_SCHEMA_V1 } from '../../shared/pipeline/messages.js';
import type { ArtifactStore, PipelineDeps } from '../../shared/pipeline/ports.js';
import { runUnit } from '../../shared/pipeline/run-unit.js';
import { SINGLE_FILE_UPLOAD, T } from '../helpers/builds.js';
import { useFirestoreEmulator } from '../helpers/firestore-emulator.js';
import { documentSize } from '../helpers/firestore-size.js';

/**
 * The build store against the official Firestore emulator: times are Timestamps in the documents (as the Firebase
 * console shows them) and ISO strings to the code; the results page's query orders by them; a build with 20,000
 * calibration images keeps a small build document (the files are named by the data manifest artifact).
 */
const PROJECT = 'kiln-store-shape';
const firestore = useFirestoreEmulator(PROJECT, 'store-shape');
setLogSink(() => undefined);

const config = parseBuildConfig({}, 8);

test.serial('every time is a Timestamp in Firestore and an ISO string to the code', async (t) => {
  const store = new FirestoreBuildStore(firestore());
  const record = newBuild('b-times', 'times', SINGLE_FILE_UPLOAD, config, T(1));
  await store.create(record);
  await store.update('times', 'b-times', (r) => beginUnit(r, 'convert', 'main', T(2), 540_000, 'run'));
  await store.update('times', 'b-times', (r) =>
    succeedUnit(r, 'convert', 'main', { artifacts: {}, summary: {} }, T(5), 'run'),
  );
  const raw = (await buildDoc(firestore(), 'times', 'b-times').get()).data()!;
  t.true(raw['createdAt'] instanceof Timestamp);
  t.is((raw['createdAt'] as Timestamp).toDate().toISOString(), T(1));
  t.true(raw['updatedAt'] instanceof Timestamp);
  const stage = (raw['stages'] as Record<string, Record<string, unknown>>)['convert']!;
  t.true(stage['startedAt'] instanceof Timestamp);
  t.true(stage['finishedAt'] instanceof Timestamp);
  const unit = (stage['units'] as Record<string, Record<string, unknown>>)['main']!;
  t.is((unit['startedAt'] as Timestamp).toDate().toISOString(), T(2));
  const model = (await modelDoc(firestore(), 'times').get()).data()!;
  t.true(model['latestCreatedAt'] instanceof Timestamp);
  t.true(model['updatedAt'] instanceof Timestamp);

  const back = (await store.get('times', 'b-times'))!;
  t.is(back.createdAt, T(1));
  t.is(back.stages.convert.units['main']!.finishedAt, T(5));
  t.is(back.stages.convert.durationMs, 3000);
  t.deepEqual(await readBuild(firestore(), 'times', 'b-times'), back);
});

test.serial(
  'the results page query orders builds of every model by their Timestamp, and filters by status',
  async (t) => {
    const store = new FirestoreBuildStore(firestore());
    // times whose ISO strings sort as the times do, and one a year later: order is by time either way
    await store.create(newBuild('q-old', 'qa', SINGLE_FILE_UPLOAD, config, T(10)));
    await store.create(
      newBuild('q-new', 'qb', SINGLE_FILE_UPLOAD, config, new Date(Date.UTC(2027, 0, 1)).toISOString()),
    );
    await store.create(newBuild('q-mid', 'qa', SINGLE_FILE_UPLOAD, config, T(20)));
    await store.update('qa', 'q-mid', (r) => {
      r.status = 'failed';
    });
    const ids = (await recentBuilds(firestore(), 100)).map((r) => r.buildId).filter((id) => id.startsWith('q-'));
    t.deepEqual(ids, ['q-new', 'q-mid', 'q-old']);
    t.deepEqual(
      (await recentBuilds(firestore(), 100, 'failed')).map((r) => r.buildId),
      ['q-mid'],
    );
    t.is((await recentBuilds(firestore(), 1))[0]!.buildId, 'q-new');
  },
);

/** Objects in memory: the build document, not the bucket, is under test here. */
class MemoryObjects implements ArtifactStore {
  readonly objects = new Map<string, Uint8Array>();
  async read(bucket: string, object: string) {
    const b = this.objects.get(gsUri(bucket, object));
    if (!b) throw new Error(`no ${gsUri(bucket, object)}`);
    return b;
  }
  async readHead(bucket: string, object: string, _generation: string | undefined, bytes: number) {
    return (await this.read(bucket, object)).slice(0, bytes);
  }
  async stat() {
    return undefined;
  }
  async list() {
    return [];
  }
  async readUpload() {
    return new Map([['upload/m.tflite', new Uint8Array([1])]]);
  }
  async writeArtifact(modelId: string, buildId: string, name: string, bytes: Uint8Array) {
    const uri = gsUri('kiln-artifacts', `${modelId}/${buildId}/${name}`);
    if (!this.objects.has(uri)) this.objects.set(uri, bytes);
    return uri;
  }
}

test.serial('a build with 20,000 calibration images keeps its build document under 100 KiB', async (t) => {
  const IMAGES = 20_000;
  const store = new FirestoreBuildStore(firestore());
  const objects = new MemoryObjects();
  const events: KilnCloudEvent[] = [];
  const deps: PipelineDeps = {
    store,
    objects,
    publisher: { publishStage: async () => undefined, publishEvent: async (e) => void events.push(e) },
  };
  const name = (i: number) => `calibration/class-${i % 10}/image-${String(i).padStart(6, '0')}.jpg`;
  let quantizeSaw = 0;
  const cores: StageCores = {
    convert: async () => {
      const artifacts: Record<string, Uint8Array> = { 'model.float.tflite': new Uint8Array([1, 2, 3]) };
      for (let i = 0; i < IMAGES; i++) artifacts[name(i)] = new Uint8Array([i & 255]);
      artifacts['validation/labels.txt'] = Buffer.from('a\nb\n');
      return { artifacts, summary: { data: { calibrationFiles: IMAGES, validationFiles: 1 } } };
    },
    quantize: async ({ artifacts }) => {
      quantizeSaw = [...artifacts.keys()].filter((n) => n.startsWith('calibration/')).length;
      t.deepEqual(artifacts.get(name(IMAGES - 1)), new Uint8Array([(IMAGES - 1) & 255]));
      // The validation folder is verify's: quantize does not download it (shared/pipeline/stage-inputs.ts).
      t.false(artifacts.has('validation/labels.txt'));
      return { artifacts: { 'model.int8.tflite': new Uint8Array([4]) }, summary: {} };
    },
  };
  const buildId = 'c'.repeat(24);
  await store.create(newBuild(buildId, 'big', SINGLE_FILE_UPLOAD, config, new Date().toISOString()));
  const opts = { config: loadConfig({ KILN_PROJECT_ID: PROJECT }), cores, leaseMs: 540_000 };
  const unit = { key: 'main', index: 0, count: 1, params: {} };
  for (const stage of ['convert', 'quantize'] as const) {
    const outcome = await runUnit(
      deps,
      { schema: STAGE_MESSAGE_SCHEMA_V1, buildId, modelId: 'big', stage, unit },
      opts,
    );
    t.is(outcome, 'succeeded', stage);
  }
  t.is(quantizeSaw, IMAGES, 'the next stage reads every calibration file through the manifest');

  const snap = await buildDoc(firestore(), 'big', buildId).get();
  const size = documentSize(snap.ref.path, snap.data()!);
  t.log(`build document with ${IMAGES} calibration images: ${size} bytes (${(size / 1024).toFixed(1)} KiB)`);
  t.true(size < 100 * 1024, `${size} bytes`);
  const record = (await store.get('big', buildId))!;
  t.deepEqual(Object.keys(record.artifacts).sort(), [DATA_MANIFEST, 'model.float.tflite', 'model.int8.tflite']);
  t.deepEqual(record.stages.convert.units['main']!.artifacts, ['model.float.tflite', DATA_MANIFEST]);
  const convertEvent = events.find((e) => e.type === 'dev.kiln.build.v1.stage.succeeded')!;
  t.deepEqual(Object.keys((convertEvent.data as { artifacts: object }).artifacts).sort(), [
    DATA_MANIFEST,
    'model.float.tflite',
  ]);
  t.is(objects.objects.size, IMAGES + 1 + 3, 'every data file is still an artifact of its own');
});
