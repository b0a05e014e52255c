/**
 * TFLite's integer requantization arithmetic (gemmlowp fixed point), exact in JavaScript numbers.
 * A real multiplier M is stored as an int32 `multiplier` in [2^30, 2^31) and a power-of-two `shift`:
 * M ≈ multiplier · 2^(shift − 31).
 */

const INT32_MIN = -2147483648;
const INT32_MAX = 2147483647;
const TWO31 = 2147483648;

export interface QuantizedMultiplier {
  multiplier: number;
  shift: number;
}

/** std::round: half away from zero. */
export const roundHalfAway = (x: number): number => (x < 0 ? -Math.round(-x) : Math.round(x));

/** TFLite QuantizeMultiplier: frexp, round(q · 2^31), renormalise at 2^31, flush tiny multipliers to zero. */
export function quantizeMultiplier(real: number): QuantizedMultiplier {
  if (real === 0) return { multiplier: 0, shift: 0 };
  let shift = Math.floor(Math.log2(Math.abs(real))) + 1;
  let q = real / 2 ** shift;
  // frexp gives q in [0.5, 1); correct for log2 rounding at exact boundaries.
  while (Math.abs(q) >= 1) {
    q /= 2;
    shift++;
  }
  while (Math.abs(q) < 0.5) {
    q *= 2;
    shift--;
  }
  let fixed = roundHalfAway(q * TWO31);
  if (fixed === TWO31) {
    fixed /= 2;
    shift++;
  }
  if (shift < -31) {
    shift = 0;
    fixed = 0;
  }
  return { multiplier: fixed, shift };
}

/** gemmlowp SaturatingRoundingDoublingHighMul: round((a·b) / 2^31), ties away from zero, exact for int32 a, b. */
export function srdhm(a: number, b: number): number {
  if (a === INT32_MIN && b === INT32_MIN) return INT32_MAX;
  if (a < 2097152 && a > -2097152) {
    // |a·b| < 2^52: the product and the nudged quotient are exact in a double.
    const ab = a * b;
    return Math.trunc((ab + (ab >= 0 ? 1073741824 : 1 - 1073741824)) / TWO31);
  }
  // a·b may need 62 bits: split b so that every partial product is exact in a double.
  const bh = b >> 16; // signed high half
  const bl = b & 0xffff;
  const hi = a * bh; // |hi| < 2^46, weight 2^16
  const lo = a * bl; // |lo| < 2^47
  const neg = a < 0 !== b < 0 && a !== 0 && b !== 0;
  const nudge = neg ? 1 - 1073741824 : 1073741824;
  // N = hi·2^16 + lo + nudge; result = trunc(N / 2^31)
  const q1 = Math.floor(hi / 32768);
  const r1 = hi - q1 * 32768;
  const x = r1 * 65536 + lo + nudge;
  const fx = Math.floor(x / TWO31);
  let floorN = q1 + fx;
  const rem = x - fx * TWO31;
  if (floorN < 0 && rem !== 0) floorN += 1;
  return floorN;
}

/** gemmlowp RoundingDivideByPOT: x / 2^exponent rounded to nearest, ties away from zero. */
export function roundingDivideByPOT(x: number, exponent: number): number {
  if (exponent === 0) return x;
  const mask = (1 << exponent) - 1;
  const remainder = x & mask;
  const threshold = (mask >> 1) + (x < 0 ? 1 : 0);
  return (x >> exponent) + (remainder > threshold ? 1 : 0);
}

/** TFLite MultiplyByQuantizedMultiplier (double rounding, the default build). */
export function mulByQuantMul(x: number, multiplier: number, shift: number): number {
  const left = shift > 0 ? shift : 0;
  const right = shift > 0 ? 0 : -shift;
  return roundingDivideByPOT(srdhm(left ? Math.imul(x, 1 << left) : x, multiplier), right);
}

/** MultiplyByQuantizedMultiplierSmallerThanOneExp: shift ≤ 0. */
export function mulByQuantMulSmallerThanOne(x: number, multiplier: number, shift: number): number {
  return roundingDivideByPOT(srdhm(x, multiplier), -shift);
}

/** MultiplyByQuantizedMultiplierGreaterThanOne: shift ≥ 0. */
export function mulByQuantMulGreaterThanOne(x: number, multiplier: number, leftShift: number): number {
  return srdhm(Math.imul(x, 1 << leftShift), multiplier);
}

export const saturate = (v: number, lo: number, hi: number): number => (v < lo ? lo : v > hi ? hi : v);

export function sat16(v: number): number {
  return v < -32768 ? -32768 : v > 32767 ? 32767 : v;
}

export const INT32 = { min: INT32_MIN, max: INT32_MAX };

