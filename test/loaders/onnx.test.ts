import test from 'ava';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isKilnError } from '../../shared/common/errors.js';
import { convertFiles, toTfliteBytes } from '../../shared/toolchain/loaders/convert.js';
import { detectFormat } from '../../shared/toolchain/loaders/detect.js';
import { MemoryFiles } from '../../shared/toolchain/loaders/files.js';
import { TfliteRuntime } from '../../shared/toolchain/runtime/tflite-runtime.js';
import { buildInProcess } from '../../shared/pipeline/build-in-process.js';
import { STAGE_CORES } from '../../shared/pipeline/cores/index.js';
import { readLocalModel } from '../../shared/pipeline/local-model.js';
import { checkUploadBytes, SNIFF_BYTES } from '../../shared/pipeline/sniff.js';
import { classifyUpload } from '../../shared/pipeline/uploads.js';
import { pytorchCnn, runtimeOperandsModel, unsupportedModel } from './helpers/onnx-models.js';

const file = (bytes: Uint8Array, name = 'model.onnx'): MemoryFiles =>
  new MemoryFiles(name, new Map([[name, bytes]]), 'file', name);

function image(seed: number, n = 3 * 16 * 16): Float32Array {
  let s = seed;
  return Float32Array.from({ length: n }, () => {
    s = (s * 16807) % 2147483647;
    return (s / 2147483647) * 2 - 1;
  });
}

/** NCHW → NHWC of one [1, C, H, W] image. */
function toNhwc(x: Float32Array, c: number, h: number, w: number): Float32Array {
  const out = new Float32Array(x.length);
  for (let k = 0; k < c; k++) for (let i = 0; i < h * w; i++) out[i * c + k] = x[k * h * w + i]!;
  return out;
}

test('an .onnx file is detected from its content, and upload sniffing accepts it', (t) => {
  const bytes = pytorchCnn();
  t.is(detectFormat(file(bytes, 'whatever.bin')).format, 'onnx');
  t.is(classifyUpload('net.onnx', undefined).kind, 'single-file');
  t.notThrows(() => checkUploadBytes('net.onnx', 'onnx', bytes));
  const e = t.throws(() => checkUploadBytes('net.onnx', 'onnx', new TextEncoder().encode('not a model at all')));
  t.true(isKilnError(e) && e.message.includes('not an ONNX model'));
  // ingest reads only the first SNIFF_BYTES: the graph field is cut off there, and that prefix still passes
  const head = bytes.subarray(0, SNIFF_BYTES);
  t.notThrows(() => checkUploadBytes('net.onnx', 'onnx', head, false));
  t.throws(() => checkUploadBytes('net.onnx', 'onnx', head), { message: /not an ONNX model/ });
  const text = new TextEncoder().encode('x'.repeat(SNIFF_BYTES));
  t.throws(() => checkUploadBytes('net.onnx', 'onnx', text, false), { message: /not an ONNX model/ });
});

test('a PyTorch-style CNN converts with one transpose at its input, none inside, and matches onnxruntime', async (t) => {
  const bytes = pytorchCnn();
  const r = convertFiles(file(bytes));
  const types = r.model.graph.ops.map((o) => o.type);
  // BN and bias folded into the convolutions, ReLU/ReLU6 fused; the NCHW input is transposed once, up front
  t.deepEqual(types.filter((x) => x === 'TRANSPOSE').length, 1);
  t.is(types[0], 'TRANSPOSE');
  t.false(types.includes('MUL') || types.includes('ADD'));
  t.deepEqual(r.inputs, [{ name: 'input', dtype: 'float32', shape: [1, 3, 16, 16] }]);
  t.deepEqual(r.outputs, [{ name: 'logits', dtype: 'float32', shape: [1, 10] }]);
  t.deepEqual(r.inputLayout, [{ name: 'input', layout: 'as exported' }]);

  const ort = await import('onnxruntime-node');
  const session = await ort.InferenceSession.create(bytes);
  const rt = await TfliteRuntime.load(toTfliteBytes(r.model));
  try {
    for (const seed of [1, 2, 3]) {
      const x = image(seed);
      const want = (await session.run({ input: new ort.Tensor('float32', x, [1, 3, 16, 16]) }))['logits']!
        .data as Float32Array;
      const [out] = await rt.run([new Uint8Array(x.buffer)]);
      const got = new Float32Array(out!.bytes.slice().buffer);
      t.is(got.length, 10);
      for (let i = 0; i < 10; i++) t.true(Math.abs(got[i]! - want[i]!) < 1e-4, `logit ${i}: ${got[i]} vs ${want[i]}`);
    }
  } finally {
    rt.close();
  }
});

