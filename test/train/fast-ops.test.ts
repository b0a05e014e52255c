import test from 'ava';
import * as tf from '@tensorflow/tfjs';
import { batchNormalization } from '../../shared/toolchain/train/kernels/batch-norm-layer.js';
import { useTrainingBackend } from '../../shared/toolchain/train/kernels/register.js';

let seed = 11;
const rand = (shape: number[]): tf.Tensor => {
  const n = shape.reduce((a, b) => a * b, 1);
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    seed = (seed * 1103515245 + 12345) >>> 0;
    a[i] = (seed / 2 ** 32) * 2 - 1;
  }
  return tf.tensor(a, shape);
};

/** The same computation on tfjs's cpu backend and on the wasm backend with Kiln's kernels registered. */
async function both(f: () => tf.Tensor | tf.Tensor[]): Promise<[Float32Array[], Float32Array[], number[][]]> {
  const run = (): [Float32Array[], number[][]] =>
    tf.tidy(() => {
      const r = f();
      const list = Array.isArray(r) ? r : [r];
      return [list.map((t) => t.dataSync() as Float32Array), list.map((t) => t.shape)];
    });
  await tf.setBackend('cpu');
  const [want, shapes] = run();
  await useTrainingBackend();
  const [got, gotShapes] = run();
  return [got, want, [...shapes.map((s) => [s.length, ...s]), ...gotShapes.map((s) => [s.length, ...s])]];
}

function close(t: import('ava').ExecutionContext, got: Float32Array[], want: Float32Array[], what: string): void {
  t.is(got.length, want.length);
  want.forEach((w, j) => {
    const g = got[j]!;
    t.is(g.length, w.length, `${what} #${j} length`);
    let worst = 0;
    for (let i = 0; i < w.length; i++) worst = Math.max(worst, Math.abs(g[i]! - w[i]!));
    t.true(worst < 1e-4, `${what} #${j}: max |Δ| ${worst}`);
  });
}

test.before(async () => {
  await tf.setBackend('cpu');
});

test.serial('Tile matches tfjs cpu', async (t) => {
  for (const [shape, reps] of [
    [
      [1, 1, 1, 5],
      [3, 4, 2, 1],
    ],
    [
      [2, 3],
      [2, 3],
    ],
    [
      [3, 1, 2],
      [1, 4, 1],
    ],
    [[4], [3]],
  ] as [number[], number[]][]) {
    const x = rand(shape);
    const [got, want, shapes] = await both(() => tf.tile(x, reps));
    close(t, got, want, `tile ${shape} × ${reps}`);
    t.deepEqual(shapes[0], shapes[1]);
  }
});

test.serial('Sum and Mean over contiguous axes (and the rest via tfjs) match tfjs cpu', async (t) => {
  const x = rand([3, 4, 5, 2]);
  for (const axis of [null, 0, -1, [0, 1, 2], [1, 2], [2, 3], [0, 2], 1] as (number | number[] | null)[])
    for (const keep of [false, true]) {
      const [got, want, shapes] = await both(() => [
        tf.sum(x, axis ?? undefined, keep),
        tf.mean(x, axis ?? undefined, keep),
      ]);
      close(t, got, want, `axis ${JSON.stringify(axis)} keepDims ${keep}`);
      t.deepEqual(shapes.slice(0, 2), shapes.slice(2));
    }
});

test.serial('MaxPoolGrad matches tfjs cpu (2x2/2 valid, 3x3/2 same, non-square, ties, batch 2)', async (t) => {
  const cases: [number[], [number, number], [number, number], 'same' | 'valid'][] = [
    [[2, 6, 6, 3], [2, 2], [2, 2], 'valid'],
    [[2, 7, 5, 2], [2, 2], [2, 2], 'valid'],
    [[2, 7, 5, 2], [3, 3], [2, 2], 'same'],
    [[1, 5, 8, 4], [2, 3], [1, 2], 'same'],
  ];
  for (const [shape, size, strides, pad] of cases) {
    // Rounded values make ties: the gradient must go to the first maximum, as on the cpu backend.
    const x = rand(shape).mul(3).round();
    const [got, want] = await both(() => {
      const f = (v: tf.Tensor): tf.Tensor =>
        tf
          .maxPool(v as tf.Tensor4D, size, strides, pad)
          .mul(
            tf
              .range(1, 1 + tf.maxPool(v as tf.Tensor4D, size, strides, pad).size)
              .reshape(tf.maxPool(v as tf.Tensor4D, size, strides, pad).shape),
          )
          .sum();
      return tf.grad(f)(x);
    });
    close(t, got, want, `maxPool ${shape} ${size}/${strides} ${pad}`);
  }
});

