/**
 * Float batched matrix product on Kiln's WebAssembly SIMD GEMM (fgemm: out[m][n] = Σk a[m][k]·b[n][k]), for the
 * transposed products of a dense layer's gradients, which tfjs-backend-wasm 4.22 runs as a scalar loop. Operands are
 * packed k-contiguous (a transposed copy where the layout needs one). Pure function over Float32Arrays.
 */
import { wasmScratch } from '../../interpreter/wasm/runtime.js';
import { kernels, transposeInto, up } from './conv-grad.js';

/** Copies `src` [rows][cols] into `out` rows `ld` long (zero tail), or its transpose when `transpose`. */
function pack(src: Float32Array, rows: number, cols: number, transpose: boolean, out: Float32Array, ld: number): void {
  if (transpose) transposeInto(src, rows, cols, out, ld);
  else if (ld === cols) out.set(src.subarray(0, rows * cols));
  else for (let r = 0; r < rows; r++) out.set(src.subarray(r * cols, r * cols + cols), r * ld);
}

/**
 * op(a)·op(b) for `batch` pairs: op(a) [M][K] (a stored [K][M] when transposeA), op(b) [K][N] (b stored [N][K] when
 * transposeB). Returns [batch][M][N].
 */
export function batchMatMul(
  a: Float32Array,
  b: Float32Array,
  batch: number,
  M: number,
  K: number,
  N: number,
  transposeA: boolean,
  transposeB: boolean,
): Float32Array {
  const k = kernels();
  const kp = up(K, 4);
  const mp = up(M, 2);
  const np = up(N, 4);
  const aPtr = wasmScratch('train-a', mp * kp * 4);
  const bPtr = wasmScratch('train-b', np * kp * 4);
  const oPtr = wasmScratch('train-out', mp * np * 4);
  const biasPtr = wasmScratch('train-bias', np * 4);
  const out = new Float32Array(batch * M * N);
  for (let i = 0; i < batch; i++) {
    const av = new Float32Array(k.mem.buffer, aPtr, mp * kp).fill(0);
    const bv = new Float32Array(k.mem.buffer, bPtr, np * kp).fill(0);
    new Float32Array(k.mem.buffer, biasPtr, np).fill(0);
    // fgemm's a is op(a) as rows of K: a itself, or the transpose of a stored [K][M].
    pack(a.subarray(i * M * K, (i + 1) * M * K), transposeA ? K : M, transposeA ? M : K, transposeA, av, kp);
    // fgemm's b is op(b)ᵀ as rows of K: b stored [N][K] as is, or the transpose of b stored [K][N].
    pack(b.subarray(i * K * N, (i + 1) * K * N), transposeB ? N : K, transposeB ? K : N, !transposeB, bv, kp);
    k.fgemm(aPtr, bPtr, biasPtr, oPtr, mp, np, kp, -Infinity, Infinity);
    const o = new Float32Array(k.mem.buffer, oPtr, mp * np);
    for (let m = 0; m < M; m++) out.set(o.subarray(m * np, m * np + N), (i * M + m) * N);
  }
  return out;
}
