import { mulByQuantMul, mulByQuantMulRuy, mulByQuantMulSingle } from '../fixed-point.js';
import { wasmQGemm } from '../wasm/qgemm-wasm.js';

/**
 * Quantized GEMM with TFLite's output stage: out[m][n] = clamp(zp + MBQM(bias[n] + Σ_k a[m][k]·w[n][k], mult[n],
 * shift[n])). `a` holds (input + input offset) and `w` (filter + filter offset) as int16 so that every product is
 * exact; rows are `kp` long (K rounded up to 8, zero tail). The caller fills `a` (up to `rows` rows) and calls run.
 */
export interface QGemm {
  /** The implementation, for profiles. */
  readonly name: string;
  readonly kp: number;
  readonly rows: number;
  /** Scratch rows the caller fills before run(). */
  readonly a: Int16Array;
  /** Where `a` lives in WebAssembly kernel memory (WebAssembly GEMMs only), for kernels that fill it there. */
  readonly aPtr?: number;
  run(m: number, out: Int8Array | Uint8Array, outBase: number, outStride: number): void;
}

export interface QGemmSpec {
  /** Packed weights, n rows of kp int16. */
  w: Int16Array;
  n: number;
  kp: number;
  bias: Int32Array;
  mult: Int32Array;
  shift: Int32Array;
  zp: number;
  actMin: number;
  actMax: number;
  /**
   * How the accumulator is requantized. TFLite 2.9 on x86 runs its GEMMs in ruy: int8×int8 in ruy's AVX kernels
   * ('ruy-avx': two roundings, ties up), uint8 in ruy's portable kernel ('single': one rounding, ties up).
   * 'gemmlowp' is the reference MultiplyByQuantizedMultiplier.
   */
  rounding: GemmRounding;
  /** Rows per run() call (scratch size). */
  rows: number;
}

export type GemmRounding = 'ruy-avx' | 'single' | 'gemmlowp';

/** The rounding TFLite's x86 GEMM applies for these operand types. */
export const gemmRoundingFor = (_input: string): GemmRounding => 'ruy-avx';

export const padK = (k: number): number => Math.ceil(k / 8) * 8;

/** Plain-JavaScript GEMM; the WebAssembly SIMD one is used when the engine has it. */
export function jsQGemm(s: QGemmSpec): QGemm {
  const { w, n, kp, bias, mult, shift, zp, actMin, actMax } = s;
  const a = new Int16Array(s.rows * kp);
  const rq =
    s.rounding === 'ruy-avx' ? mulByQuantMulRuy : s.rounding === 'single' ? mulByQuantMulSingle : mulByQuantMul;
  return {
    name: 'js qgemm',
    kp,
    rows: s.rows,
    a,
    run(m, out, outBase, outStride) {
      for (let r = 0; r < m; r++) {
        const ab = r * kp;
        const ob = outBase + r * outStride;
        for (let o = 0; o < n; o++) {
          const wb = o * kp;
          let acc = bias[o]!;
          for (let k = 0; k < kp; k++) acc += a[ab + k]! * w[wb + k]!;
          let v = rq(acc | 0, mult[o]!, shift[o]!) + zp;
          v = v < actMin ? actMin : v > actMax ? actMax : v;
          out[ob + o] = v;
        }
      }
    },
  };
}

export function makeQGemm(s: QGemmSpec): QGemm {
  return wasmQGemm(s) ?? jsQGemm(s);
}
