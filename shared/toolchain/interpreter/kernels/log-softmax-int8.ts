import { EXP_BARREL, INT32, roundingDivideByPOT, quantizeMultiplier, mulByQuantMul, srdhm } from '../fixed-point.js';
import { unsupportedType } from '../errors.js';
import type { KernelArgs } from '../kernel.js';
import { qp } from '../quant.js';

// gemmlowp FixedPoint<int32_t, N> arithmetic, as TFLite's integer LOG_SOFTMAX uses it: `+`/`-` wrap, `*` is
// SaturatingRoundingDoublingHighMul, Rescale to fewer integer bits is a saturating left shift.
const INT32_MIN = INT32.min;
const INT32_MAX = INT32.max;
const wrap = (v: number): number => v | 0;
const sat = (v: number): number => (v < INT32_MIN ? INT32_MIN : v > INT32_MAX ? INT32_MAX : v);
/** SaturatingRoundingMultiplyByPOT(Param) with exponent ≥ 0: a saturating left shift. */
const satShl = (x: number, exponent: number): number => (exponent === 0 ? x : sat(x * 2 ** exponent));
/** gemmlowp RoundingHalfSum: (a + b ± 1) / 2, truncated. */
const halfSum = (a: number, b: number): number => {
  const s = a + b;
  return Math.trunc((s + (s >= 0 ? 1 : -1)) / 2);
};

/** exp(a) for a in [−1/4, 0), F0 → F0. */
function expQuarter(a: number): number {
  const constantTerm = 1895147668; // exp(−1/8)
  const oneThird = 715827883;
  const x = wrap(a + (1 << 28));
  const x2 = srdhm(x, x);
  const x3 = srdhm(x2, x);
  const x4 = srdhm(x2, x2);
  const x4over4 = roundingDivideByPOT(x4, 2);
  const poly = roundingDivideByPOT(wrap(srdhm(wrap(x4over4 + x3), oneThird) + x2), 1);
  return wrap(constantTerm + srdhm(constantTerm, wrap(x + poly)));
}

/** gemmlowp exp_on_negative_values for FixedPoint<int32, 5> (raw ≤ 0) → F0 raw. */
function expOnNegativeF5(a: number): number {
  const intBits = 5;
  const frac = 31 - intBits;
  const quarter = 1 << (frac - 2);
  const aModQuarterMinusQuarter = wrap((a & (quarter - 1)) - quarter);
  let result = expQuarter(satShl(aModQuarterMinusQuarter, intBits));
  const remainder = wrap(aModQuarterMinusQuarter - a);
  for (const [exponent, mult] of EXP_BARREL) {
    if (intBits > exponent && remainder & (1 << (frac + exponent))) result = srdhm(result, mult);
  }
  return a === 0 ? INT32_MAX : result;
}

/** gemmlowp one_over_one_plus_x_for_x_in_0_1: F0 → F0. */
function oneOverOnePlusX(a: number): number {
  const halfDen = halfSum(a, INT32_MAX);
  let x = wrap(1515870810 + srdhm(halfDen, -1010580540)); // 48/17 − 32/17·d, F2
  for (let i = 0; i < 3; i++) {
    const oneMinus = wrap((1 << 29) - srdhm(halfDen, x));
    x = wrap(x + satShl(srdhm(x, oneMinus), 2));
  }
  return satShl(x, 1);
}

