import test from 'ava';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cloudClients } from '../../shared/cloud/clients.js';
import { modelDoc } from '../../shared/cloud/firestore-builds.js';
import { uploadAndWait } from '../../shared/cli/commands/upload.js';
import { watchEvents } from '../../shared/cli/commands/watch.js';
import { STAGE_CORES } from '../../shared/pipeline/cores/index.js';
import { parseGsUri } from '../../shared/pipeline/ids.js';
import type { KilnCloudEvent } from '../../shared/pipeline/events.js';
import { tinyCnnTflite } from '../../shared/toolchain/samples/tiny-cnn.js';
import { startLocalStack, type LocalStack } from '../../emulators/local-stack/stack.js';
import { FRONTENDS_DIR, haveModels, modelPath } from '../helpers/models.js';
import { captureLogs, collectEvents, readBuild, sleep, type EventCollector, terminalOf } from './stack-helpers.js';

/**
 * Acceptance on the real emulators: real models (a quantized MobileNet .tflite and a trained Keras .h5) uploaded with
 * `kiln upload --wait` while `kiln watch` listens; artifacts, Firestore documents and exactly one terminal event each.
 * Until the verify core is registered, builds end failed at verify (saying so) after convert, quantize and compile.
 */
let stack: LocalStack;
let events: EventCollector;
let dir: string;
const logs = captureLogs();
const verifyLanded = STAGE_CORES.verify !== undefined;
const SMALL = { quantize: { samples: 8, debugSamples: 2 } };

test.before(async () => {
  stack = await startLocalStack({ env: { KILN_PROJECT_ID: 'kiln-models-test' } });
  events = await collectEvents(stack.config);
  dir = await mkdtemp(join(tmpdir(), 'kiln-e2e-models-'));
  await writeFile(join(dir, 'small.kiln.json'), JSON.stringify(SMALL));
});

test.after.always(async () => {
  await events?.close();
  await stack?.stop();
  logs.restore();
});

async function objectMeta(uri: string): Promise<Record<string, string> | undefined> {
  const { bucket, object } = parseGsUri(uri);
  const [meta] = await cloudClients(stack.config).storage.bucket(bucket).file(object).getMetadata();
  return meta.metadata as Record<string, string> | undefined;
}

