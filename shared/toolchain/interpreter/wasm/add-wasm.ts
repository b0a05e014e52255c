import { wasmAlloc, wasmKernels, wasmScratch } from './runtime.js';

export interface QAddSpec {
  n: number;
  /** Rescaled first and second operand for every byte value (signed types: indexed by value + 128). */
  t1: Int32Array;
  t2: Int32Array;
  /** Output multiplier, applied with a right shift only (shift ≤ 0). */
  multiplier: number;
  shift: number;
  zp: number;
  lo: number;
  hi: number;
  signed: boolean;
}

/** Quantized elementwise ADD/SUB of same-shape operands on WebAssembly, or null when unavailable. */
export function wasmQAdd(
  s: QAddSpec,
): ((a: Int8Array | Uint8Array, b: Int8Array | Uint8Array, out: Int8Array | Uint8Array) => void) | null {
  const k = wasmKernels();
  if (!k || s.shift > 0) return null;
  const { n } = s;
  const t1 = wasmAlloc(256 * 4);
  const t2 = wasmAlloc(256 * 4);
  const a = wasmScratch('in', n);
  const b = wasmScratch('in2', n);
  const out = wasmScratch('out', n);
  new Int32Array(k.mem.buffer, t1, 256).set(s.t1);
  new Int32Array(k.mem.buffer, t2, 256).set(s.t2);
  const bytes = (v: Int8Array | Uint8Array): Uint8Array => new Uint8Array(v.buffer, v.byteOffset, n);
  return (x, y, dst) => {
    const mem = k.mem.buffer;
    new Uint8Array(mem, a, n).set(bytes(x));
    new Uint8Array(mem, b, n).set(bytes(y));
    k.addq(a, b, out, n, t1, t2, s.multiplier, -s.shift, s.zp, s.lo, s.hi, s.signed ? 1 : 0);
    bytes(dst).set(new Uint8Array(k.mem.buffer, out, n));
  };
}
