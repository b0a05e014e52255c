import { im2col, type ConvGeometry } from '../kernels/conv-common.js';
import { wasmAlloc, wasmKernels, wasmScratch } from './runtime.js';

export interface FConvSpec {
  g: ConvGeometry;
  /** Filter [outC][kH][kW][inC]. */
  w: Float32Array;
  bias: Float32Array;
  outC: number;
  lo: number;
  hi: number;
}

/**
 * A float convolution (or a fully connected layer: a 1×1 conv over a 1×1 image) as im2col + float32 SIMD GEMM on
 * WebAssembly; returns the function that runs one batch image, or null when WebAssembly SIMD is unavailable.
 */
export function wasmFConv(
  s: FConvSpec,
): ((src: Float32Array, srcBase: number, dst: Float32Array, dstBase: number) => void) | null {
  const k = wasmKernels();
  if (!k) return null;
  const { g, outC } = s;
  const K = g.kH * g.kW * g.inC;
  const kp = Math.ceil(K / 4) * 4;
  const np = Math.ceil(outC / 4) * 4;
  const M = g.outH * g.outW;
  const rows = Math.max(2, Math.min(M + (M % 2), Math.floor(65536 / kp) & ~1));
  const direct =
    g.kH === 1 && g.kW === 1 && g.strideH === 1 && g.strideW === 1 && g.padH === 0 && g.padW === 0 && K === kp;
  const w = wasmAlloc(np * kp * 4);
  const bias = wasmAlloc(np * 4);
  const a = wasmScratch('gemm-a', rows * kp * 4);
  const out = wasmScratch('gemm-out', rows * np * 4);
  const wv = new Float32Array(k.mem.buffer, w, np * kp);
  for (let o = 0; o < outC; o++) wv.set(s.w.subarray(o * K, o * K + K), o * kp);
  new Float32Array(k.mem.buffer, bias, np).set(s.bias);
  return (src, srcBase, dst, dstBase) => {
    for (let p0 = 0; p0 < M; p0 += rows) {
      const p1 = Math.min(M, p0 + rows);
      const m = p1 - p0;
      const av = new Float32Array(k.mem.buffer, a, rows * kp);
      if (direct) {
        av.set(src.subarray(srcBase + p0 * K, srcBase + p1 * K));
      } else {
        im2col(src, srcBase, g, av, kp, 0, 0, p0, p1);
        if (kp > K) for (let r = 0; r < m; r++) av.fill(0, r * kp + K, r * kp + kp);
      }
      k.fgemm(a, w, bias, out, m + (m % 2), np, kp, s.lo, s.hi);
      const ov = new Float32Array(k.mem.buffer, out, rows * np);
      if (np === outC) dst.set(ov.subarray(0, m * np), dstBase + p0 * outC);
      else for (let r = 0; r < m; r++) dst.set(ov.subarray(r * np, r * np + outC), dstBase + (p0 + r) * outC);
    }
  };
}
