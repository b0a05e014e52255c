import { KilnError } from '../../common/errors.js';
import { bytesOf, dtypeBytes, typedView, type AnyTypedArray, type DType } from '../ir/dtype.js';
import { numElements } from '../ir/graph.js';

/** A constant read from a model file: element type, shape and raw little-endian bytes (strings kept apart). */
export interface HostTensor {
  dtype: DType;
  shape: number[];
  data: Uint8Array;
  /** Elements of a string tensor (dtype 'string'); `data` is empty then. */
  strings?: Uint8Array[];
}

export function hostTensor(dtype: DType, shape: number[], values: AnyTypedArray): HostTensor {
  return { dtype, shape: [...shape], data: bytesOf(values).slice() };
}

export function checkSize(t: HostTensor, what: string): HostTensor {
  if (t.dtype === 'string') return t;
  const want = numElements(t.shape) * dtypeBytes(t.dtype);
  if (t.data.length !== want) {
    throw new KilnError(
      'E_BAD_ARGUMENT',
      `${what}: ${t.data.length} bytes of data for shape [${t.shape.join(',')}] of ${t.dtype} (expected ${want})`,
    );
  }
  return t;
}

/** The values as float32 (converting from any numeric type). */
export function toFloat32(t: HostTensor): Float32Array {
  if (t.dtype === 'float32') return typedView('float32', t.data) as Float32Array;
  if (t.dtype === 'float16') return halfToFloat(typedView('float16', t.data) as Uint16Array);
  return Float32Array.from(toNumbers(t));
}

/** The values as plain numbers (int64 narrowed; refuses strings). */
export function toNumbers(t: HostTensor): number[] {
  if (t.dtype === 'string') throw new KilnError('E_UNSUPPORTED_TYPE', 'a string tensor cannot be used as a number');
  if (t.dtype === 'float16') return Array.from(halfToFloat(typedView('float16', t.data) as Uint16Array));
  const v = typedView(t.dtype, t.data);
  return Array.from(v as ArrayLike<number | bigint>, (x) => Number(x));
}

export function halfToFloat(h: Uint16Array): Float32Array {
  const out = new Float32Array(h.length);
  for (let i = 0; i < h.length; i++) {
    const x = h[i]!;
    const sign = x & 0x8000 ? -1 : 1;
    const exp = (x >> 10) & 0x1f;
    const frac = x & 0x3ff;
    out[i] =
      exp === 0
        ? sign * 2 ** -14 * (frac / 1024)
        : exp === 31
          ? frac
            ? NaN
            : sign * Infinity
          : sign * 2 ** (exp - 15) * (1 + frac / 1024);
  }
  return out;
}
