import test from 'ava';
import { encode } from 'flatbuffers/mjs/flexbuffers.js';
import { ModelBuilder } from '../../shared/toolchain/ir/builder.js';
import type { IrModel } from '../../shared/toolchain/ir/model.js';
import { Interpreter } from '../../shared/toolchain/interpreter/index.js';
import { TfliteRuntime } from '../../shared/toolchain/runtime/tflite-runtime.js';
import type { Sample } from '../../shared/toolchain/data/dataset.js';
import { precheckModel } from '../../shared/toolchain/quantize/precheck.js';
import { quantizeModel } from '../../shared/toolchain/quantize/quantize-model.js';
import { quantizeInput } from '../../shared/toolchain/verify/accuracy/evaluate.js';
import { rng, uniformSamples } from '../helpers/models.js';
import { encodeInput, toBytes } from './helpers.js';

/** conv 1x1 (3 → 4 class scores) → ARG_MAX over the channels (int64), as segmentation models end. */
function argMaxModel(): IrModel {
  const r = rng(3);
  const b = new ModelBuilder();
  const x = b.input('image', [1, 6, 6, 3]);
  const w = b.constant(
    'w',
    'float32',
    [4, 1, 1, 3],
    Float32Array.from({ length: 12 }, () => r() * 2 - 1),
  );
  const logits = b.conv2d(x, w, b.constant('b', 'float32', [4], [0.1, -0.1, 0, 0.2]));
  const axis = b.constant('axis', 'int32', [], [3]);
  const [mask] = b.op('ARG_MAX', [logits, axis], { outputType: 4 }, { outputs: [{ name: 'mask', dtype: 'int64' }] });
  b.output(mask!);
  return b.build();
}

const images = (n: number, seed: number): Sample[] => uniformSamples(n, 6 * 6 * 3, seed);

test('ARG_MAX quantizes: int8 input with its own range, int64 output kept, op version 2; TFLite runs it', async (t) => {
  const float = argMaxModel();
  const { model, report } = await quantizeModel(float, { samples: images(16, 1), debugSamples: 0 });
  t.deepEqual(report.ops.float, []);
  t.deepEqual(precheckModel(model), []);
  const g = model.graph;
  const op = g.ops.find((o) => o.type === 'ARG_MAX')!;
  t.is(op.version, 2);
  t.is(g.tensor(op.inputs[0]!).dtype, 'int8');
  t.is(g.tensor(g.outputs[0]!).dtype, 'int64');
  const held = images(4, 2);
  const rt = await TfliteRuntime.load(toBytes(model));
  const ref = new Interpreter(float);
  try {
    let agree = 0;
    let total = 0;
    for (const [x] of held) {
      const [out] = await rt.run([encodeInput(g.tensor(g.inputs[0]!), x!)]);
      t.is(out!.dtype, 'kTfLiteInt64');
      const got = new BigInt64Array(out!.bytes.slice().buffer);
      const want = ref.run([x!]).outputs[0]!.data as BigInt64Array;
      got.forEach((v, i) => void (v === want[i] ? agree++ : 0));
      total += got.length;
    }
    t.true(agree / total >= 0.9, `int8 mask agrees with float on ${agree}/${total} pixels`);
  } finally {
    rt.close();
  }
});

const N = 6;
const CLASSES = 3;

/** An SSD tail: box encodings → RESHAPE, class logits (background + 3) → LOGISTIC, then TFLite_Detection_PostProcess. */
function detectionTail(): IrModel {
  const b = new ModelBuilder();
  const enc = b.input('box_encodings', [1, N, 1, 4]);
  const logits = b.input('class_logits', [1, N, CLASSES + 1]);
  const anchors = Array.from({ length: N }, (_, i) => [0.15 + 0.14 * i, 0.2 + 0.12 * i, 0.3, 0.25]).flat();
  const options = encode({
    max_detections: 3,
    max_classes_per_detection: 1,
    detections_per_class: 100,
    use_regular_nms: false,
    nms_score_threshold: 0.3,
    nms_iou_threshold: 0.6,
    num_classes: CLASSES,
    y_scale: 10,
    x_scale: 10,
    h_scale: 5,
    w_scale: 5,
  });
  b.op(
    'CUSTOM',
    [b.reshape(enc, [1, N, 4]), b.unary('LOGISTIC', logits), b.constant('anchors', 'float32', [N, 4], anchors)],
    {},
    {
      customCode: 'TFLite_Detection_PostProcess',
      customOptions: options,
      outputs: [
        { name: 'boxes', dtype: 'float32', shape: [1, 3, 4] },
        { name: 'classes', dtype: 'float32', shape: [1, 3] },
        { name: 'scores', dtype: 'float32', shape: [1, 3] },
        { name: 'count', dtype: 'float32', shape: [1] },
      ],
    },
  );
  const g = b.g;
  b.output(...g.ops[g.ops.length - 1]!.outputs);
  return b.build();
}

