import test from 'ava';
import * as tf from '@tensorflow/tfjs';
import { convFilterGrad, convInputGrad } from '../../shared/toolchain/train/kernels/conv-grad.js';
import { tfjsConvGeometry, useTrainingBackend } from '../../shared/toolchain/train/kernels/register.js';

interface Case {
  name: string;
  x: [number, number, number, number];
  w: [number, number, number, number];
  strides: [number, number];
  pad: 'same' | 'valid';
}

const CASES: Case[] = [
  { name: '3x3 same stride 1, batch 2', x: [2, 6, 5, 3], w: [3, 3, 3, 4], strides: [1, 1], pad: 'same' },
  { name: '3x3 valid stride 1, non-square', x: [3, 7, 4, 2], w: [3, 2, 2, 5], strides: [1, 1], pad: 'valid' },
  { name: '3x3 same stride 2, odd size', x: [2, 7, 9, 3], w: [3, 3, 3, 6], strides: [2, 2], pad: 'same' },
  { name: '5x3 valid stride 2x1', x: [2, 9, 8, 1], w: [5, 3, 1, 7], strides: [2, 1], pad: 'valid' },
  { name: '1x1 stride 1, 8 channels', x: [4, 3, 3, 8], w: [1, 1, 8, 8], strides: [1, 1], pad: 'valid' },
];

let seed = 7;
const rand = (n: number): Float32Array => {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    seed = (seed * 1103515245 + 12345) >>> 0;
    a[i] = (seed / 2 ** 32) * 2 - 1;
  }
  return a;
};
const size = (s: number[]): number => s.reduce((a, b) => a * b, 1);

/** dx and dw of Σ conv2d(x, w)·dy, by tfjs's autodiff on the current backend. */
function reference(c: Case, x: Float32Array, w: Float32Array, dy: tf.Tensor): { dx: Float32Array; dw: Float32Array } {
  return tf.tidy(() => {
    const f = (xt: tf.Tensor, wt: tf.Tensor): tf.Tensor =>
      tf
        .conv2d(xt as tf.Tensor4D, wt as tf.Tensor4D, c.strides, c.pad)
        .mul(dy)
        .sum();
    const [dx, dw] = tf.grads(f)([tf.tensor4d(x, c.x), tf.tensor4d(w, c.w)]);
    return { dx: dx!.dataSync() as Float32Array, dw: dw!.dataSync() as Float32Array };
  });
}

function close(t: import('ava').ExecutionContext, got: Float32Array, want: Float32Array, what: string): void {
  t.is(got.length, want.length, `${what} length`);
  let worst = 0;
  for (let i = 0; i < want.length; i++) worst = Math.max(worst, Math.abs(got[i]! - want[i]!));
  t.true(worst < 1e-4, `${what}: max |Δ| ${worst}`);
}

test.serial('conv gradients match tfjs cpu autodiff (pure functions and the wasm backend)', async (t) => {
  for (const c of CASES) {
    await tf.setBackend('cpu');
    const x = rand(size(c.x));
    const w = rand(size(c.w));
    const { g, outC } = tfjsConvGeometry(c.x, c.w, { strides: c.strides, pad: c.pad, dataFormat: 'NHWC' });
    const dyShape = [g.batch, g.outH, g.outW, outC];
    const dyv = rand(size(dyShape));
    const want = reference(c, x, w, tf.tensor(dyv, dyShape));
    close(t, convFilterGrad(x, dyv, g, outC), want.dw, `${c.name}: filter gradient`);
    close(t, convInputGrad(dyv, w, g, outC), want.dx, `${c.name}: input gradient`);
    await useTrainingBackend();
    t.is(tf.getBackend(), 'wasm');
    const viaWasm = reference(c, x, w, tf.tensor(dyv, dyShape));
    close(t, viaWasm.dw, want.dw, `${c.name}: wasm Conv2DBackpropFilter`);
    close(t, viaWasm.dx, want.dx, `${c.name}: wasm Conv2DBackpropInput`);
  }
});
