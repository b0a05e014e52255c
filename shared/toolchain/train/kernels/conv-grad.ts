/**
 * The two gradients of a float NHWC convolution (filter [kH][kW][inC][outC], tfjs's layout) as Kiln's WebAssembly
 * SIMD GEMM (fgemm: out[m][n] = Σk a[m][k]·b[n][k]) plus an im2col / col2im in JavaScript:
 *   filter gradient  dW[K][outC] = colᵀ · dy       — a = im2col(x)ᵀ [K][P], b = dyᵀ [outC][P]
 *   input gradient   dx = col2im(dy · Wᵀ)          — a = dy [P][outC], b = W [K][outC]
 * where K = kH·kW·inC and P = batch·outH·outW. Pure functions over Float32Arrays: the tfjs registration is elsewhere.
 */
import type { ConvGeometry } from '../../interpreter/kernels/conv-common.js';
import { wasmKernels, wasmScratch } from '../../interpreter/wasm/runtime.js';

/** n rounded up to a multiple of m (the GEMM's block sizes). */
export const up = (n: number, m: number): number => Math.ceil(n / m) * m;

/** Kiln's WebAssembly kernels; training needs them. */
export function kernels(): NonNullable<ReturnType<typeof wasmKernels>> {
  const k = wasmKernels();
  if (!k) throw new Error('training kernels need WebAssembly SIMD (Node 20+ has it)');
  return k;
}

/** Zero bias of at least n floats, for the GEMMs here (fgemm always adds a bias). */
function zeroBias(n: number): number {
  const at = wasmScratch('train-bias', n * 4);
  new Float32Array(kernels().mem.buffer, at, n).fill(0);
  return at;
}

/** out[c][r] (row stride `ld`) = src[r][c] for src [rows][cols], in 32×32 tiles so both sides stay in cache. */
export function transposeInto(src: Float32Array, rows: number, cols: number, out: Float32Array, ld: number): void {
  const T = 32;
  for (let r0 = 0; r0 < rows; r0 += T) {
    const r1 = Math.min(rows, r0 + T);
    for (let c0 = 0; c0 < cols; c0 += T) {
      const c1 = Math.min(cols, c0 + T);
      for (let c = c0; c < c1; c++) {
        const o = c * ld;
        for (let r = r0; r < r1; r++) out[o + r] = src[r * cols + c]!;
      }
    }
  }
}

/** The filter gradient [kH][kW][inC][outC] of a convolution with input `x` (NHWC) and output gradient `dy`. */
export function convFilterGrad(x: Float32Array, dy: Float32Array, g: ConvGeometry, outC: number): Float32Array {
  const k = kernels();
  const { batch, inH, inW, inC, kH, kW, outH, outW, strideH, strideW, dilH, dilW, padH, padW } = g;
  const K = kH * kW * inC;
  const P = batch * outH * outW;
  const pp = up(P, 4);
  const mp = up(K, 2);
  const np = up(outC, 4);
  const aPtr = wasmScratch('train-a', mp * pp * 4);
  const bPtr = wasmScratch('train-b', np * pp * 4);
  const oPtr = wasmScratch('train-out', mp * np * 4);
  const biasPtr = zeroBias(np);
  const a = new Float32Array(k.mem.buffer, aPtr, mp * pp);
  const b = new Float32Array(k.mem.buffer, bPtr, np * pp);
  // a = im2col(x)ᵀ: row (ky, kx, c), column p — written row by row (sequential stores; the reads stride inC).
  for (let ky = 0; ky < kH; ky++) {
    for (let kx = 0; kx < kW; kx++) {
      for (let c = 0; c < inC; c++) {
        const row = (ky * kW + kx) * inC + c;
        let d = row * pp;
        for (let n = 0; n < batch; n++) {
          const xBase = n * inH * inW * inC + c;
          for (let oy = 0; oy < outH; oy++) {
            const iy = oy * strideH - padH + ky * dilH;
            if (iy < 0 || iy >= inH) {
              a.fill(0, d, d + outW);
              d += outW;
              continue;
            }
            const rowBase = xBase + iy * inW * inC;
            for (let ox = 0; ox < outW; ox++, d++) {
              const ix = ox * strideW - padW + kx * dilW;
              a[d] = ix < 0 || ix >= inW ? 0 : x[rowBase + ix * inC]!;
            }
          }
        }
        a.fill(0, d, row * pp + pp);
      }
    }
  }
  a.fill(0, K * pp, mp * pp);
  // b = dyᵀ.
  transposeInto(dy, P, outC, b, pp);
  if (pp > P) for (let o = 0; o < outC; o++) b.fill(0, o * pp + P, o * pp + pp);
  b.fill(0, outC * pp, np * pp);
  k.fgemm(aPtr, bPtr, biasPtr, oPtr, mp, np, pp, -Infinity, Infinity);
  const out = new Float32Array(k.mem.buffer, oPtr, mp * np);
  const dw = new Float32Array(K * outC);
  if (np === outC) dw.set(out.subarray(0, K * outC));
  else for (let r = 0; r < K; r++) dw.set(out.subarray(r * np, r * np + outC), r * outC);
  return dw;
}