/**
 * ruy's x86 (AVX2/AVX-512) requantization, which TFLite uses for per-channel int8 GEMMs on x86: left shift, then
 * floor((x·m + 2^30) / 2^31), then a rounding right shift with ties rounded up.
 */
export function mulByQuantMulRuy(x: number, multiplier: number, shift: number): number {
  const left = shift > 0 ? shift : 0;
  const right = shift > 0 ? 0 : -shift;
  const v = left ? Math.imul(x, 1 << left) : x;
  // floor((v·m + 2^30) / 2^31), exact: split m into 16-bit halves.
  const mh = Math.floor(multiplier / 65536);
  const ml = multiplier - mh * 65536;
  const hi = v * mh; // weight 2^16
  const lo = v * ml;
  const q = Math.floor(hi / 32768);
  const r = hi - q * 32768;
  const a = q + Math.floor((r * 65536 + lo + 1073741824) / 2147483648);
  if (right === 0) return a;
  return (a + (1 << (right - 1))) >> right;
}

/**
 * Single-rounding requantization (ruy's portable multiplier, which TFLite's uint8 GEMMs reach on x86):
 * round-half-up of x · multiplier / 2^(31 − shift), computed exactly.
 */
export function mulByQuantMulSingle(x: number, multiplier: number, shift: number): number {
  const total = 31 - shift;
  // x·m may need 62 bits: split m into 16-bit halves so every partial product is exact.
  const mh = Math.floor(multiplier / 65536);
  const ml = multiplier - mh * 65536;
  const hi = x * mh; // weight 2^16
  const lo = x * ml;
  if (total <= 16) return Math.floor((hi * 65536 + lo + 2 ** (total - 1)) / 2 ** total);
  const d = 2 ** (total - 16);
  const q = Math.floor(hi / d);
  const r = hi - q * d;
  return q + Math.floor((r * 65536 + lo + 2 ** (total - 1)) / 2 ** total);
}

/** gemmlowp SaturatingRoundingMultiplyByPOT with a positive exponent: a saturating left shift. */
function satShiftLeft(x: number, exponent: number): number {
  const v = x * 2 ** exponent;
  return v > INT32_MAX ? INT32_MAX : v < INT32_MIN ? INT32_MIN : v;
}

/**
 * TFLite GetInvSqrtQuantizedMultiplierExp: 1/√input as a multiplier and shift, by five Newton–Raphson steps in
 * gemmlowp fixed point (3 integer bits). `reverseShift` −1 returns the shift as a left shift (≤ 0 means right).
 */
export function invSqrtQuantizedMultiplierExp(input: number, reverseShift: number): QuantizedMultiplier {
  if (input <= 1) return { multiplier: INT32_MAX, shift: 0 };
  let shift = 11;
  while (input >= 1 << 29) {
    input = Math.trunc(input / 4);
    shift++;
  }
  const maxLeftShiftBits = Math.clz32(input) - 1;
  const pairs = Math.floor(maxLeftShiftBits / 2) - 1;
  shift -= pairs;
  input = input << (2 * pairs);
  const fInput = input >> 1; // F3 raw
  const halfInput = roundingDivideByPOT(fInput, 1);
  const halfThree = (1 << 28) + (1 << 27);
  let x = 1 << 28; // F3 one
  for (let i = 0; i < 5; i++) {
    const x3 = satShiftLeft(srdhm(srdhm(x, x), x), 6); // F9 → F3
    x = satShiftLeft((srdhm(halfThree, x) - srdhm(halfInput, x3)) | 0, 3); // F6 → F3
  }
  let m = srdhm(x, 1518500250); // × √2/2 (F0)
  if (shift < 0) {
    m = (m << -shift) | 0;
    shift = 0;
  }
  return { multiplier: m, shift: shift * reverseShift };
}

// ---- gemmlowp FixedPoint<int16_t, N> arithmetic (the int16 LSTM's gate activations) ----

/** Wraps to int16 as a C++ static_cast<int16_t> does. */
export const wrap16 = (v: number): number => (v << 16) >> 16;

/** gemmlowp SaturatingRoundingDoublingHighMul for int16 raw values. */
export function srdhm16(a: number, b: number): number {
  if (a === -32768 && b === -32768) return 32767;
  const ab = a * b;
  return Math.trunc((ab + (ab >= 0 ? 16384 : 1 - 16384)) / 32768);
}

/** gemmlowp SaturatingRoundingMultiplyByPOT on int16: saturating left shift, or rounding right shift. */
function satRoundMulPOT16(x: number, exponent: number): number {
  if (exponent === 0) return x;
  if (exponent < 0) return roundingDivideByPOT(x, -exponent);
  return sat16(x * 2 ** exponent);
}

