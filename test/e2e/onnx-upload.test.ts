import test from 'ava';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startLocalStack, type LocalStack } from '../../emulators/local-stack/stack.js';
import { uploadAndWait } from '../../shared/cli/commands/upload.js';
import { cloudClients } from '../../shared/cloud/clients.js';
import { modelDoc } from '../../shared/cloud/firestore-builds.js';
import { STAGE_CORES } from '../../shared/pipeline/cores/index.js';
import { pytorchCnn } from '../loaders/helpers/onnx-models.js';
import { captureLogs, readBuild } from './stack-helpers.js';

/**
 * An `.onnx` upload builds on the local stack like any other model: the functions are served from the installed deploy
 * bundle (unless KILN_FUNCTIONS_FROM=source), so this also shows the bundle carries the ONNX loader's runtime pieces
 * (protobufjs and shared/toolchain/loaders/proto/onnx.proto). The PyTorch-style CNN (NCHW, BatchNorm, Gemm) with an NHWC input
 * layout converts, quantizes to int8 and compiles with every op on the Edge TPU.
 */
let stack: LocalStack;
let dir: string;
const logs = captureLogs();

test.before(async () => {
  stack = await startLocalStack({ env: { KILN_PROJECT_ID: 'kiln-onnx-test' } });
  dir = await mkdtemp(join(tmpdir(), 'kiln-e2e-onnx-'));
});

test.after.always(async () => {
  await stack?.stop();
  logs.restore();
});

test.serial('an uploaded .onnx model converts, quantizes and compiles fully for the Edge TPU', async (t) => {
  const model = join(dir, 'cnn.onnx');
  await writeFile(model, pytorchCnn(3));
  await writeFile(
    join(dir, 'cnn.kiln.json'),
    JSON.stringify({ convert: { inputLayout: 'nhwc' }, quantize: { samples: 8, debugSamples: 2 } }),
  );
  const { upload, event } = await uploadAndWait(model, { wait: true });
  t.is(upload.modelId, 'cnn');
  const record = (await readBuild(stack.config, 'cnn', upload.buildId))!;
  t.truthy(record, 'build record');
  t.log(`${record.status}${record.error ? ` in ${record.error.stage}: ${record.error.message}` : ''}`);
  for (const stage of ['convert', 'quantize', 'compile'] as const) t.is(record.stages[stage].status, 'succeeded');
  const convert = record.summary['convert'] as Record<string, unknown>;
  t.is(convert['format'], 'onnx');
  t.deepEqual(convert['inputLayout'], [{ name: 'input', layout: 'NHWC' }]);
  const compile = record.summary['compile'] as Record<string, number>;
  t.true(compile['totalOps']! > 0, JSON.stringify(compile));
  t.is(compile['opsOnEdgeTpu'], compile['totalOps'], JSON.stringify(compile));
  for (const name of ['model.float.tflite', 'model.int8.tflite', 'compile-report.json'])
    t.is(record.artifacts[name], `gs://${stack.config.buckets.artifacts}/cnn/${upload.buildId}/${name}`, name);
  t.is(record.input.object, 'cnn.onnx');
  const doc = (await modelDoc(cloudClients(stack.config).firestore, 'cnn').get()).data()!;
  t.is(doc['latestBuildId'], upload.buildId);
  if (STAGE_CORES.verify) {
    t.is(record.status, 'succeeded', JSON.stringify(record.error));
    t.is(event?.type, 'dev.kiln.build.v1.completed');
  } else {
    t.is(record.error?.stage, 'verify');
  }
});
