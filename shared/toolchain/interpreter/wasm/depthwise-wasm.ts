import type { ConvGeometry } from '../kernels/conv-common.js';
import { requantParams } from './requant-params.js';
import { wasmAlloc, wasmKernels, wasmScratch } from './runtime.js';

/** A depthwise convolution (depth multiplier 1) of one batch image, reading `src` from `srcBase`, writing `dst`. */
export type DepthwiseRun = (src: ArrayLike<number>, srcBase: number, dst: ArrayLike<number>, dstBase: number) => void;

export interface QDepthwiseSpec {
  g: ConvGeometry;
  /** Filter minus its zero point, [tap][channel]. */
  w: Int16Array;
  bias: Int32Array;
  mult: Int32Array;
  shift: Int32Array;
  inOff: number;
  zp: number;
  actMin: number;
  actMax: number;
  signed: boolean;
}

const PARAMS = 27;

function paramBlock(g: ConvGeometry, ptrs: number[], tail: number[]): Int32Array {
  return Int32Array.from([
    ...ptrs,
    g.inH,
    g.inW,
    g.inC,
    g.kH,
    g.kW,
    g.outH,
    g.outW,
    g.strideH,
    g.strideW,
    g.dilH,
    g.dilW,
    g.padH,
    g.padW,
    ...tail,
  ]);
}

/** The quantized depthwise kernel on WebAssembly SIMD (TFLite's gemmlowp rounding), or null when unavailable. */
export function wasmQDepthwise(s: QDepthwiseSpec): DepthwiseRun | null {
  const k = wasmKernels();
  if (!k) return null;
  const { g } = s;
  const C = g.inC;
  const cp = Math.ceil(C / 8) * 8;
  const taps = g.kH * g.kW;
  const inBytes = g.inH * g.inW * C;
  const outBytes = g.outH * g.outW * C;
  const rqParams = requantParams(s.bias, s.mult, s.shift, C, true);
  if (!rqParams) return null;
  const w = wasmAlloc(taps * cp * 2);
  const rq = wasmAlloc(rqParams.byteLength);
  const p = wasmAlloc(PARAMS * 4);
  const x = wasmScratch('in', inBytes + 16);
  const out = wasmScratch('out', outBytes + 16);
  const buf = k.mem.buffer;
  const wv = new Int16Array(buf, w, taps * cp);
  for (let t = 0; t < taps; t++) wv.set(s.w.subarray(t * C, t * C + C), t * cp);
  new Int32Array(buf, rq, rqParams.length).set(rqParams);
  const block = paramBlock(g, [x, w, 0, rq, 0, 0, out, 0], [s.inOff, s.zp, s.actMin, s.actMax, s.signed ? 1 : 0, cp]);
  new Int32Array(buf, p, PARAMS).set(block);
  return (src, srcBase, dst, dstBase) => {
    const mem = k.mem.buffer;
    const from = src as Uint8Array;
    new Uint8Array(mem, x, inBytes).set(new Uint8Array(from.buffer, from.byteOffset + srcBase, inBytes));
    k.dwq(p);
    (dst as Uint8Array).set(new Uint8Array(k.mem.buffer, out, outBytes), dstBase);
  };
}

export interface FDepthwiseSpec {
  g: ConvGeometry;
  /** Filter [tap][channel]. */
  w: Float32Array;
  bias: Float32Array;
  lo: number;
  hi: number;
}

/** The float depthwise kernel on WebAssembly SIMD, or null when unavailable or the depth is not a multiple of 4. */
export function wasmFDepthwise(s: FDepthwiseSpec): DepthwiseRun | null {
  const k = wasmKernels();
  const { g } = s;
  const C = g.inC;
  if (!k || C % 4 !== 0) return null;
  const taps = g.kH * g.kW;
  const inLen = g.inH * g.inW * C;
  const outLen = g.outH * g.outW * C;
  const w = wasmAlloc(taps * C * 4);
  const bias = wasmAlloc(C * 4);
  const p = wasmAlloc(PARAMS * 4);
  const x = wasmScratch('in', inLen * 4);
  const out = wasmScratch('out', outLen * 4);
  const buf = k.mem.buffer;
  new Float32Array(buf, w, taps * C).set(s.w);
  new Float32Array(buf, bias, C).set(s.bias);
  const bounds = new Float32Array([s.lo, s.hi]);
  const [lo, hi] = new Int32Array(bounds.buffer);
  new Int32Array(buf, p, PARAMS).set(paramBlock(g, [x, w, bias, 0, 0, 0, out, 0], [0, 0, lo!, hi!, 0, C]));
  return (src, srcBase, dst, dstBase) => {
    const from = src as Float32Array;
    new Float32Array(k.mem.buffer, x, inLen).set(from.subarray(srcBase, srcBase + inLen));
    k.dwf(p);
    (dst as Float32Array).set(new Float32Array(k.mem.buffer, out, outLen), dstBase);
  };
}