/** A gemmlowp int32 fixed-point constant as the int16 type holds it (RescaleConstantInitializer). */
const c16 = (int32Raw: number): number => roundingDivideByPOT(int32Raw, 16);

/** exp(a) for a in [−1/4, 0), F0 → F0. */
function expQuarter16(a: number): number {
  const constantTerm = c16(1895147668);
  const oneThird = c16(715827883);
  const x = wrap16(a + (1 << 12));
  const x2 = srdhm16(x, x);
  const x3 = srdhm16(x2, x);
  const x4 = srdhm16(x2, x2);
  const x4over4 = satRoundMulPOT16(x4, -2);
  const poly = satRoundMulPOT16(wrap16(srdhm16(wrap16(x4over4 + x3), oneThird) + x2), -1);
  return sat16(constantTerm + srdhm16(constantTerm, wrap16(x + poly)));
}

/** gemmlowp's exp_on_negative_values barrel shifter: (bit exponent, Q0.31 multiplier exp(−2^exponent)). */
export const EXP_BARREL: readonly (readonly [number, number])[] = [
  [-2, 1672461947],
  [-1, 1302514674],
  [0, 790015084],
  [1, 290630308],
  [2, 39332535],
  [3, 720401],
  [4, 242],
];

/** gemmlowp exp_on_negative_values: F(intBits) raw ≤ 0 → F0 raw. */
function expOnNegative16(a: number, intBits: number): number {
  const frac = 15 - intBits;
  const quarter = 1 << (frac - 2);
  const mask = quarter - 1;
  const aModQuarterMinusQuarter = wrap16((a & mask) - quarter);
  let result = expQuarter16(satRoundMulPOT16(aModQuarterMinusQuarter, intBits));
  const remainder = wrap16(aModQuarterMinusQuarter - a);
  for (const [exponent, mult] of EXP_BARREL) {
    if (intBits > exponent) {
      const bit = 1 << (frac + exponent);
      if (remainder & bit) result = srdhm16(result, c16(mult));
    }
  }
  if (intBits > 5) {
    const clamp = c16(-(2 ** (36 - intBits)));
    if (a < clamp) result = 0;
  }
  if (a === 0) result = 32767;
  return result;
}

/** Newton–Raphson reciprocal of 1 + x (x in F0, [0, 1)) in F2; returns the F2 estimate of 1/(1 + x) · 2. */
function reciprocalHalf16(a: number): number {
  const sum = a + 32767;
  const halfDen = Math.trunc((sum + (sum >= 0 ? 1 : -1)) / 2);
  const k48over17 = c16(1515870810);
  const kNeg32over17 = c16(-1010580540);
  let x = wrap16(k48over17 + srdhm16(halfDen, kNeg32over17));
  for (let i = 0; i < 3; i++) {
    const hdx = srdhm16(halfDen, x);
    const oneMinus = wrap16((1 << 13) - hdx);
    x = wrap16(x + satRoundMulPOT16(srdhm16(x, oneMinus), 2));
  }
  return x;
}

/** gemmlowp logistic on FixedPoint<int16_t, intBits> raw input → FixedPoint<int16_t, 0> raw output. */
export function logistic16(a: number, intBits: number): number {
  const abs = a > 0 ? a : wrap16(-a);
  const e = expOnNegative16(wrap16(-abs), intBits);
  const positive = satRoundMulPOT16(reciprocalHalf16(e), 1); // ExactMulByPot<-1> then Rescale<0> from F1
  const negative = wrap16(32767 - positive);
  if (a === 0) return c16(1 << 30);
  return a > 0 ? positive : negative;
}

/** gemmlowp tanh on FixedPoint<int16_t, intBits> raw input → FixedPoint<int16_t, 0> raw output. */
export function tanh16(a: number, intBits: number): number {
  if (a === 0) return 0;
  const n = a < 0 ? a : wrap16(-a);
  const e = expOnNegative16(n, intBits + 1);
  const t = satRoundMulPOT16(wrap16(reciprocalHalf16(e) - (1 << 13)), 2);
  return a < 0 ? wrap16(-t) : t;
}

const lutCache = new Map<string, Int16Array>();

/** The whole int16 domain of logistic16/tanh16 at `intBits`, indexed by raw + 32768. */
export function int16ActivationTable(fn: 'logistic' | 'tanh', intBits: number): Int16Array {
  const key = `${fn}:${intBits}`;
  let t = lutCache.get(key);
  if (!t) {
    const f = fn === 'logistic' ? logistic16 : tanh16;
    t = new Int16Array(65536);
    for (let i = 0; i < 65536; i++) t[i] = f(i - 32768, intBits);
    lutCache.set(key, t);
  }
  return t;
}
