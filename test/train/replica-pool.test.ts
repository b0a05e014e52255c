import test from 'ava';
import { useTrainingBackend } from '../../shared/toolchain/train/kernels/register.js';
import { averageGradients, ReplicaPool, shares } from '../../shared/toolchain/train/parallel/replica-pool.js';
import type { Architecture } from '../../shared/toolchain/train/architecture.js';

const ARCH: Architecture = { name: 'tiny', blocks: [4], convsPerBlock: 1, dense: 8 };
const SHAPE: [number, number, number] = [8, 8, 1];

/** Three classes of 8×8 images: a bright top half, a bright left half, or noise; labels 0, 1, 2. */
function batch(count: number, seed: number): { x: Float32Array; y: Int32Array } {
  let s = seed;
  const r = (): number => {
    s = (s * 1103515245 + 12345) >>> 0;
    return s / 2 ** 32;
  };
  const x = new Float32Array(count * 64);
  const y = new Int32Array(count);
  for (let i = 0; i < count; i++) {
    const c = i % 3;
    y[i] = c;
    for (let p = 0; p < 64; p++) {
      const [row, col] = [p >> 3, p & 7];
      const on = c === 0 ? row < 4 : c === 1 ? col < 4 : r() < 0.5;
      x[i * 64 + p] = (on ? 1 : 0) + 0.2 * (r() - 0.5);
    }
  }
  return { x, y };
}

test('shares split a batch near-equally and averageGradients weights each share by its size', (t) => {
  t.deepEqual(shares(7, 2), [4, 3]);
  t.deepEqual(shares(2, 3), [1, 1, 0]);
  const avg = averageGradients([
    { grads: [Float32Array.of(1, 2)], lossSum: 0, correct: 0, count: 3 },
    { grads: [Float32Array.of(5, -2)], lossSum: 0, correct: 0, count: 1 },
  ]);
  t.deepEqual([...avg[0]!], [2, 1]);
});

test.serial('two replicas (one in a worker thread) keep identical trainable weights and learn', async (t) => {
  await useTrainingBackend();
  const pool = new ReplicaPool(2);
  try {
    await pool.start({ architecture: ARCH, shape: SHAPE, classes: 3 });
    const losses: number[] = [];
    for (let step = 0; step < 30; step++) {
      const { x, y } = batch(24, step + 1);
      const r = await pool.step(x, y, 24, 0.01);
      losses.push(r.lossSum / 24);
    }
    const mean = (a: number[]): number => a.reduce((p, v) => p + v, 0) / a.length;
    t.true(mean(losses.slice(-5)) < 0.6 * mean(losses.slice(0, 5)), `loss ${losses.map((l) => l.toFixed(2))}`);
    const [remote] = await pool.workerWeights();
    const names = pool.model.weights.map((w) => w.originalName);
    const own = pool.model.getWeights().map((w) => w.dataSync());
    let trainable = 0;
    names.forEach((name, i) => {
      // Batch-norm moving statistics are each replica's own (the batches it saw); everything trained is shared.
      if (name.includes('moving_')) return;
      trainable++;
      t.deepEqual([...remote![i]!], [...own[i]!], `${name} differs between the replicas`);
    });
    t.is(trainable, pool.model.trainableWeights.length);
  } finally {
    pool.close();
  }
});
