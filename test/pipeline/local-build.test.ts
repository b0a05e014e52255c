import test from 'ava';
import { KilnError } from '../../shared/common/errors.js';
import { buildInProcess } from '../../shared/pipeline/build-in-process.js';
import { exitCodeOfResult, resultFromRecord } from '../../shared/pipeline/build-result.js';
import type { StageCores } from '../../shared/pipeline/core.js';
import type { LocalModel } from '../../shared/pipeline/local-model.js';
import { TfliteRuntime } from '../../shared/toolchain/runtime/tflite-runtime.js';
import { STRIPES_CLASSES, stripesImage, stripesModel } from '../../shared/toolchain/samples/stripes.js';

const model = (config: unknown): LocalModel => ({
  kind: 'single-file',
  name: 'm.tflite',
  format: 'tflite',
  files: new Map([['m.tflite', new Uint8Array([1, 2, 3])]]),
  configText: JSON.stringify(config),
});

const enc = (s: string) => new TextEncoder().encode(s);
const cores = (seen: string[]): StageCores => ({
  convert: async ({ artifacts }) => {
    seen.push(`convert:${[...artifacts.keys()].join(',')}`);
    return { artifacts: { 'model.float.tflite': enc('f') }, summary: { ops: 1 } };
  },
  quantize: async () => ({ artifacts: { 'model.int8.tflite': enc('q') }, summary: {} }),
  compile: async ({ unit, artifacts }) => {
    seen.push(`compile:${unit.key}:${artifacts.has('model.int8.tflite')}`);
    return { artifacts: { 'compile.log': enc(unit.key) }, summary: { target: unit.key } };
  },
  verify: async () => ({ artifacts: { 'report.json': enc('{}') }, summary: { ok: true } }),
});

test('the in-process build fans out per compile target and names artifacts as the bucket does', async (t) => {
  const seen: string[] = [];
  const { record, artifacts } = await buildInProcess(
    model({ compile: { targets: [{ minRuntimeVersion: 13 }, { numSegments: 2 }] } }),
    { cores: cores(seen), maxFanout: 8 },
  );
  t.is(record.status, 'succeeded');
  t.deepEqual(seen, ['convert:upload/m.tflite', 'compile:m13:true', 'compile:n2:true']);
  t.deepEqual([...artifacts.keys()].sort(), [
    'm13/compile.log',
    'model.float.tflite',
    'model.int8.tflite',
    'n2/compile.log',
    'report.json',
  ]);
  t.deepEqual(record.summary['compile'], { m13: { target: 'm13' }, n2: { target: 'n2' } });
  t.false('finish' in record.summary);
  t.is(exitCodeOfResult(resultFromRecord(record, (n) => n)), 0);
});

test('a stage that rejects the input fails the build there, keeping earlier artifacts; exit code 2', async (t) => {
  const c = cores([]);
  c.quantize = async () => {
    throw new KilnError('E_UNSUPPORTED_OP', 'op FOO is not supported');
  };
  const { record, artifacts } = await buildInProcess(model({}), { cores: c, maxFanout: 8 });
  t.is(record.status, 'failed');
  t.is(record.error?.stage, 'quantize');
  t.is(record.error?.code, 'E_UNSUPPORTED_OP');
  t.deepEqual([...artifacts.keys()], ['model.float.tflite']);
  t.is(exitCodeOfResult(resultFromRecord(record, (n) => n)), 2);
});

test('a missing stage core fails the build with "not available in this build" (exit 1), never a fake success', async (t) => {
  const c = cores([]);
  delete c.verify;
  const { record } = await buildInProcess(model({}), { cores: c, maxFanout: 8 });
  t.is(record.error?.stage, 'verify');
  t.regex(record.error?.message ?? '', /stage verify is not available in this build/);
  t.is(exitCodeOfResult(resultFromRecord(record, (n) => n)), 1);
});

test('the bundled sample model classifies stripes and flat images in the TFLite runtime', async (t) => {
  const rt = await TfliteRuntime.load(stripesModel());
  try {
    for (const [k, kind] of STRIPES_CLASSES.entries()) {
      for (const [amp, period] of [
        [1, 4],
        [0.5, 6],
      ] as const) {
        const [out] = await rt.run([new Uint8Array(stripesImage(kind, amp, period).buffer)]);
        const p = new Float32Array(out!.bytes.slice().buffer);
        t.is(p.indexOf(Math.max(...p)), k, `${kind} amplitude ${amp} period ${period}: ${[...p].join(', ')}`);
      }
    }
  } finally {
    rt.close();
  }
});
