import test from 'ava';
import { ModelBuilder } from '../../shared/toolchain/ir/builder.js';
import type { IrModel } from '../../shared/toolchain/ir/model.js';
import { toTfliteBytes } from '../../shared/toolchain/loaders/convert.js';
import { optimize } from '../../shared/toolchain/loaders/rewrites/index.js';
import { TfliteRuntime } from '../../shared/toolchain/runtime/tflite-runtime.js';
import { rng } from '../../shared/common/rng.js';

let r = rng(11);
const rand = (n: number, lo = -1, hi = 1): Float32Array => Float32Array.from({ length: n }, () => lo + (hi - lo) * r());
/** Model factories draw their weights from a fresh seed, so two calls build the same model (optimize mutates). */
const seeded =
  <A extends unknown[]>(f: (...a: A) => IrModel) =>
  (...a: A): IrModel => {
    r = rng(11);
    return f(...a);
  };

async function run(m: IrModel, x: Float32Array): Promise<Float32Array[]> {
  const rt = await TfliteRuntime.load(toTfliteBytes(m));
  try {
    return (await rt.run([new Uint8Array(x.buffer)])).map((o) => new Float32Array(o.bytes.slice().buffer));
  } finally {
    rt.close();
  }
}

async function sameFunction(
  t: import('ava').ExecutionContext,
  before: IrModel,
  after: IrModel,
  inputSize: number,
): Promise<void> {
  const x = Float32Array.from({ length: inputSize }, (_v, i) => Math.sin(i * 1.7) * 2);
  const [a, b] = [await run(before, x), await run(after, x)];
  a.forEach((o, k) =>
    o.forEach((v, i) =>
      t.true(Math.abs(v - b[k]![i]!) <= 1e-5 * Math.max(1, Math.abs(v)), `output ${k}[${i}]: ${v} vs ${b[k]![i]}`),
    ),
  );
}

const convBnRelu6 = seeded((opts: { depthwise?: boolean; extraUse?: boolean } = {}): IrModel => {
  const b = new ModelBuilder();
  const x = b.input('x', [1, 5, 5, 3]);
  const c = opts.depthwise
    ? b.depthwiseConv2d(
        x,
        b.constant('w', 'float32', [1, 3, 3, 6], rand(54)),
        b.constant('b', 'float32', [6], rand(6)),
        { depthMultiplier: 2 },
      )
    : b.conv2d(x, b.constant('w', 'float32', [6, 3, 3, 3], rand(162)), b.constant('b', 'float32', [6], rand(6)));
  const m = b.binary('MUL', c, b.constant('scale', 'float32', [6], rand(6, 0.5, 2)));
  const a = b.binary('ADD', b.constant('shift', 'float32', [1, 1, 1, 6], rand(6)), m);
  const y = b.unary('RELU6', a, { name: 'y' });
  b.output(y);
  if (opts.extraUse) b.output(c);
  return b.build();
});

test('per-channel MUL and ADD after a conv fold into its weights and bias; RELU6 fuses', async (t) => {
  const before = convBnRelu6();
  const { model, report } = optimize(convBnRelu6());
  t.deepEqual(
    model.graph.ops.map((o) => o.type),
    ['CONV_2D'],
  );
  t.deepEqual(report, { identitiesRemoved: 0, constantsFolded: 0, affineFolded: 2, activationsFused: 1 });
  t.is(model.graph.tensor(model.graph.outputs[0]!).name, 'y');
  await sameFunction(t, before, model, 75);
});

test('the same folding along the channel axis of a depthwise conv with a multiplier', async (t) => {
  const before = convBnRelu6({ depthwise: true });
  const { model } = optimize(convBnRelu6({ depthwise: true }));
  t.deepEqual(
    model.graph.ops.map((o) => o.type),
    ['DEPTHWISE_CONV_2D'],
  );
  await sameFunction(t, before, model, 75);
});

test('nothing folds into a conv whose result has another use', (t) => {
  const { model } = optimize(convBnRelu6({ extraUse: true }));
  t.deepEqual(
    model.graph.ops.map((o) => o.type),
    ['CONV_2D', 'MUL', 'ADD'],
  );
});

test('a MUL by a full tensor (not per channel) is not folded', (t) => {
  const b = new ModelBuilder();
  const x = b.input('x', [1, 2, 2, 2]);
  const c = b.conv2d(x, b.constant('w', 'float32', [2, 1, 1, 2], rand(4)), b.constant('b', 'float32', [2], rand(2)));
  b.output(b.binary('MUL', c, b.constant('m', 'float32', [1, 2, 2, 2], rand(8))));
  t.deepEqual(
    optimize(b.build()).model.graph.ops.map((o) => o.type),
    ['CONV_2D', 'MUL'],
  );
});

test('constants fold, identity reshapes go, chained reshapes collapse; outputs keep their names', async (t) => {
  const make = seeded((): IrModel => {
    const b = new ModelBuilder();
    const x = b.input('x', [1, 6]);
    const k = b.binary('ADD', b.constant('a', 'float32', [6], rand(6)), b.constant('c', 'float32', [6], rand(6)));
    const s = b.binary('MUL', x, k);
    const r1 = b.reshape(s, [2, 3]);
    const r2 = b.reshape(r1, [1, 6]);
    const fc = b.fullyConnected(
      r2,
      b.constant('w', 'float32', [4, 6], rand(24)),
      b.constant('bias', 'float32', [4], rand(4)),
    );
    const same = b.reshape(fc, [1, 4], { name: 'logits' });
    b.output(same);
    return b.build();
  });
  const { model, report } = optimize(make());
  t.deepEqual(
    model.graph.ops.map((o) => o.type),
    ['MUL', 'FULLY_CONNECTED'],
  );
  t.is(report.constantsFolded, 1);
  t.is(report.identitiesRemoved, 3);
  t.is(model.graph.tensor(model.graph.outputs[0]!).name, 'logits');
  await sameFunction(t, make(), model, 6);
});