test('with NHWC image inputs the converted CNN has no TRANSPOSE at all and computes the same', async (t) => {
  const bytes = pytorchCnn();
  const nchw = convertFiles(file(bytes));
  const nhwc = convertFiles(file(bytes), { inputLayout: 'nhwc' });
  t.false(nhwc.model.graph.ops.some((o) => o.type === 'TRANSPOSE'));
  t.deepEqual(nhwc.inputs[0]!.shape, [1, 16, 16, 3]);
  t.deepEqual(nhwc.inputLayout, [{ name: 'input', layout: 'NHWC' }]);
  const a = await TfliteRuntime.load(toTfliteBytes(nchw.model));
  const b = await TfliteRuntime.load(toTfliteBytes(nhwc.model));
  try {
    const x = image(7);
    const [ya] = await a.run([new Uint8Array(x.buffer)]);
    const [yb] = await b.run([new Uint8Array(toNhwc(x, 3, 16, 16).buffer)]);
    const fa = new Float32Array(ya!.bytes.slice().buffer);
    const fb = new Float32Array(yb!.bytes.slice().buffer);
    fa.forEach((v, i) => t.true(Math.abs(v - fb[i]!) < 1e-5));
  } finally {
    a.close();
    b.close();
  }
});

test('Slice bounds and ReduceSum axes fed at run time are read by the converted model, as onnxruntime reads them', async (t) => {
  const bytes = runtimeOperandsModel();
  const r = convertFiles(file(bytes));
  const types = r.model.graph.ops.map((o) => o.type);
  t.true(types.includes('STRIDED_SLICE') && types.includes('SUM'));
  const ort = await import('onnxruntime-node');
  const session = await ort.InferenceSession.create(bytes);
  const rt = await TfliteRuntime.load(toTfliteBytes(r.model));
  const x = image(7, 24);
  const i64 = (v: number): BigInt64Array => BigInt64Array.from([BigInt(v)]);
  const bytesOf = (a: Float32Array | BigInt64Array): Uint8Array => new Uint8Array(a.buffer);
  try {
    const seen = new Set<string>();
    // different run-time operands, same output shape [2, 2]: the result must follow the operands
    for (const [axis, start, end] of [
      [1, 0, 2],
      [1, 2, 4],
      [-2, 1, 3],
      [1, -2, 1000],
    ] as const) {
      const feeds = {
        x: new ort.Tensor('float32', x, [2, 3, 4]),
        axes: new ort.Tensor('int64', i64(axis), [1]),
        starts: new ort.Tensor('int64', i64(start), [1]),
        ends: new ort.Tensor('int64', i64(end), [1]),
      };
      const want = (await session.run(feeds))['y']!.data as Float32Array;
      const [out] = await rt.run([bytesOf(x), bytesOf(i64(axis)), bytesOf(i64(start)), bytesOf(i64(end))]);
      const got = new Float32Array(out!.bytes.slice().buffer);
      t.is(got.length, 4);
      for (let i = 0; i < 4; i++)
        t.true(Math.abs(got[i]! - want[i]!) < 1e-5, `${axis} ${start}:${end} [${i}]: ${got[i]} vs ${want[i]}`);
      seen.add(Array.from(got).join());
    }
    t.true(seen.size >= 3, 'the operands change the result');
  } finally {
    rt.close();
  }
});

test('an op without a TFLite builtin is refused by name with its node (exit 2), not a crash', (t) => {
  const e = t.throws(() => convertFiles(file(unsupportedModel())));
  t.true(isKilnError(e));
  if (!isKilnError(e)) return;
  t.is(e.code, 'E_UNSUPPORTED_OP');
  t.regex(e.message, /StringNormalizer/);
  t.regex(e.message, /the_normalizer/);
});

test('kiln build in-process: the ONNX CNN quantizes to int8 and runs fully on the Edge TPU', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'kiln-onnx-'));
  writeFileSync(join(dir, 'cnn.onnx'), pytorchCnn());
  writeFileSync(join(dir, 'cnn.kiln.json'), JSON.stringify({ convert: { inputLayout: 'nhwc' } }));
  const model = await readLocalModel(join(dir, 'cnn.onnx'));
  const { record } = await buildInProcess(model, { cores: STAGE_CORES, maxFanout: 8 });
  t.is(record.status, 'succeeded', JSON.stringify(record.error));
  const convert = record.summary['convert'] as Record<string, unknown>;
  t.is(convert['format'], 'onnx');
  t.deepEqual(convert['inputLayout'], [{ name: 'input', layout: 'NHWC' }]);
  // one compile target: its summary is the stage's summary
  const compile = record.summary['compile'] as Record<string, unknown>;
  t.truthy(compile, JSON.stringify(record.summary));
  t.true((compile['totalOps'] as number) > 0, JSON.stringify(compile));
  t.is(compile['opsOnEdgeTpu'], compile['totalOps'], JSON.stringify(compile));
});
