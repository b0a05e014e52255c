import type { DType } from '../ir/dtype.js';
import type { Tensor } from '../ir/types.js';
import { ActivationFunctionType } from '../tflite/schema.js';
import { roundHalfAway } from './fixed-point.js';

const f32 = Math.fround;

/** Per-tensor scale (as the float32 TFLite stores) and zero point of a tensor; 0/0 when unquantized. */
export function qp(t: Tensor | undefined): { scale: number; zp: number } {
  return { scale: t?.quant?.scale[0] ?? 0, zp: t?.quant?.zeroPoint[0] ?? 0 };
}

export const INT_RANGE: Partial<Record<DType, readonly [number, number]>> = {
  int8: [-128, 127],
  uint8: [0, 255],
  int16: [-32768, 32767],
  int32: [-2147483648, 2147483647],
};

export function intRange(d: DType): readonly [number, number] {
  const r = INT_RANGE[d];
  if (!r) throw new Error(`no integer range for ${d}`);
  return r;
}

/** CalculateActivationRangeQuantized: the fused activation as a clamp in the output's quantized domain. */
export function quantActivationRange(act: number, out: Tensor): [number, number] {
  const [qmin, qmax] = intRange(out.dtype);
  const { scale, zp } = qp(out);
  const quantize = (f: number): number => zp + roundHalfAway(f32(f / scale));
  switch (act) {
    case ActivationFunctionType.RELU:
      return [Math.max(qmin, quantize(0)), qmax];
    case ActivationFunctionType.RELU6:
      return [Math.max(qmin, quantize(0)), Math.min(qmax, quantize(6))];
    case ActivationFunctionType.RELU_N1_TO_1:
      return [Math.max(qmin, quantize(-1)), Math.min(qmax, quantize(1))];
    default:
      return [qmin, qmax];
  }
}

/** CalculateActivationRange for float kernels. */
export function floatActivationRange(act: number): [number, number] {
  switch (act) {
    case ActivationFunctionType.RELU:
      return [0, Infinity];
    case ActivationFunctionType.RELU6:
      return [0, 6];
    case ActivationFunctionType.RELU_N1_TO_1:
      return [-1, 1];
    default:
      return [-Infinity, Infinity];
  }
}

/** Fused activations other than clamps (TANH, SIGN_BIT) are refused by the kernels that call this. */
export const isClampActivation = (act: number): boolean =>
  act === ActivationFunctionType.NONE ||
  act === ActivationFunctionType.RELU ||
  act === ActivationFunctionType.RELU6 ||
  act === ActivationFunctionType.RELU_N1_TO_1;

export const isQuant8 = (d: DType): boolean => d === 'int8' || d === 'uint8';
