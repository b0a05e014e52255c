import test from 'ava';
import { ModelBuilder } from '../../shared/toolchain/ir/builder.js';
import { toTflite } from '../../shared/toolchain/ir/to-tflite.js';
import { fromTflite } from '../../shared/toolchain/ir/from-tflite.js';
import { writeTflite } from '../../shared/toolchain/tflite/writer.js';
import { readTflite } from '../../shared/toolchain/tflite/reader.js';
import { TfliteRuntime } from '../../shared/toolchain/runtime/tflite-runtime.js';
import { bytesOf, typedView } from '../../shared/toolchain/ir/dtype.js';
import { rng } from '../helpers/models.js';

// conv(3x3, SAME, stride 1) → relu → fully connected → softmax, float32, on a 5x5x2 input.
const H = 5,
  W = 5,
  C = 2,
  F = 3,
  K = 3,
  UNITS = 4;

function fixture() {
  const r = rng(7);
  const rand = (n: number) => Float32Array.from({ length: n }, () => r() * 2 - 1);
  return {
    x: rand(H * W * C),
    filt: rand(F * K * K * C),
    bias: rand(F),
    fcw: rand(UNITS * H * W * F),
    fcb: rand(UNITS),
  };
}

/** Independent reference: plain loops in float64, straight from the op definitions. */
function reference(f: ReturnType<typeof fixture>): number[] {
  const conv = new Float64Array(H * W * F);
  for (let y = 0; y < H; y++)
    for (let x = 0; x < W; x++)
      for (let o = 0; o < F; o++) {
        let s = f.bias[o]!;
        for (let ky = 0; ky < K; ky++)
          for (let kx = 0; kx < K; kx++)
            for (let c = 0; c < C; c++) {
              const iy = y + ky - 1,
                ix = x + kx - 1;
              if (iy < 0 || iy >= H || ix < 0 || ix >= W) continue;
              s += f.x[(iy * W + ix) * C + c]! * f.filt[((o * K + ky) * K + kx) * C + c]!;
            }
        conv[(y * W + x) * F + o] = Math.max(0, s);
      }
  const logits = Array.from({ length: UNITS }, (_u, u) => {
    let s = f.fcb[u]!;
    for (let i = 0; i < conv.length; i++) s += conv[i]! * f.fcw[u * conv.length + i]!;
    return s;
  });
  const m = Math.max(...logits);
  const e = logits.map((v) => Math.exp(v - m));
  const z = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / z);
}

function build(f: ReturnType<typeof fixture>) {
  const b = new ModelBuilder();
  const x = b.input('image', [1, H, W, C]);
  const y = b.conv2d(
    x,
    b.constant('conv/w', 'float32', [F, K, K, C], f.filt),
    b.constant('conv/b', 'float32', [F], f.bias),
    { activation: 'RELU' },
  );
  const flat = b.reshape(y, [1, H * W * F]);
  const logits = b.fullyConnected(
    flat,
    b.constant('fc/w', 'float32', [UNITS, H * W * F], f.fcw),
    b.constant('fc/b', 'float32', [UNITS], f.fcb),
  );
  b.output(b.softmax(logits));
  return b.build();
}

test('a model built with the IR builder runs in the TFLite runtime and matches an independent computation', async (t) => {
  const f = fixture();
  const bytes = writeTflite(toTflite(build(f)));
  const rt = await TfliteRuntime.load(bytes);
  try {
    t.deepEqual(rt.inputs[0]!.shape, [1, H, W, C]);
    const [out] = await rt.run([bytesOf(f.x)]);
    const got = Array.from(typedView('float32', out!.bytes) as Float32Array);
    const want = reference(f);
    t.deepEqual(out!.shape, [1, UNITS]);
    for (let i = 0; i < UNITS; i++)
      t.true(Math.abs(got[i]! - want[i]!) <= 1e-5, `output ${i}: ${got[i]} vs ${want[i]}`);
    t.true(Math.abs(got.reduce((a, b) => a + b, 0) - 1) < 1e-5);
  } finally {
    rt.close();
  }
});

test('shape inference gives the conv output shape and the IR survives tflite → IR → tflite', (t) => {
  const model = build(fixture());
  const g = model.graph;
  const convOut = g.ops[0]!.outputs[0]!;
  t.deepEqual(g.tensor(convOut).shape, [1, H, W, F]);
  const again = fromTflite(readTflite(writeTflite(toTflite(model))));
  t.deepEqual(
    again.graph.ops.map((o) => o.type),
    ['CONV_2D', 'RESHAPE', 'FULLY_CONNECTED', 'SOFTMAX'],
  );
  t.deepEqual(
    again.graph.tensors.map((x) => x.shape),
    g.tensors.map((x) => x.shape),
  );
  t.deepEqual(again.graph.tensor(1).data, g.tensor(1).data);
});
