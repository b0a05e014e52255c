/**
 * Training-mode batch normalization over the channels-last axis as two fused kernels, in place of tfjs's composition
 * (moments → batchNorm, whose gradient chains Mean, Square, Sub, Tile, a tensor of ones and several full-size
 * multiplies — the largest share of a conv net's training step on the wasm backend). With P = batch·pixels rows and C
 * channels, per channel c:
 *   forward   mean = Σx/P, var = Σ(x−mean)²/P (biased, as tfjs), x̂ = (x−mean)/√(var+ε), y = γ·x̂ + β
 *   backward  dβ = Σdy, dγ = Σdy·x̂, dx = γ/√(var+ε) · (dy − dβ/P − x̂·dγ/P)
 * Each is two passes over the tensor: per-channel sums, then a per-channel affine map — on Kiln's WebAssembly SIMD
 * kernels (chsum2, chaffine2: float32 sums over blocks of rows, added up in float64) when C is a multiple of 4, in
 * JavaScript otherwise. The first pass sums x − x[0] (shifted by the first row, so E[x²] − E[x]² does not cancel).
 * Pure functions over Float32Arrays; register.ts wires them to tfjs.
 */

import { wasmKernels, wasmScratch } from '../../interpreter/wasm/runtime.js';

/** Rows per float32 block of the WebAssembly sums (each block's sums are then added in float64). */
const BLOCK = 256;

/** x and y, [rows][C], where the passes can read them: WebAssembly kernel memory or plain arrays. */
interface Operands {
  sums(mx: Float32Array, my: Float32Array): { s1: Float64Array; s2: Float64Array };
  affine(kx: Float64Array, ay: Float64Array, b: Float64Array): Float32Array;
}

function wasmOperands(x: Float32Array, y: Float32Array, C: number): Operands | null {
  const k = wasmKernels();
  if (!k || C % 4 !== 0) return null;
  const rows = x.length / C;
  const xPtr = wasmScratch('bn-x', x.length * 4);
  const yPtr = x === y ? xPtr : wasmScratch('bn-y', y.length * 4);
  const vPtr = wasmScratch('bn-vec', C * 4 * 5);
  const outPtr = wasmScratch('bn-out', x.length * 4);
  new Float32Array(k.mem.buffer, xPtr, x.length).set(x);
  if (yPtr !== xPtr) new Float32Array(k.mem.buffer, yPtr, y.length).set(y);
  const vec = (i: number): Float32Array => new Float32Array(k.mem.buffer, vPtr + i * C * 4, C);
  const at = (i: number): number => vPtr + i * C * 4;
  return {
    sums(mx, my) {
      vec(0).set(mx);
      vec(1).set(my);
      const s1 = new Float64Array(C);
      const s2 = new Float64Array(C);
      for (let r0 = 0; r0 < rows; r0 += BLOCK) {
        vec(2).fill(0);
        vec(3).fill(0);
        const n = Math.min(BLOCK, rows - r0);
        k.chsum2(xPtr + r0 * C * 4, yPtr + r0 * C * 4, at(0), at(1), n, C, at(2), at(3));
        const b1 = vec(2);
        const b2 = vec(3);
        for (let c = 0; c < C; c++) {
          s1[c] = s1[c]! + b1[c]!;
          s2[c] = s2[c]! + b2[c]!;
        }
      }
      return { s1, s2 };
    },
    affine(kx, ay, b) {
      vec(0).set(kx);
      vec(1).set(ay);
      vec(2).set(b);
      k.chaffine2(xPtr, yPtr, at(0), at(1), at(2), rows, C, outPtr);
      return new Float32Array(k.mem.buffer, outPtr, x.length).slice();
    },
  };
}

function jsOperands(x: Float32Array, y: Float32Array, C: number): Operands {
  return {
    sums(mx, my) {
      const s1 = new Float64Array(C);
      const s2 = new Float64Array(C);
      for (let at = 0; at < x.length; at += C)
        for (let c = 0; c < C; c++) {
          const d = x[at + c]! - mx[c]!;
          s1[c] = s1[c]! + d;
          s2[c] = s2[c]! + d * (y[at + c]! - my[c]!);
        }
      return { s1, s2 };
    },
    affine(kx, ay, b) {
      const out = new Float32Array(x.length);
      for (let at = 0; at < x.length; at += C)
        for (let c = 0; c < C; c++) out[at + c] = kx[c]! * x[at + c]! + ay[c]! * y[at + c]! + b[c]!;
      return out;
    },
  };
}

const operands = (x: Float32Array, y: Float32Array, C: number): Operands =>
  wasmOperands(x, y, C) ?? jsOperands(x, y, C);

export interface BatchNormForward {
  y: Float32Array;
  mean: Float32Array;
  variance: Float32Array;
}

/** Normalizes `x` ([P][C]) by its own per-channel batch statistics, then scales by `gamma` and shifts by `beta`. */
export function batchNormTrain(
  x: Float32Array,
  gamma: Float32Array,
  beta: Float32Array,
  epsilon: number,
): BatchNormForward {
  const C = gamma.length;
  const P = x.length / C;
  const ops = operands(x, x, C);
  const shift = x.slice(0, C);
  const { s1, s2 } = ops.sums(shift, shift);
  const mean = new Float32Array(C);
  const variance = new Float32Array(C);
  const scale = new Float64Array(C);
  const offset = new Float64Array(C);
  for (let c = 0; c < C; c++) {
    const m = s1[c]! / P;
    const v = Math.max(0, s2[c]! / P - m * m);
    mean[c] = shift[c]! + m;
    variance[c] = v;
    scale[c] = gamma[c]! / Math.sqrt(v + epsilon);
    offset[c] = beta[c]! - (shift[c]! + m) * scale[c]!;
  }
  return { y: ops.affine(scale, new Float64Array(C), offset), mean, variance };
}

export interface BatchNormGrads {
  dx: Float32Array;
  dgamma: Float32Array;
  dbeta: Float32Array;
}

/** The gradients of `batchNormTrain` for output gradient `dy`, given the forward's `mean` and `variance`. */
export function batchNormTrainGrad(
  dy: Float32Array,
  x: Float32Array,
  gamma: Float32Array,
  mean: Float32Array,
  variance: Float32Array,
  epsilon: number,
): BatchNormGrads {
  const C = gamma.length;
  const P = x.length / C;
  const ops = operands(dy, x, C);
  // s1 = Σdy, s2 = Σdy·(x − mean).
  const { s1: sdy, s2: sdyx } = ops.sums(new Float32Array(C), mean);
  const dgamma = new Float32Array(C);
  // dx = k·dy + a·x + b per channel, with k = γ·inv, a = −k·inv²·Σdy(x−mean)/P, b = −k·Σdy/P − a·mean.
  const k = new Float64Array(C);
  const a = new Float64Array(C);
  const b = new Float64Array(C);
  for (let c = 0; c < C; c++) {
    const inv = 1 / Math.sqrt(variance[c]! + epsilon);
    dgamma[c] = sdyx[c]! * inv;
    k[c] = gamma[c]! * inv;
    a[c] = (-k[c]! * inv * inv * sdyx[c]!) / P;
    b[c] = (-k[c]! * sdy[c]!) / P - a[c]! * mean[c]!;
  }
  return { dx: ops.affine(k, a, b), dgamma, dbeta: Float32Array.from(sdy) };
}
