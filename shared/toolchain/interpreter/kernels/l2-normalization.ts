import { ActivationFunctionType } from '../../tflite/schema.js';
import { badOp, unsupportedType } from '../errors.js';
import { invSqrtQuantizedMultiplierExp, mulByQuantMul, mulByQuantMulSmallerThanOne } from '../fixed-point.js';
import type { Kernel } from '../kernel.js';
import { qp } from '../quant.js';

/**
 * L2_NORMALIZATION over the last axis. Float: x / max(√Σx², 1e-6). Quantized (TFLite's integer kernel): 1/√Σd² as a
 * fixed-point multiplier, output 128·d·that (+128 for uint8), clamped; the output scale is 1/128 by definition.
 */
export const l2Normalization: Kernel = (k) => {
  const shape = k.shape(0);
  if ((k.opts.fusedActivationFunction ?? 0) !== ActivationFunctionType.NONE)
    throw badOp(k.op, 'only fused activation NONE is supported');
  const depth = shape[shape.length - 1] ?? 1;
  const n = shape.reduce((a, b) => a * b, 1);
  const outer = depth ? n / depth : 0;
  const dt = k.dtype(0);
  const out = k.output(0, [...shape]);
  if (dt === 'float32') {
    const x = k.input(0) as Float32Array;
    const y = out as Float32Array;
    return () => {
      for (let i = 0; i < outer; i++) {
        let sq = 0;
        for (let c = 0; c < depth; c++) sq = Math.fround(sq + Math.fround(x[i * depth + c]! * x[i * depth + c]!));
        const norm = Math.max(Math.fround(Math.sqrt(sq)), 1e-6);
        for (let c = 0; c < depth; c++) y[i * depth + c] = x[i * depth + c]! / norm;
      }
    };
  }
  if (dt !== 'uint8' && dt !== 'int8') throw unsupportedType(k.op, dt);
  const zp = qp(k.tensor(0)).zp;
  const x = k.input(0) as Uint8Array | Int8Array;
  const y = out as Uint8Array | Int8Array;
  const [lo, hi, base] = dt === 'uint8' ? [0, 255, 128] : [-128, 127, 0];
  const signed = dt === 'int8';
  return () => {
    for (let i = 0; i < outer; i++) {
      let sq = 0;
      for (let c = 0; c < depth; c++) {
        const d = x[i * depth + c]! - zp;
        sq = (sq + d * d) | 0;
      }
      const { multiplier, shift } = invSqrtQuantizedMultiplierExp(sq, -1);
      for (let c = 0; c < depth; c++) {
        const d = x[i * depth + c]! - zp;
        // uint8: 128·d then a right shift; int8 folds the 128 into the shift (reference_integer_ops).
        const v = signed
          ? mulByQuantMul(d, multiplier, shift + 7)
          : base + mulByQuantMulSmallerThanOne(128 * d, multiplier, shift);
        y[i * depth + c] = v < lo ? lo : v > hi ? hi : v;
      }
    }
  };
};