/** TFLite log_x_for_x_greater_than_or_equal_to_1<5>(FixedPoint<int32, 12>): raw F12 → raw F5. */
function logF12toF5(input: number): number {
  const inBits = 12;
  const accBits = 6;
  const log2 = 1488522236;
  const sqrtSqrtHalf = 1805811301;
  const sqrtHalf = 1518500250;
  const alphaN = 117049297;
  const alphaD = 127690142;
  const alphaI = 1057819769;
  const alphaF = 638450708;
  const shiftedQuarter = roundingDivideByPOT(536870912, accBits);
  const za = input;
  const zaHeadroomPlus1 = Math.clz32(za);
  const raTmp = satShl(za, zaHeadroomPlus1 - 1);
  const raRaw = satShl(srdhm(raTmp, sqrtHalf), 1);
  const zaPow2Adj = sat(satShl(inBits - zaHeadroomPlus1, 31 - accBits) + shiftedQuarter);
  const zb = srdhm(za, sqrtHalf);
  const zbHeadroom = Math.clz32(zb) - 1;
  const rbRaw = satShl(za, zbHeadroom);
  const zbPow2Adj = sat(satShl(inBits - zbHeadroom, 31 - accBits) - shiftedQuarter);
  const r = Math.min(raRaw, rbRaw);
  const zPow2Adj = Math.max(zaPow2Adj, zbPow2Adj);
  const p = halfSum(r, sqrtSqrtHalf);
  let q = wrap(r - sqrtSqrtHalf);
  q = wrap(q + q);
  const commonSq = srdhm(q, q);
  const num = wrap(srdhm(q, r) + srdhm(srdhm(q, commonSq), alphaN));
  const denomMinusOne = wrap(srdhm(p, wrap(wrap(alphaI + q) + srdhm(alphaD, commonSq))) + srdhm(alphaF, q));
  const recip = oneOverOnePlusX(denomMinusOne);
  const numScaled = roundingDivideByPOT(num, accBits);
  return satShl(wrap(srdhm(zPow2Adj, log2) + srdhm(numScaled, recip)), 1);
}

/**
 * int8 LOG_SOFTMAX over the last axis (TFLite 2.9 reference_integer_ops::LogSoftmax, op version 2): input
 * differences from the row maximum in Q5.26, exp summed in Q12.19, log in Q5.26, output scale 16/256 and zero point
 * 127 (the int8 rule of the op catalog). Bit-exact integer arithmetic.
 */
export function logSoftmaxInt8(k: KernelArgs): () => void {
  const i = qp(k.tensor(0));
  const o = qp(k.outTensor(0));
  if (o.scale !== 16 / 256 || o.zp !== 127)
    throw unsupportedType(k.op, `an int8 output of scale ${o.scale} and zero point ${o.zp} (it must be 1/16, 127)`);
  const inputBits = 5;
  // PreprocessLogSoftmaxScalingExp(beta 1, input scale, 5 integer bits)
  const real = Math.min(i.scale * 2 ** (31 - inputBits), 2 ** 31 - 1);
  const { multiplier, shift: leftShift } = quantizeMultiplier(real);
  const reverse = quantizeMultiplier(2 ** (31 - leftShift) / multiplier);
  // CalculateInputRadius(5, leftShift, 31)
  const diffMin = -Math.floor((((1 << inputBits) - 1) * 2 ** (31 - inputBits)) / 2 ** leftShift);
  const shape = k.shape(0);
  const depth = shape[shape.length - 1] ?? 1;
  const x = k.input(0) as Int8Array;
  const y = k.output(0, shape) as Int8Array;
  const rows = depth === 0 ? 0 : x.length / depth;
  return () => {
    for (let row = 0; row < rows; row++) {
      const b = row * depth;
      let max = -128;
      for (let j = 0; j < depth; j++) if (x[b + j]! > max) max = x[b + j]!;
      let sum = 0; // Q12.19
      for (let j = 0; j < depth; j++) {
        const diff = x[b + j]! - max;
        if (diff >= diffMin) {
          const q5 = mulByQuantMul(diff, multiplier, leftShift);
          sum = wrap(sum + roundingDivideByPOT(expOnNegativeF5(q5), 12));
        }
      }
      const logSum = logF12toF5(sum);
      const adjustedDiffMin = Math.max(
        diffMin - 1,
        mulByQuantMul(wrap(logSum + INT32_MIN), reverse.multiplier, reverse.shift),
      );
      for (let j = 0; j < depth; j++) {
        const diff = x[b + j]! - max;
        if (diff > adjustedDiffMin) {
          const q5 = mulByQuantMul(diff, multiplier, leftShift);
          const v = roundingDivideByPOT(wrap(q5 - logSum), 31 - inputBits - 4) + 127;
          y[b + j] = v < -128 ? -128 : v > 127 ? 127 : v;
        } else {
          y[b + j] = -128;
        }
      }
    }
  };
}
