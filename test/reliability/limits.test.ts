import test from 'ava';
import { buildInProcess } from '../../shared/pipeline/build-in-process.js';
import { loadConfig } from '../../shared/pipeline/config.js';
import type { StageCores } from '../../shared/pipeline/core.js';
import { convertCore } from '../../shared/pipeline/cores/convert.js';
import { limitsOf, withLimits, type BuildLimits } from '../../shared/pipeline/limits.js';
import type { LocalModel } from '../../shared/pipeline/local-model.js';
import { tinyCnnTflite } from '../../shared/toolchain/samples/tiny-cnn.js';

const LOOSE: BuildLimits = {
  maxUploadBytes: 1 << 30,
  maxParameters: 1e9,
  maxCalibrationImages: 1000,
  stageTimeoutMs: 600_000,
};
const enc = (s: string) => new TextEncoder().encode(s);
const single = (bytes: Uint8Array, config: unknown = {}): LocalModel => ({
  kind: 'single-file',
  name: 'm.tflite',
  format: 'tflite',
  files: new Map([['m.tflite', bytes]]),
  configText: JSON.stringify(config),
});
const rest: StageCores = {
  quantize: async () => ({ artifacts: { 'model.int8.tflite': enc('q') }, summary: {} }),
  compile: async () => ({ artifacts: { 'compile.log': enc('c') }, summary: {} }),
  verify: async () => ({ artifacts: { 'report.json': enc('{}') }, summary: {} }),
};
const build = (
  model: LocalModel,
  limits: Partial<BuildLimits>,
  cores: StageCores = { convert: convertCore, ...rest },
) => buildInProcess(model, { cores: withLimits(cores, () => ({ ...LOOSE, ...limits })), maxFanout: 8 });

test('the limits come from KILN_* variables, validated by the zod config', (t) => {
  const l = limitsOf(
    loadConfig({
      KILN_MAX_UPLOAD_BYTES: '1000',
      KILN_MAX_PARAMETERS: '2000',
      KILN_MAX_CALIBRATION_IMAGES: '30',
      KILN_STAGE_TIMEOUT_MS: '4000',
    }),
  );
  t.deepEqual(l, { maxUploadBytes: 1000, maxParameters: 2000, maxCalibrationImages: 30, stageTimeoutMs: 4000 });
  const d = limitsOf(loadConfig({}));
  t.true(d.maxParameters > 1e6 && d.maxCalibrationImages > 100);
  t.is(d.stageTimeoutMs, undefined, 'unset: each stage keeps its own deadline (stage-settings.ts)');
  const e = t.throws(() => loadConfig({ KILN_MAX_PARAMETERS: 'lots', KILN_STAGE_TIMEOUT_MS: '0' }));
  t.regex(e.message, /KILN_MAX_PARAMETERS/);
  t.regex(e.message, /KILN_STAGE_TIMEOUT_MS/);
});

test('upload size: a build over KILN_MAX_UPLOAD_BYTES fails in convert, naming the size and the limit', async (t) => {
  const bytes = tinyCnnTflite(2);
  const { record } = await build(single(bytes), { maxUploadBytes: 1000 });
  t.is(record.status, 'failed');
  t.like(record.error, { stage: 'convert', code: 'E_BAD_ARGUMENT', retryable: false });
  t.regex(
    record.error!.message,
    new RegExp(`upload size in bytes is ${bytes.length}; the limit is 1000 \\(KILN_MAX_UPLOAD_BYTES\\)`),
  );
  t.is((await build(single(bytes), { maxUploadBytes: bytes.length })).record.status, 'succeeded');
});

test('parameters: a converted model over KILN_MAX_PARAMETERS fails in convert with its parameter count', async (t) => {
  const { record } = await build(single(tinyCnnTflite(2)), { maxParameters: 188 });
  t.like(record.error, { stage: 'convert', code: 'E_BAD_ARGUMENT' });
  t.regex(record.error!.message, /number of model parameters is 189; the limit is 188 \(KILN_MAX_PARAMETERS\)/);
  t.is((await build(single(tinyCnnTflite(2)), { maxParameters: 189 })).record.status, 'succeeded');
});

test('calibration images: files in the upload and quantize.samples are both capped', async (t) => {
  const folder: LocalModel = {
    kind: 'folder',
    name: 'f',
    files: new Map([
      ['model.tflite', tinyCnnTflite(2)],
      ...[1, 2, 3].map((i) => [`calibration/${i}.jpg`, new Uint8Array(8)] as [string, Uint8Array]),
      ['calibration/labels.txt', new Uint8Array(4)],
    ]),
    configText: '{}',
  };
  const { record } = await build(
    folder,
    { maxCalibrationImages: 2 },
    { convert: async () => ({ artifacts: {}, summary: {} }), ...rest },
  );
  t.like(record.error, { stage: 'convert', code: 'E_BAD_ARGUMENT' });
  t.regex(
    record.error!.message,
    /calibration images in the upload is 3; the limit is 2 \(KILN_MAX_CALIBRATION_IMAGES\)/,
  );
  const samples = await build(single(tinyCnnTflite(2), { quantize: { samples: 50 } }), { maxCalibrationImages: 10 });
  t.like(samples.record.error, { stage: 'quantize', code: 'E_BAD_ARGUMENT' });
  t.regex(samples.record.error!.message, /quantize\.samples in kiln\.json is 50; the limit is 10/);
});

test('per-stage time: a unit still running at KILN_STAGE_TIMEOUT_MS fails its build with the limit', async (t) => {
  let finished = false;
  const slow: StageCores = {
    ...rest,
    convert: async () => {
      await new Promise((r) => setTimeout(r, 3000));
      finished = true;
      return { artifacts: { 'model.float.tflite': tinyCnnTflite(2) }, summary: {} };
    },
  };
  const { record } = await build(single(tinyCnnTflite(2)), { stageTimeoutMs: 100 }, slow);
  t.false(finished, 'the build did not wait for the slow core');
  t.like(record.error, { stage: 'convert', code: 'E_BAD_ARGUMENT', retryable: false });
  t.regex(record.error!.message, /convert ran past its 100 ms deadline \(KILN_STAGE_TIMEOUT_MS\)/);
  // a core that blocks the event loop past the limit (no chance to pre-empt it) fails too once it returns
  const blocking: StageCores = {
    ...rest,
    convert: async () => {
      const until = Date.now() + 300;
      while (Date.now() < until);
      return { artifacts: { 'model.float.tflite': tinyCnnTflite(2) }, summary: {} };
    },
  };
  const b = await build(single(tinyCnnTflite(2)), { stageTimeoutMs: 100 }, blocking);
  t.regex(b.record.error?.message ?? '', /ran past its 100 ms deadline/);
});

test('the registered stage cores apply the limits of the environment (kiln build and the functions alike)', async (t) => {
  const { STAGE_CORES } = await import('../../shared/pipeline/cores/index.js');
  process.env['KILN_MAX_PARAMETERS'] = '50';
  try {
    const { record } = await buildInProcess(single(tinyCnnTflite(2)), { cores: STAGE_CORES, maxFanout: 8 });
    t.regex(record.error?.message ?? '', /the limit is 50 \(KILN_MAX_PARAMETERS\)/);
  } finally {
    delete process.env['KILN_MAX_PARAMETERS'];
  }
});
