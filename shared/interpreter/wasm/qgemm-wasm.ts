import type { QGemm, QGemmSpec } from '../kernels/qgemm.js';
import { wasmAlloc, wasmKernels, wasmScratch } from './runtime.js';

/** The quantized GEMM on WebAssembly SIMD (ruy rounding only), or null when unavailable. */
export function wasmQGemm(s: QGemmSpec): QGemm | null {
  const k = wasmKernels();
  if (!k || s.rounding === 'gemmlowp') return null;
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