test.serial('BatchMatMul in every transpose combination matches tfjs cpu (odd sizes, batch 3)', async (t) => {
  for (const [ta, tb] of [
    [false, false],
    [true, false],
    [false, true],
    [true, true],
  ] as [boolean, boolean][]) {
    const [M, K, N] = [5, 7, 3];
    const a = rand(ta ? [3, K, M] : [3, M, K]);
    const b = rand(tb ? [3, N, K] : [3, K, N]);
    const [got, want, shapes] = await both(() => tf.matMul(a, b, ta, tb));
    close(t, got, want, `matMul transposeA ${ta} transposeB ${tb}`);
    t.deepEqual(shapes[0], shapes[1]);
  }
  // A dense layer's weight gradient: xᵀ·dy over a batch.
  const x = rand([64, 100]);
  const dy = rand([64, 12]);
  const [got, want] = await both(() => tf.matMul(x, dy, true, false));
  close(t, got, want, 'dense weight gradient');
});

test.serial('fused batch norm trains like tfjs BatchNormalization: outputs, gradients, moving averages', async (t) => {
  // 6 channels take the JavaScript passes, 8 the WebAssembly ones; the offset mean tests the shifted sums.
  for (const shape of [
    [4, 3, 5, 6],
    [2, 5, 7, 8],
  ]) {
    await fusedAgainstTfjs(t, shape);
  }
});

async function fusedAgainstTfjs(t: import('ava').ExecutionContext, shape: number[]): Promise<void> {
  const C = shape[3]!;
  const x = rand(shape).mul(2).add(5);
  const dy = rand(shape);
  const run = (fused: boolean): Float32Array[] =>
    tf.tidy(() => {
      const layer = fused
        ? batchNormalization({ momentum: 0.8, epsilon: 1e-3 })
        : tf.layers.batchNormalization({ momentum: 0.8, epsilon: 1e-3 });
      layer.build(x.shape);
      layer.setWeights([rand([C]).add(1), rand([C]), rand([C]), rand([C]).abs().add(0.5)]);
      const vars = layer.trainableWeights.map((w) => (w as unknown as { val: tf.Variable }).val);
      const { value, grads } = tf.variableGrads(
        () => (layer.apply(x, { training: true }) as tf.Tensor).mul(dy).sum() as tf.Scalar,
        vars,
      );
      const dx = tf.grad((v: tf.Tensor) => (layer.apply(v, { training: true }) as tf.Tensor).mul(dy).sum())(x);
      const y = layer.apply(x, { training: true }) as tf.Tensor;
      const inference = layer.apply(x, { training: false }) as tf.Tensor;
      return [
        y,
        dx,
        ...vars.map((v) => grads[v.name]!),
        value.reshape([1]),
        inference,
        ...layer.getWeights().slice(2),
      ].map((v) => v.dataSync() as Float32Array);
    });
  await tf.setBackend('cpu');
  seed = 99;
  const want = run(false);
  await useTrainingBackend();
  seed = 99;
  const got = run(true);
  close(t, got, want, `${shape}: y, dx, dgamma, dbeta, loss, inference, moving mean/variance`);
  const prof = await tf.profile(() => batchNormalization().apply(x, { training: true }) as tf.Tensor);
  t.true(prof.kernelNames.includes('KilnBatchNormTrain'), `ran ${prof.kernelNames.join(', ')}`);
  t.is(batchNormalization().getClassName(), 'BatchNormalization', 'saves as an ordinary BatchNormalization');
}
