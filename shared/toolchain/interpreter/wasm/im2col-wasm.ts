import type { ConvGeometry } from '../kernels/conv-common.js';
import { wasmAlloc, wasmKernels, wasmScratch } from './runtime.js';

export interface WasmIm2col {
  /** Copies one batch image (int8/uint8, from `srcBase`) into kernel memory. */
  load(src: Int8Array | Uint8Array, srcBase: number): void;
  /** Writes the int16 GEMM rows of output pixels [p0, p1) (value + input offset, zero padding) at `aPtr`. */
  rows(aPtr: number, p0: number, p1: number): void;
}

/** im2col of a quantized conv on WebAssembly SIMD, or null when unavailable. */
export function wasmIm2colQ(g: ConvGeometry, kp: number, inOff: number, signed: boolean): WasmIm2col | null {
  const k = wasmKernels();
  if (!k) return null;
  const inBytes = g.inH * g.inW * g.inC;
  const x = wasmScratch('in', inBytes + 16);
  const p = wasmAlloc(27 * 4);
  const block = new Int32Array(27);
  block.set([x, 0]);
  block.set(
    [g.inH, g.inW, g.inC, g.kH, g.kW, g.outH, g.outW, g.strideH, g.strideW, g.dilH, g.dilW, g.padH, g.padW, inOff],
    8,
  );
  block[25] = signed ? 1 : 0;
  block[26] = kp;
  new Int32Array(k.mem.buffer, p, 27).set(block);
  return {
    load(src, srcBase) {
      new Uint8Array(k.mem.buffer, x, inBytes).set(new Uint8Array(src.buffer, src.byteOffset + srcBase, inBytes));
    },
    rows(aPtr, p0, p1) {
      new Int32Array(k.mem.buffer, p + 4, 1)[0] = aPtr;
      k.im2colq(p, p0, p1);
    },
  };
}
