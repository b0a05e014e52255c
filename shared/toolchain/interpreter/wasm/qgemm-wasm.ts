import type { QGemm, QGemmSpec } from '../kernels/qgemm.js';
import { requantParams } from './requant-params.js';
import { wasmAlloc, wasmKernels, wasmScratch } from './runtime.js';

/**
 * The quantized GEMM on WebAssembly SIMD, or null when unavailable. ruy's x86 rounding and gemmlowp's run in qgemm8
 * (requantization and narrowing inside the kernel, weights packed once here, 8 channels a vector); ruy's portable
 * single rounding in the older qgemm.
 */
export function wasmQGemm(s: QGemmSpec): QGemm | null {
  const k = wasmKernels();
  if (!k) return null;
  const rq = s.rounding === 'single' ? null : requantParams(s.bias, s.mult, s.shift, s.n, s.rounding === 'gemmlowp');
  if (rq) return wasmQGemm8(s, rq);
  if (s.rounding === 'gemmlowp') return null;
  return wasmQGemmScalar(s);
}

/** Weights [n][kp] as qgemm8 reads them: per group of 8 channels, per pair of k, 8 channels × 2 values. */
export function packWeights8(w: Int16Array, n: number, kp: number): Int16Array {
  const groups = Math.ceil(n / 8);
  const packed = new Int16Array(groups * 8 * kp);
  for (let o = 0; o < n; o++) {
    const g = o >> 3;
    const c = o & 7;
    for (let j = 0; j < kp / 2; j++) {
      const at = ((g * (kp / 2) + j) * 8 + c) * 2;
      packed[at] = w[o * kp + 2 * j]!;
      packed[at + 1] = w[o * kp + 2 * j + 1]!;
    }
  }
  return packed;
}

function wasmQGemm8(s: QGemmSpec, rqParams: Int32Array): QGemm {
  const k = wasmKernels()!;
  const { n, kp } = s;
  const groups = Math.ceil(n / 8);
  const packed = packWeights8(s.w, n, kp);
  const w = wasmAlloc(packed.byteLength);
  const rq = wasmAlloc(rqParams.byteLength);
  new Int16Array(k.mem.buffer, w, packed.length).set(packed);
  new Int32Array(k.mem.buffer, rq, rqParams.length).set(rqParams);
  const a = wasmScratch('gemm-a', s.rows * kp * 2 + 16);
  const out = wasmScratch('gemm-out', s.rows * n + 16);
  const panel = wasmScratch('gemm-panel', 8 * kp + 128);
  const signed = s.actMin < 0 ? 1 : 0;
  const gl = s.rounding === 'gemmlowp' ? 1 : 0;
  let buf: ArrayBuffer | null = null;
  let aView: Int16Array = new Int16Array(0);
  let outView: Uint8Array = new Uint8Array(0);
  const views = (): void => {
    if (buf === k.mem.buffer) return;
    buf = k.mem.buffer;
    aView = new Int16Array(buf, a, s.rows * kp);
    outView = new Uint8Array(buf, out, s.rows * n);
  };
  views();
  return {
    name: 'wasm qgemm8',
    kp,
    rows: s.rows,
    aPtr: a,
    get a() {
      views();
      return aView;
    },
    run(m, dst, dstBase, dstStride) {
      k.qgemm8(a, w, rq, out, m, groups, kp, n, s.zp, s.actMin, s.actMax, signed, gl, panel);
      views();
      const d = dst as Uint8Array;
      if (dstStride === n) d.set(outView.subarray(0, m * n), dstBase);
      else for (let r = 0; r < m; r++) d.set(outView.subarray(r * n, r * n + n), dstBase + r * dstStride);
    },
  };
}

function wasmQGemmScalar(s: QGemmSpec): QGemm {
  const k = wasmKernels()!;
  const mode = s.rounding === 'single' ? 1 : 0;
  const { n, kp } = s;
  const np = Math.ceil(n / 4) * 4;
  const rows = s.rows + (s.rows % 2);
  const w = wasmAlloc(np * kp * 2);
  const bias = wasmAlloc(np * 4);
  const mult = wasmAlloc(np * 4);
  const lsh = wasmAlloc(np * 4);
  const rsh = wasmAlloc(np * 4);
  const a = wasmScratch('gemm-a', rows * kp * 2 + 16);
  const out = wasmScratch('gemm-out', rows * np);
  const i32 = (ptr: number, len: number): Int32Array => new Int32Array(k.mem.buffer, ptr, len);
  new Int16Array(k.mem.buffer, w, np * kp).set(s.w);
  i32(bias, np).set(s.bias);
  i32(mult, np).set(s.mult);
  i32(lsh, np).set(Array.from(s.shift, (v) => (v > 0 ? v : 0)));
  i32(rsh, np).set(Array.from(s.shift, (v) => (v > 0 ? 0 : -v)));
  let buf: ArrayBuffer | null = null;
  let aView: Int16Array = new Int16Array(0);
  let outView: Uint8Array = new Uint8Array(0);
  const views = (): void => {
    if (buf === k.mem.buffer) return;
    buf = k.mem.buffer;
    aView = new Int16Array(buf, a, rows * kp);
    outView = new Uint8Array(buf, out, rows * np);
  };
  views();
  return {
    name: 'wasm qgemm',
    kp,
    rows: s.rows,
    aPtr: a,
    get a() {
      views();
      return aView;
    },
    run(m, dst, dstBase, dstStride) {
      const mm = m + (m % 2);
      k.qgemm(a, w, bias, mult, lsh, rsh, out, mm, np, kp, s.zp, s.actMin, s.actMax, mode);
      views();
      const d = dst as Uint8Array;
      if (np === dstStride && n === np) {
        d.set(outView.subarray(0, m * np), dstBase);
      } else {
        for (let r = 0; r < m; r++) d.set(outView.subarray(r * np, r * np + n), dstBase + r * dstStride);
      }
    },
  };
}
