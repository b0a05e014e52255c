import { dtypeBytes, typedView, type AnyTypedArray } from '../ir/dtype.js';
import type { Tensor } from '../ir/types.js';

/**
 * A float sample value → what the model input `t` takes: quantized with the input's scale and zero point when it is an
 * int8/uint8 tensor with quantization; converted (truncated, as a typed-array copy does) for other non-float inputs —
 * an int32 input the quantizer left as it is; the float values themselves for a float input.
 */
export function feedInput(t: Tensor, x: Float32Array): AnyTypedArray {
  if (t.dtype === 'float32') return x;
  const out = typedView(t.dtype, new Uint8Array(x.length * Math.max(1, dtypeBytes(t.dtype))));
  if (t.quant && (t.dtype === 'int8' || t.dtype === 'uint8')) {
    const { scale, zeroPoint } = t.quant;
    const [lo, hi] = t.dtype === 'uint8' ? [0, 255] : [-128, 127];
    for (let k = 0; k < x.length; k++)
      out[k] = Math.min(hi, Math.max(lo, Math.round(x[k]! / scale[0]!) + zeroPoint[0]!));
    return out;
  }
  if (out instanceof BigInt64Array) for (let k = 0; k < x.length; k++) out[k] = BigInt(Math.trunc(x[k]!));
  else (out as Int32Array).set(x);
  return out;
}