/** Output pixels per GEMM block of the input gradient (bounds the column buffer). */
const ROWS = 512;

/** The input gradient (NHWC) of a convolution with filter `w` [kH][kW][inC][outC] and output gradient `dy`. */
export function convInputGrad(dy: Float32Array, w: Float32Array, g: ConvGeometry, outC: number): Float32Array {
  const k = kernels();
  const { batch, inH, inW, inC, kH, kW, outH, outW, strideH, strideW, dilH, dilW, padH, padW } = g;
  const K = kH * kW * inC;
  const P = batch * outH * outW;
  const op = up(outC, 4);
  const kn = up(K, 4);
  const rows = Math.min(ROWS, up(P, 2));
  const aPtr = wasmScratch('train-a', rows * op * 4);
  const bPtr = wasmScratch('train-b', kn * op * 4);
  const oPtr = wasmScratch('train-out', rows * kn * 4);
  const biasPtr = zeroBias(kn);
  const a = new Float32Array(k.mem.buffer, aPtr, rows * op);
  const b = new Float32Array(k.mem.buffer, bPtr, kn * op);
  const cols = new Float32Array(k.mem.buffer, oPtr, rows * kn);
  if (op === outC) b.set(w.subarray(0, K * outC));
  else {
    b.fill(0);
    for (let r = 0; r < K; r++) b.set(w.subarray(r * outC, r * outC + outC), r * op);
  }
  b.fill(0, K * op, kn * op);
  const dx = new Float32Array(batch * inH * inW * inC);
  const perImage = outH * outW;
  for (let p0 = 0; p0 < P; p0 += rows) {
    const p1 = Math.min(P, p0 + rows);
    const m = p1 - p0;
    if (op === outC) a.set(dy.subarray(p0 * outC, p1 * outC));
    else {
      a.fill(0);
      for (let r = 0; r < m; r++) a.set(dy.subarray((p0 + r) * outC, (p0 + r + 1) * outC), r * op);
    }
    if (m % 2) a.fill(0, m * op, (m + 1) * op);
    k.fgemm(aPtr, bPtr, biasPtr, oPtr, m + (m % 2), kn, op, -Infinity, Infinity);
    // col2im: scatter-add each column row onto the input pixels it came from.
    for (let p = p0; p < p1; p++) {
      const n = Math.floor(p / perImage);
      const r = p - n * perImage;
      const oy = Math.floor(r / outW);
      const ox = r - oy * outW;
      const xBase = n * inH * inW * inC;
      let s = (p - p0) * kn;
      for (let ky = 0; ky < kH; ky++) {
        const iy = oy * strideH - padH + ky * dilH;
        for (let kx = 0; kx < kW; kx++) {
          const ix = ox * strideW - padW + kx * dilW;
          if (iy < 0 || iy >= inH || ix < 0 || ix >= inW) {
            s += inC;
            continue;
          }
          let d = xBase + (iy * inW + ix) * inC;
          for (let c = 0; c < inC; c++, d++) dx[d] = dx[d]! + cols[s++]!;
        }
      }
    }
  }
  return dx;
}
