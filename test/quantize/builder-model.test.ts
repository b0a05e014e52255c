import test from 'ava';
import { ModelBuilder } from '../../shared/toolchain/ir/builder.js';
import type { IrModel } from '../../shared/toolchain/ir/model.js';
import { TfliteRuntime } from '../../shared/toolchain/runtime/tflite-runtime.js';
import { quantizeModel } from '../../shared/toolchain/quantize/quantize-model.js';
import { precheckModel } from '../../shared/toolchain/quantize/precheck.js';
import type { Sample } from '../../shared/toolchain/data/dataset.js';
import { SYNTHETIC_WARNING } from '../../shared/toolchain/data/dataset.js';
import { rng, uniformSamples } from '../helpers/models.js';
import { decodeOutput, encodeInput, toBytes } from './helpers.js';

/**
 * conv(RELU6) → depthwise(RELU) → maxpool ─┬────────────── concat → avgpool → add(const) → reshape → FC → softmax
 *                                          └ conv 1x1 ───┘                                          └→ logistic, tanh
 */
function fixture(): IrModel {
  const r = rng(11);
  const rand = (n: number, s = 1) => Float32Array.from({ length: n }, () => (r() * 2 - 1) * s);
  const b = new ModelBuilder();
  const x = b.input('image', [1, 8, 8, 3]);
  const c1 = b.conv2d(
    x,
    b.constant('c1/w', 'float32', [4, 3, 3, 3], rand(108, 0.5)),
    b.constant('c1/b', 'float32', [4], rand(4, 0.1)),
    { activation: 'RELU6' },
  );
  const d1 = b.depthwiseConv2d(
    c1,
    b.constant('d1/w', 'float32', [1, 3, 3, 4], rand(36)),
    b.constant('d1/b', 'float32', [4], rand(4, 0.1)),
    { activation: 'RELU' },
  );
  const p1 = b.pool('MAX_POOL_2D', d1, { filter: 2 });
  const c2 = b.conv2d(
    p1,
    b.constant('c2/w', 'float32', [4, 1, 1, 4], rand(16)),
    b.constant('c2/b', 'float32', [4], rand(4)),
  );
  const cat = b.concat([p1, c2], 3);
  const p2 = b.pool('AVERAGE_POOL_2D', cat, { filter: 2 });
  const added = b.binary('ADD', p2, b.constant('bias_map', 'float32', [1, 2, 2, 8], rand(32, 0.3)));
  const flat = b.reshape(added, [1, 32]);
  const logits = b.fullyConnected(
    flat,
    b.constant('fc/w', 'float32', [5, 32], rand(160, 0.4)),
    b.constant('fc/b', 'float32', [5], rand(5)),
  );
  b.output(b.softmax(logits), b.unary('LOGISTIC', logits), b.unary('TANH', logits));
  return b.build();
}

const samples = (n: number, seed: number): Sample[] => uniformSamples(n, 8 * 8 * 3, seed);

