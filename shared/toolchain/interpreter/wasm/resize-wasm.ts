import { wasmAlloc, wasmKernels, wasmScratch } from './runtime.js';

/** Source rows or columns of a bilinear resize: lower and upper neighbour, and the float32 weights d and 1 − d. */
export interface Taps {
  lo: number;
  hi: number;
  d: number;
  d1: number;
}

/** uint8 RESIZE_BILINEAR of one image on WebAssembly SIMD, or null when unavailable. */
export function wasmResizeU8(
  ih: number,
  iw: number,
  c: number,
  ys: Taps[],
  xs: Taps[],
): ((src: Uint8Array, srcBase: number, dst: Uint8Array, dstBase: number) => void) | null {
  const k = wasmKernels();
  if (!k) return null;
  const inBytes = ih * iw * c;
  const outBytes = ys.length * xs.length * c;
  const table = (taps: Taps[]): number => {
    const at = wasmAlloc(taps.length * 16);
    const bytes = new ArrayBuffer(taps.length * 16);
    const i32 = new Int32Array(bytes);
    const f32 = new Float32Array(bytes);
    taps.forEach((t, i) => {
      i32[i * 4] = t.lo;
      i32[i * 4 + 1] = t.hi;
      f32[i * 4 + 2] = t.d;
      f32[i * 4 + 3] = t.d1;
    });
    new Uint8Array(k.mem.buffer, at, bytes.byteLength).set(new Uint8Array(bytes));
    return at;
  };
  const yt = table(ys);
  const xt = table(xs);
  const x = wasmScratch('in', inBytes + 16);
  const out = wasmScratch('out', outBytes + 16);
  const p = wasmAlloc(8 * 4);
  new Int32Array(k.mem.buffer, p, 8).set([x, out, c, ys.length, xs.length, iw, yt, xt]);
  return (src, srcBase, dst, dstBase) => {
    new Uint8Array(k.mem.buffer, x, inBytes).set(src.subarray(srcBase, srcBase + inBytes));
    k.resizeu8(p);
    dst.set(new Uint8Array(k.mem.buffer, out, outBytes), dstBase);
  };
}
