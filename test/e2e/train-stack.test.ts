import test from 'ava';
import { cloudClients } from '../../shared/cloud/clients.js';
import { buildIdOf, parseGsUri } from '../../shared/pipeline/ids.js';
import { stripesModel } from '../../shared/toolchain/samples/stripes.js';
import { VerifyReportSchema } from '../../shared/toolchain/verify/report/schema.js';
import { startLocalStack, type LocalStack } from '../../emulators/local-stack/stack.js';
import { shapeFiles } from '../helpers/image-sets.js';
import { captureLogs, collectEvents, readBuild, sleep, type EventCollector, terminalOf } from './stack-helpers.js';

/**
 * The dataset route through the local stack: a labelled image set Kiln makes here (3 classes of generated images and
 * a base classifier Kiln builds itself, the float stripes sample), uploaded as a folder with its kiln.json last,
 * builds train → quantize → compile → verify → finish; a dataset with one class fails in train, saying why.
 */
let stack: LocalStack;
let events: EventCollector;
const logs = captureLogs();

test.before(async () => {
  stack = await startLocalStack({ env: { KILN_PROJECT_ID: 'kiln-train-test' } });
  events = await collectEvents(stack.config);
});

test.after.always(async () => {
  await events?.close();
  await stack?.stop();
  logs.restore();
});

/**
 * Uploads the files under `prefix/`, then kiln.json (which starts the build); returns the build id. Each write is
 * create-only (ifGenerationMatch 0), which makes it idempotent, so the Storage client retries a dropped connection.
 */
async function uploadDataset(prefix: string, files: ReadonlyMap<string, Uint8Array>, config: object) {
  const bucket = cloudClients(stack.config).storage.bucket(stack.config.buckets.uploads);
  const createOnly = { resumable: false, preconditionOpts: { ifGenerationMatch: 0 } };
  for (const [name, bytes] of files) await bucket.file(`${prefix}/${name}`).save(Buffer.from(bytes), createOnly);
  const file = bucket.file(`${prefix}/kiln.json`);
  await file.save(JSON.stringify(config), createOnly);
  const [meta] = await file.getMetadata();
  return buildIdOf(stack.config.buckets.uploads, `${prefix}/kiln.json`, String(meta.generation));
}

async function download(uri: string): Promise<Buffer> {
  const { bucket, object } = parseGsUri(uri);
  const [bytes] = await cloudClients(stack.config).storage.bucket(bucket).file(object).download();
  return bytes;
}

test.serial('a labelled image set uploaded as a folder trains, quantizes, compiles and verifies', async (t) => {
  const files = new Map([...(await shapeFiles(12, 48)), ['base.tflite', stripesModel()]]);
  const buildId = await uploadDataset('shapes', files, { train: { base: 'base.tflite', epochs: 25, seed: 3 } });
  const end = await events.waitFor(terminalOf(buildId), 600_000);
  await sleep(500);
  const record = (await readBuild(stack.config, 'shapes', buildId))!;
  t.is(end.type, 'dev.kiln.build.v1.completed', JSON.stringify(record.error));
  t.is(record.status, 'succeeded');
  t.deepEqual(Object.keys(record.stages), ['train', 'quantize', 'compile', 'verify', 'finish']);
  const stages = events.events
    .filter((e) => e.data.buildId === buildId && e.type === 'dev.kiln.build.v1.stage.succeeded')
    .map((e) => (e.data as { stage: string }).stage);
  t.deepEqual(stages, ['train', 'quantize', 'compile', 'verify', 'finish']);
  for (const name of ['model.float.tflite', 'model.int8.tflite', 'compile-report.json', 'training.json', 'report.json'])
    t.truthy(record.artifacts[name], name);

  // An int8 model, every op on the Edge TPU (the compile report).
  const compile = JSON.parse((await download(record.artifacts['compile-report.json']!)).toString('utf8')) as {
    edgeTpuOps?: number;
    totalOps?: number;
  };
  const summary = record.summary['compile'] as { opsOnEdgeTpu: number; totalOps: number };
  t.true(summary.totalOps > 0);
  t.is(summary.opsOnEdgeTpu, summary.totalOps, JSON.stringify(compile).slice(0, 400));
  const quantize = record.summary['quantize'] as { floatOps: number };
  t.is(quantize.floatOps, 0);

  // report.json's training block: the test split's accuracy, float and int8.
  const report = VerifyReportSchema.parse(JSON.parse((await download(record.artifacts['report.json']!)).toString()));
  const tr = report.training!;
  t.truthy(tr);
  t.deepEqual(tr.classes, ['disc', 'hstripes', 'vstripes']);
  t.deepEqual(tr.samples, { train: 30, validation: 3, test: 3 });
  t.is(tr.base, 'base.tflite');
  t.is(tr.history.length, 25);
  t.true(tr.testAccuracy.float !== null && tr.testAccuracy.float >= 0 && tr.testAccuracy.float <= 1);
  t.true(tr.testAccuracy.int8 !== null && tr.testAccuracy.int8 >= 0 && tr.testAccuracy.int8 <= 1);
  t.is(
    tr.confusion.flat().reduce((a, b) => a + b, 0),
    3,
    'every test image is scored by the int8 model',
  );
  const correct = tr.confusion.reduce((a, row, i) => a + row[i]!, 0);
  t.is(tr.testAccuracy.int8, correct / 3);
  // verify scored the same test split (labelled validation/), which calibration never saw: its int8 top-1 there is
  // the training block's int8 test accuracy.
  t.is(report.accuracy.labelled, 3);
  t.is(report.accuracy.classification?.int8Top1, tr.testAccuracy.int8);
  t.log(
    `test accuracy float ${tr.testAccuracy.float}, int8 ${tr.testAccuracy.int8}; verify float top-1 ${report.accuracy.classification?.floatTop1}; ops ${summary.opsOnEdgeTpu}/${summary.totalOps} on the Edge TPU`,
  );
  const html = (await download(record.artifacts['report.html']!)).toString('utf8');
  t.true(html.includes('id="test-accuracy"'));
  t.truthy(logs.lines.length);
});

test.serial('a dataset with one class fails its build in train with the reason; the upload is untouched', async (t) => {
  const files = new Map([...(await shapeFiles(8, 32, { classes: 1 })), ['base.tflite', stripesModel()]]);
  const buildId = await uploadDataset('oneclass', files, { train: { base: 'base.tflite', epochs: 2 } });
  const end = await events.waitFor(terminalOf(buildId), 300_000);
  t.is(end.type, 'dev.kiln.build.v1.failed');
  const data = end.data as { stage: string; error: { code: string; message: string; retryable: boolean } };
  t.is(data.stage, 'train');
  t.is(data.error.code, 'E_BAD_ARGUMENT');
  t.regex(data.error.message, /cannot be trained on/);
  t.regex(data.error.message, /class/);
  t.false(data.error.retryable);
  const record = (await readBuild(stack.config, 'oneclass', buildId))!;
  t.is(record.status, 'failed');
  t.is(record.error?.stage, 'train');
  t.is(record.error?.message, data.error.message);
  t.true(
    events.events.some(
      (e) =>
        e.type === 'dev.kiln.build.v1.stage.failed' &&
        e.data.buildId === buildId &&
        (e.data as { stage: string }).stage === 'train',
    ),
  );
  const bucket = cloudClients(stack.config).storage.bucket(stack.config.buckets.uploads);
  for (const [name, bytes] of files) {
    const [after] = await bucket.file(`oneclass/${name}`).download();
    t.deepEqual(new Uint8Array(after), bytes, name);
  }
});