test('a float model built with the IR builder quantizes to full int8 that the TFLite runtime runs', async (t) => {
  const float = fixture();
  const { model, stats, report } = await quantizeModel(float, {
    samples: samples(24, 1),
    sampleSource: 'npy',
    debugSamples: 4,
  });
  const g = model.graph;
  t.deepEqual(precheckModel(model), []);
  t.false(g.tensors.some((x) => x.dtype === 'float32'));
  t.is(report.status, 'quantized');

  // uint8 I/O through QUANTIZE only at the ends
  t.is(g.tensor(g.inputs[0]!).dtype, 'uint8');
  t.true(g.outputs.every((o) => g.tensor(o).dtype === 'uint8'));
  const quantizeOps = g.ops.map((o, i) => (o.type === 'QUANTIZE' ? i : -1)).filter((i) => i >= 0);
  t.deepEqual(quantizeOps, [0, g.ops.length - 3, g.ops.length - 2, g.ops.length - 1]);
  t.false(g.ops.some((o) => o.type === 'DEQUANTIZE'));

  const byType = (type: string) => g.ops.filter((o) => o.type === type);
  const q = (id: number) => g.tensor(id).quant!;
  // per-channel conv weights on axis 0, depthwise on axis 3, per-tensor FC; int32 biases at in×w scale, axis 0
  const [conv] = byType('CONV_2D');
  t.is(q(conv!.inputs[1]!).axis, 0);
  t.is(q(conv!.inputs[1]!).scale.length, 4);
  t.is(q(byType('DEPTHWISE_CONV_2D')[0]!.inputs[1]!).axis, 3);
  const fc = byType('FULLY_CONNECTED')[0]!;
  t.is(q(fc.inputs[1]!).scale.length, 1);
  for (const op of [conv!, fc]) {
    const bias = g.tensor(op.inputs[2]!);
    t.is(bias.dtype, 'int32');
    t.is(bias.quant!.axis, 0);
    bias.quant!.scale.forEach((s, c) =>
      t.is(
        s,
        Math.fround(
          Math.fround(q(op.inputs[0]!).scale[0]!) *
            Math.fround(q(op.inputs[1]!).scale[c] ?? q(op.inputs[1]!).scale[0]!),
        ),
      ),
    );
    t.true(q(op.inputs[1]!).zeroPoint.every((z) => z === 0));
  }
  // same-scale ops share parameters; fused RELU6 bounds the conv output; fixed output scales
  const same = (a: number, b: number) => t.deepEqual([q(a).scale, q(a).zeroPoint], [q(b).scale, q(b).zeroPoint]);
  const cat = byType('CONCATENATION')[0]!;
  cat.inputs.forEach((i) => same(i, cat.outputs[0]!));
  same(byType('MAX_POOL_2D')[0]!.inputs[0]!, byType('MAX_POOL_2D')[0]!.outputs[0]!);
  same(byType('AVERAGE_POOL_2D')[0]!.inputs[0]!, byType('AVERAGE_POOL_2D')[0]!.outputs[0]!);
  same(byType('RESHAPE')[0]!.inputs[0]!, byType('RESHAPE')[0]!.outputs[0]!);
  t.true(q(conv!.outputs[0]!).max![0]! <= 6);
  t.deepEqual(
    [q(byType('SOFTMAX')[0]!.outputs[0]!).scale[0], q(byType('SOFTMAX')[0]!.outputs[0]!).zeroPoint[0]],
    [1 / 256, -128],
  );
  t.deepEqual(
    [q(byType('LOGISTIC')[0]!.outputs[0]!).scale[0], q(byType('LOGISTIC')[0]!.outputs[0]!).zeroPoint[0]],
    [1 / 256, -128],
  );
  t.deepEqual(
    [q(byType('TANH')[0]!.outputs[0]!).scale[0], q(byType('TANH')[0]!.outputs[0]!).zeroPoint[0]],
    [1 / 128, 0],
  );
  // uint8 outputs: zero point shifted by 128
  t.is(q(g.outputs[0]!).zeroPoint[0], 0);

  // the runtime runs it and agrees with the float model within a few output steps
  const fr = await TfliteRuntime.load(toBytes(float));
  const qr = await TfliteRuntime.load(toBytes(model));
  try {
    let worst = 0;
    let sum = 0;
    let n = 0;
    for (const [x] of samples(10, 2)) {
      const fo = await fr.run([encodeInput(float.graph.tensor(float.graph.inputs[0]!), x!)]);
      const qo = await qr.run([encodeInput(g.tensor(g.inputs[0]!), x!)]);
      for (let k = 0; k < 3; k++) {
        const f = decodeOutput(float.graph.tensor(float.graph.outputs[k]!), fo[k]!.bytes);
        const qq = decodeOutput(g.tensor(g.outputs[k]!), qo[k]!.bytes);
        f.forEach((v, i) => {
          const e = Math.abs(v - qq[i]!) / q(g.outputs[k]!).scale[0]!;
          worst = Math.max(worst, e);
          sum += e;
          n++;
        });
      }
    }
    t.true(worst <= 20 && sum / n <= 4, `output error: worst ${worst}, mean ${sum / n} LSB`);
  } finally {
    fr.close();
    qr.close();
  }
  // the debugger covers every activation
  t.is(report.layers.length, float.graph.tensors.filter((x) => !x.data).length);
  t.true(report.worstLayers.length > 0 && report.worstLayers.every((l) => Number.isFinite(l.snrDb)));

  // re-applying the stats gives the same bytes
  const again = await quantizeModel(float, { stats: JSON.parse(JSON.stringify(stats)), debugSamples: 0 });
  t.deepEqual(toBytes(again.model), toBytes(model));
  t.true(again.report.calibration.fromStats);
});

