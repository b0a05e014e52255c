/** Bytes of $rqv parameters per group of 8 channels (kernels.wat): bias, 2^l, m, 2^(30-r), mask, threshold, rnd. */
export const RQ_GROUP_BYTES = 224;

/**
 * The per-channel parameters of the WebAssembly vector requantization ($rqv in kernels.wat) for `n` channels, padded
 * to whole groups of 8 (padding channels get multiplier 0). `gemmlowp`: TFLite's reference rounding (ties away from
 * zero in the final shift); otherwise ruy's x86 rounding (ties up). Null when a right shift exceeds 30, which the
 * vector kernel cannot take (the caller keeps its scalar kernel then).
 */
export function requantParams(
  bias: Int32Array,
  mult: Int32Array,
  shift: Int32Array,
  n: number,
  gemmlowp: boolean,
): Int32Array | null {
  const groups = Math.ceil(n / 8);
  const p = new Int32Array(groups * (RQ_GROUP_BYTES / 4));
  for (let c = 0; c < n; c++) {
    const s = shift[c]!;
    const l = s > 0 ? s : 0;
    const r = s > 0 ? 0 : -s;
    if (r > 30 || l > 31) return null;
    const at = (c >> 3) * (RQ_GROUP_BYTES / 4) + (c & 7);
    const mask = r === 0 ? 0 : 2 ** r - 1;
    p[at] = bias[c] ?? 0;
    p[at + 8] = (2 ** l) | 0;
    p[at + 16] = mult[c]!;
    p[at + 24] = 2 ** (30 - r);
    p[at + 32] = gemmlowp ? mask : 0;
    p[at + 40] = gemmlowp ? mask >> 1 : 0;
    p[at + 48] = gemmlowp || r === 0 ? 0 : 2 ** (r - 1);
  }
  return p;
}
