import test from 'ava';
import { ModelBuilder } from '../../shared/toolchain/ir/builder.js';
import { Interpreter } from '../../shared/toolchain/interpreter/index.js';
import { openRunner, OracleCapture } from '../../shared/toolchain/quantize/capture.js';
import { Histogram } from '../../shared/toolchain/quantize/histogram.js';
import { collectStats } from '../../shared/toolchain/quantize/stats.js';
import { rng } from '../helpers/models.js';

/** The reference: the two-pass path (finite min/max, then add). */
function twoPass(batches: Float32Array[]): { h: Histogram; min: number; max: number } {
  const h = new Histogram();
  let min = Infinity;
  let max = -Infinity;
  for (const v of batches) {
    const finite = Array.from(v).filter(Number.isFinite);
    if (finite.length === 0) continue;
    const lo = Math.min(...finite);
    const hi = Math.max(...finite);
    h.add(v, lo, hi);
    min = Math.min(min, lo);
    max = Math.max(max, hi);
  }
  return { h, min, max };
}

test('histogram observe: the one-pass path counts exactly what add counts, with exact min/max', (t) => {
  const r = rng(11);
  const batches: Float32Array[] = [];
  for (let k = 0; k < 30; k++) {
    // ReLU-like data (many exact zeros), ranges that mostly stay inside the first window and sometimes grow.
    const span = k % 10 === 9 ? 4 + k : 3;
    batches.push(Float32Array.from({ length: 2000 }, () => Math.max(0, (r() - 0.4) * span)));
  }
  batches.push(Float32Array.from({ length: 500 }, () => -r() * 2));
  const h = new Histogram();
  let min = Infinity;
  let max = -Infinity;
  for (const v of batches) {
    const [lo, hi] = h.observe(v)!;
    min = Math.min(min, lo);
    max = Math.max(max, hi);
  }
  const ref = twoPass(batches);
  t.deepEqual(h.toJSON(), ref.h.toJSON());
  t.is(min, ref.min);
  t.is(max, ref.max);
  t.is(h.total, 30 * 2000 + 500);
});

test('histogram observe: NaN and ±Infinity are skipped, an all-NaN batch adds nothing', (t) => {
  const h = new Histogram();
  t.deepEqual(h.observe(Float32Array.of(1, 2, 3)), [1, 3]);
  t.deepEqual(h.observe(Float32Array.of(2, NaN, Infinity, -Infinity, 0.5)), [0.5, 2]);
  t.is(h.observe(Float32Array.of(NaN, NaN)), null);
  t.is(h.total, 5);
});

test('openRunner: Kiln interpreter by default, the TFLite runtime for an op the interpreter lacks', async (t) => {
  const b = new ModelBuilder();
  const x = b.input('x', [1, 4]);
  b.output(b.unary('RELU', x));
  const plain = await openRunner(b.build());
  t.true(plain instanceof Interpreter);
  plain.close?.();

  const f = new ModelBuilder();
  const y = f.input('y', [1, 4]);
  // REVERSE_V2: a builtin Kiln's interpreter has no kernel for
  const relu = f.unary('RELU', y);
  f.output(
    f.op(
      'REVERSE_V2',
      [relu, f.constant('axis', 'int32', [1], [1])],
      {},
      { outputs: [{ shape: [1, 4], dtype: 'float32' }] },
    )[0]!,
  );
  const model = f.build();
  const runner = await openRunner(model);
  try {
    t.true(runner instanceof OracleCapture);
    const stats = await collectStats(model.graph, runner, [[Float32Array.of(-1.5, 0.5, 2.5, 7.25)]], 'test');
    const byName = new Map(stats.tensors.map((s) => [s.name, s]));
    t.is(stats.tensors.length, 3);
    t.deepEqual(
      [...byName.values()].map((s) => [s.min, s.max]),
      [
        [-1.5, 7.25],
        [0, 7.25],
        [0, 7.25],
      ],
    );
  } finally {
    runner.close?.();
  }
});