/** Box encodings in [-1, 1]; background-ish logits in [-4, -1] but for one clear object (anchor, class) per sample. */
const heads = (n: number, seed: number): Sample[] => {
  const r = rng(seed);
  return Array.from({ length: n }, () => {
    const logits = Float32Array.from({ length: N * (CLASSES + 1) }, () => -4 + 3 * r());
    logits[Math.floor(r() * N) * (CLASSES + 1) + 1 + Math.floor(r() * CLASSES)] = 2 + r();
    return [Float32Array.from({ length: N * 4 }, () => r() * 2 - 1), logits];
  });
};

test('TFLite_Detection_PostProcess stays float without the fallback option: DEQUANTIZE in, float32 boxes/classes/scores/count out', async (t) => {
  const float = detectionTail();
  const { model, report } = await quantizeModel(float, { samples: heads(16, 1), debugSamples: 0 });
  const g = model.graph;
  t.deepEqual(
    g.ops.map((o) => (o.type === 'CUSTOM' ? o.customCode : o.type)),
    ['QUANTIZE', 'QUANTIZE', 'RESHAPE', 'LOGISTIC', 'DEQUANTIZE', 'DEQUANTIZE', 'TFLite_Detection_PostProcess'],
  );
  t.deepEqual(report.ops.float, ['DEQUANTIZE', 'DEQUANTIZE', 'CUSTOM']);
  t.false(report.warnings.some((w) => /float fallback/.test(w)));
  t.deepEqual(
    g.outputs.map((o) => g.tensor(o).dtype),
    ['float32', 'float32', 'float32', 'float32'],
  );
  t.is(g.tensor(g.ops[g.ops.length - 1]!.inputs[2]!).dtype, 'float32', 'anchors stay float');
  const ref = new Interpreter(float);
  const rt = await TfliteRuntime.load(toBytes(model));
  try {
    for (const sample of heads(6, 2)) {
      const want = ref.run(sample).outputs.map((v) => Array.from(v.data as Float32Array));
      const outs = await rt.run(g.inputs.map((id, i) => encodeInput(g.tensor(id), sample[i]!)));
      const kiln = new Interpreter(model).run(g.inputs.map((id, i) => quantizeInput(g.tensor(id), sample[i]!)));
      const got = outs.map((o) => Array.from(new Float32Array(o.bytes.slice().buffer)));
      const count = got[3]![0]!;
      t.true(Number.isInteger(count) && count >= 1 && count <= 3);
      // Kiln's interpreter and the TFLite runtime agree on the int8 model (slots past count are unspecified).
      const used = (v: number[][]): number[][] => [
        v[0]!.slice(0, 4 * count),
        v[1]!.slice(0, count),
        v[2]!.slice(0, count),
      ];
      t.deepEqual(used(kiln.outputs.map((v) => Array.from(v.data as Float32Array))), used(got));
      // Class indices come out as the float op writes them (integers), and the clear object is found as in float.
      t.true(got[1]!.slice(0, count).every((c) => Number.isInteger(c) && c >= 0 && c < CLASSES));
      t.is(got[1]![0], want[1]![0]);
      t.true(Math.abs(got[2]![0]! - want[2]![0]!) < 0.01);
      for (let k = 0; k < 4; k++) t.true(Math.abs(got[0]![k]! - want[0]![k]!) < 0.02);
    }
  } finally {
    rt.close();
  }
});
