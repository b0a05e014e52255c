import test from 'ava';
import { ModelBuilder } from '../../shared/toolchain/ir/builder.js';
import { Interpreter } from '../../shared/toolchain/interpreter/index.js';
import { TfliteRuntime } from '../../shared/toolchain/runtime/tflite-runtime.js';
import { quantizeModel } from '../../shared/toolchain/quantize/quantize-model.js';
import { precheckModel } from '../../shared/toolchain/quantize/precheck.js';
import { bytesOf } from '../../shared/toolchain/ir/dtype.js';
import { feedInput } from '../../shared/toolchain/data/feed.js';
import { rng, uniformSamples } from '../helpers/models.js';
import { toBytes } from './helpers.js';

/** conv 3x3 → GATHER_ND of three [0, y, x] rows (MoveNet's keypoint lookup) → FC. */
function fixture() {
  const r = rng(5);
  const rand = (n: number, s = 1) => Float32Array.from({ length: n }, () => (r() * 2 - 1) * s);
  const b = new ModelBuilder();
  const x = b.input('image', [1, 6, 6, 2]);
  const c = b.conv2d(
    x,
    b.constant('c/w', 'float32', [4, 3, 3, 2], rand(72, 0.5)),
    b.constant('c/b', 'float32', [4], rand(4, 0.1)),
  );
  const idx = b.constant('idx', 'int32', [3, 3], [0, 1, 1, 0, 4, 2, 0, 5, 5]);
  const rows = b.op('GATHER_ND', [c, idx], {}, { outputs: [{ name: 'rows', shape: [3, 4] }] })[0]!;
  const flat = b.reshape(rows, [1, 12]);
  b.output(
    b.fullyConnected(
      flat,
      b.constant('fc/w', 'float32', [3, 12], rand(36)),
      b.constant('fc/b', 'float32', [3], rand(3)),
    ),
  );
  return b.build();
}

test('GATHER_ND quantizes to int8 with its params input scale and zero point, and the TFLite runtime agrees bit for bit', async (t) => {
  const float = fixture();
  const samples = uniformSamples(16, 72, 3);
  const { model, report } = await quantizeModel(float, { samples, sampleSource: 'npy', debugSamples: 2 });
  const g = model.graph;
  t.deepEqual(report.ops.float, []);
  t.deepEqual(precheckModel(model), []);
  const op = g.ops.find((o) => o.type === 'GATHER_ND')!;
  t.is(op.version, 1);
  const params = g.tensor(op.inputs[0]!);
  const out = g.tensor(op.outputs[0]!);
  t.is(params.dtype, 'int8');
  t.is(out.dtype, 'int8');
  t.deepEqual([out.quant!.scale, out.quant!.zeroPoint], [params.quant!.scale, params.quant!.zeroPoint]);
  t.is(g.tensor(op.inputs[1]!).dtype, 'int32');

  const interp = new Interpreter(model);
  const rt = await TfliteRuntime.load(toBytes(model));
  try {
    for (const s of samples.slice(0, 4)) {
      const inputs = interp.inputs.map((tt, i) => feedInput(tt, s[i]!));
      const got = interp.run(inputs).outputs[0]!;
      const want = (await rt.run(inputs.map((a) => bytesOf(a))))[0]!;
      t.deepEqual(bytesOf(got.data), want.bytes);
    }
  } finally {
    rt.close();
  }
});