(haveModels ? test.serial : test.skip)(
  'mobilenet_v1_0.25_128_quant and a Keras .h5 each build through the pipeline, indexed and announced once',
  async (t) => {
    const watched: KilnCloudEvent[] = [];
    let ready!: () => void;
    const subscribed = new Promise<void>((r) => (ready = r));
    const watching = watchEvents({ count: 2, ready, print: (e) => watched.push(e) });
    await subscribed;
    const config = join(dir, 'small.kiln.json');
    const cases = [
      { path: modelPath('mobilenet_v1_0.25_128_quant.tflite'), as: 'mnv1.tflite', modelId: 'mnv1', calibrated: false },
      {
        path: join(FRONTENDS_DIR, 'keras_h5/oarriaga/gender_mini_XCEPTION.21-0.95.hdf5'),
        as: 'gender.h5',
        modelId: 'gender',
        calibrated: true,
      },
    ];
    const done = await Promise.all(cases.map((c) => uploadAndWait(c.path, { config, as: c.as, wait: true })));
    await watching;
    await sleep(1000);
    for (const [i, c] of cases.entries()) {
      const r = await readBuild(stack.config, c.modelId, done[i]!.upload.buildId);
      t.log(`${c.modelId}: ${r?.status}${r?.error ? ` in ${r.error.stage}: ${r.error.message}` : ''}`);
    }
    for (const [i, c] of cases.entries()) {
      const { upload, event } = done[i]!;
      t.is(upload.modelId, c.modelId);
      const record = (await readBuild(stack.config, c.modelId, upload.buildId))!;
      t.truthy(record, `${c.modelId}: build record`);
      // exactly one terminal event, seen by the test's subscriber and by kiln watch
      const mine = events.events.filter(terminalOf(upload.buildId));
      t.is(mine.length, 1, `${c.modelId}: one terminal event`);
      t.is(watched.filter(terminalOf(upload.buildId)).length, 1);
      t.is(event?.id, mine[0]?.id);
      for (const stage of ['convert', 'quantize', 'compile'] as const) t.is(record.stages[stage].status, 'succeeded');
      const names = ['model.float.tflite', 'model.int8.tflite', 'compile.log', 'compile-report.json'];
      if (c.calibrated) names.push('calibration-stats.json');
      if (verifyLanded) names.push('report.json', 'report.html');
      for (const name of names) {
        const uri = record.artifacts[name];
        t.is(
          uri,
          `gs://${stack.config.buckets.artifacts}/${c.modelId}/${upload.buildId}/${name}`,
          `${c.modelId}: ${name}`,
        );
        if (uri) t.is((await objectMeta(uri))?.['kiln-artifact'], upload.buildId);
      }
      const compile = record.summary['compile'] as Record<string, number>;
      t.true(compile['opsOnEdgeTpu']! > 0 && compile['opsOnEdgeTpu']! <= compile['totalOps']!);
      t.is(typeof compile['onChipMemoryBytes'], 'number');
      t.is(typeof compile['offChipMemoryBytes'], 'number');
      t.deepEqual(record.input.object, c.as);
      const model = (await modelDoc(cloudClients(stack.config).firestore, c.modelId).get()).data()!;
      t.is(model['name'], c.modelId);
      t.is(model['latestBuildId'], upload.buildId);
      t.is(model['latestStatus'], record.status);
      if (verifyLanded) {
        t.is(event?.type, 'dev.kiln.build.v1.completed');
        t.is(record.status, 'succeeded');
        t.truthy(record.summary['verify']);
        t.is((model['best'] as { buildId: string } | undefined)?.buildId, upload.buildId);
        const data = event!.data as { artifacts: Record<string, string>; summary: Record<string, unknown> };
        t.deepEqual(data.artifacts, record.artifacts);
        t.deepEqual(Object.keys(data.summary ?? {}).sort(), ['compile', 'convert', 'quantize', 'verify']);
      } else {
        t.is(event?.type, 'dev.kiln.build.v1.failed');
        t.is(record.error?.stage, 'verify');
        t.regex(record.error?.message ?? '', /stage verify is not available in this build/);
      }
    }
  },
);

test.serial('after a corrupt upload fails, the next upload of the same name builds', async (t) => {
  const bucket = cloudClients(stack.config).storage.bucket(stack.config.buckets.uploads);
  const corrupt = join(dir, 'again.tflite');
  // passes the first-bytes check (TFL3 at offset 4) but is not a flatbuffer: the convert stage rejects it
  const bad = new Uint8Array(64).fill(0xee);
  bad.set([0x54, 0x46, 0x4c, 0x33], 4);
  await writeFile(corrupt, bad);
  const first = await uploadAndWait(corrupt, { wait: true });
  t.is(first.event?.type, 'dev.kiln.build.v1.failed');
  const err = (first.event!.data as { error: { code: string; message: string; retryable: boolean }; stage: string })
    .error;
  t.false(err.retryable);
  t.regex(err.code, /^E_TFLITE_/);
  t.true(err.message.length > 10 && !err.message.includes('\n'));
  t.is((first.event!.data as { stage: string }).stage, 'convert');
  t.true(
    events.events.some((e) => e.type === 'dev.kiln.build.v1.stage.failed' && e.data.buildId === first.upload.buildId),
  );
  const [kept] = await bucket.file('again.tflite').download();
  t.deepEqual(new Uint8Array(kept), bad);
  const record = await readBuild(stack.config, 'again', first.upload.buildId);
  t.is(record?.stages.convert.units['main']?.attempts, 1);

  await writeFile(join(dir, 'again.tflite'), tinyCnnTflite(9));
  const second = await uploadAndWait(join(dir, 'again.tflite'), { wait: true });
  t.not(second.upload.buildId, first.upload.buildId);
  const next = (await readBuild(stack.config, 'again', second.upload.buildId))!;
  t.is(next.stages.compile.status, 'succeeded');
  t.is(second.event?.type, verifyLanded ? 'dev.kiln.build.v1.completed' : 'dev.kiln.build.v1.failed');
  const model = (await modelDoc(cloudClients(stack.config).firestore, 'again').get()).data()!;
  t.is(model['latestBuildId'], second.upload.buildId);
});