test('int8 I/O: no QUANTIZE op at all; the runtime loads it', async (t) => {
  const { model } = await quantizeModel(fixture(), { samples: samples(8, 3), io: 'int8', debugSamples: 0 });
  t.false(model.graph.ops.some((o) => o.type === 'QUANTIZE' || o.type === 'DEQUANTIZE'));
  t.is(model.graph.tensor(model.graph.inputs[0]!).dtype, 'int8');
  const rt = await TfliteRuntime.load(toBytes(model));
  t.is(rt.inputs[0]!.dtype, 'int8');
  rt.close();
});

test('without calibration data: synthetic inputs and a loud warning', async (t) => {
  const { model, report } = await quantizeModel(fixture(), { debugSamples: 2 });
  t.true(report.calibration.synthetic);
  t.true(report.warnings.includes(SYNTHETIC_WARNING));
  t.deepEqual(precheckModel(model), []);
});

function withUnsupported(): IrModel {
  const b = new ModelBuilder();
  const x = b.input('x', [1, 4]);
  const w = b.constant(
    'w',
    'float32',
    [4, 4],
    Float32Array.from({ length: 16 }, (_v, i) => (i % 5) - 2),
  );
  const h = b.fullyConnected(x, w, null);
  const e = b.unary('EXP', h);
  b.output(b.fullyConnected(e, w, null));
  return b.build();
}

test('an op without an int8 kernel stops quantization, or stays float between DEQUANTIZE/QUANTIZE when allowed', async (t) => {
  const s = samples(4, 5).map(([x]) => [x!.slice(0, 4)]);
  const e = await t.throwsAsync(quantizeModel(withUnsupported(), { samples: s }));
  t.is((e as { code?: string }).code, 'E_UNSUPPORTED_OP');
  t.regex(e!.message, /EXP/);
  const { model, report } = await quantizeModel(withUnsupported(), {
    samples: s,
    allowFloatFallback: true,
    debugSamples: 0,
  });
  t.deepEqual(
    model.graph.ops.map((o) => o.type),
    ['QUANTIZE', 'FULLY_CONNECTED', 'DEQUANTIZE', 'EXP', 'QUANTIZE', 'FULLY_CONNECTED', 'QUANTIZE'],
  );
  t.true(report.warnings.some((w) => /float fallback: EXP/.test(w)));
  const rt = await TfliteRuntime.load(toBytes(model));
  const [out] = await rt.run([new Uint8Array([128, 140, 100, 200])]);
  t.is(out!.dtype, 'uint8');
  rt.close();
});

test('stats made for another model are refused', async (t) => {
  const { stats } = await quantizeModel(fixture(), { samples: samples(2, 6), debugSamples: 0 });
  const e = await t.throwsAsync(quantizeModel(withUnsupported(), { stats: stats!, allowFloatFallback: true }));
  t.is((e as { code?: string }).code, 'E_BAD_ARGUMENT');
});
