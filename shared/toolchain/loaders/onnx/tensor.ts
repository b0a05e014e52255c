import { KilnError } from '../../../common/errors.js';
import { bytesOf, typedView, type DType } from '../../ir/dtype.js';
import { numElements } from '../../ir/graph.js';
import { checkSize, halfToFloat, type HostTensor } from '../tensor.js';
import type { OnnxTensor } from './types.js';

/** ONNX TensorProto.DataType → IR dtype (undefined: a type Kiln cannot hold). */
export const ONNX_DTYPES: Record<number, DType | undefined> = {
  1: 'float32',
  2: 'uint8',
  3: 'int8',
  4: 'uint16',
  5: 'int16',
  6: 'int32',
  7: 'int64',
  8: 'string',
  9: 'bool',
  10: 'float16',
  11: 'float64',
  12: 'uint32',
  13: 'uint64',
};

export const ONNX_TYPE_NAMES: Record<number, string> = {
  1: 'float',
  2: 'uint8',
  3: 'int8',
  4: 'uint16',
  5: 'int16',
  6: 'int32',
  7: 'int64',
  8: 'string',
  9: 'bool',
  10: 'float16',
  11: 'double',
  12: 'uint32',
  13: 'uint64',
  14: 'complex64',
  15: 'complex128',
  16: 'bfloat16',
};

export function onnxDtype(t: number | undefined, what: string): DType {
  const d = t === undefined ? undefined : ONNX_DTYPES[t];
  if (!d)
    throw new KilnError('E_UNSUPPORTED_TYPE', `${what}: ONNX type ${ONNX_TYPE_NAMES[t ?? 0] ?? t} is not supported`, {
      hint: 'Export the model with float32 tensors',
    });
  return d;
}

/** A TensorProto → host tensor: raw_data, or the typed *_data fields. Tensors stored outside the file are refused. */
export function tensorFromOnnx(t: OnnxTensor, what: string): HostTensor {
  if (t.dataLocation === 1 || t.externalData.length > 0) {
    const loc = t.externalData.find((e) => e.key === 'location')?.value;
    throw new KilnError(
      'E_BAD_ARGUMENT',
      `${what}: the tensor's data is stored outside the model file${loc ? ` (in "${loc}")` : ''}; Kiln reads self-contained .onnx files only`,
      {
        hint: 'Save the model with its weights inside: onnx.save_model(model, path, save_as_external_data=False) (models under 2 GB)',
      },
    );
  }
  const dtype = onnxDtype(t.dataType, what);
  const shape = t.dims.map(Number);
  const n = numElements(shape);
  if (shape.some((d) => !Number.isInteger(d) || d < 0) || n > 2 ** 31)
    throw new KilnError('E_BAD_ARGUMENT', `${what}: invalid tensor shape [${shape.join(',')}]`, {
      hint: 'The file is not an ONNX TensorProto or is corrupt',
    });
  if (dtype === 'string') return { dtype, shape, data: new Uint8Array(0), strings: t.stringData };
  if (t.rawData && t.rawData.length > 0) return checkSize({ dtype, shape, data: t.rawData.slice() }, what);
  const fill = (
    arr: Float32Array | Float64Array | Int32Array | Int16Array | Int8Array | Uint8Array | Uint16Array | Uint32Array,
    vals: number[],
  ): Uint8Array => {
    if (vals.length !== n && !(vals.length === 0 && n === 0))
      throw new KilnError('E_BAD_ARGUMENT', `${what}: ${vals.length} values for shape [${shape.join(',')}]`);
    arr.set(vals);
    return bytesOf(arr);
  };
  switch (dtype) {
    case 'float32':
      return { dtype, shape, data: fill(new Float32Array(n), t.floatData) };
    case 'float64':
      return { dtype, shape, data: fill(new Float64Array(n), t.doubleData) };
    case 'int32':
      return { dtype, shape, data: fill(new Int32Array(n), t.int32Data) };
    case 'int16':
      return { dtype, shape, data: fill(new Int16Array(n), t.int32Data) };
    case 'int8':
      return { dtype, shape, data: fill(new Int8Array(n), t.int32Data) };
    case 'uint8':
    case 'bool':
      return { dtype, shape, data: fill(new Uint8Array(n), t.int32Data) };
    case 'uint16':
    case 'float16':
      return { dtype, shape, data: fill(new Uint16Array(n), t.int32Data) };
    case 'uint32':
      return { dtype, shape, data: fill(new Uint32Array(n), t.uint64Data) };
    case 'int64': {
      if (t.int64Data.length !== n)
        throw new KilnError('E_BAD_ARGUMENT', `${what}: ${t.int64Data.length} values for shape [${shape.join(',')}]`);
      return { dtype, shape, data: bytesOf(BigInt64Array.from(t.int64Data, (v) => BigInt(Math.trunc(v)))) };
    }
    case 'uint64':
      return { dtype, shape, data: bytesOf(BigUint64Array.from(t.uint64Data, (v) => BigInt(Math.trunc(v)))) };
    default:
      throw new KilnError('E_UNSUPPORTED_TYPE', `${what}: constant of type ${dtype}`);
  }
}

/**
 * A constant as the converter computes with it: element type and logical shape, values as numbers (float32 data kept
 * as float32, every other type widened to float64; int64 beyond 2^53 loses precision, which only the "to the end"
 * sentinels of Slice use).
 */
export interface ConstVal {
  dtype: DType;
  shape: number[];
  v: Float32Array | Float64Array;
}

export function constOf(t: HostTensor, what: string): ConstVal {
  if (t.dtype === 'string')
    throw new KilnError('E_UNSUPPORTED_TYPE', `${what}: string tensors cannot be converted`, {
      hint: 'Do the string processing outside the model',
    });
  if (t.dtype === 'float32')
    return { dtype: 'float32', shape: t.shape, v: typedView('float32', t.data) as Float32Array };
  if (t.dtype === 'float16')
    return { dtype: 'float32', shape: t.shape, v: halfToFloat(typedView('float16', t.data) as Uint16Array) };
  const raw = typedView(t.dtype, t.data);
  const v = new Float64Array(raw.length);
  for (let i = 0; i < raw.length; i++) v[i] = Number(raw[i]!);
  return { dtype: t.dtype, shape: t.shape, v };
}

export const makeConst = (dtype: DType, shape: number[], v: ArrayLike<number>): ConstVal => ({
  dtype,
  shape,
  v: dtype === 'float32' ? Float32Array.from(v) : Float64Array.from(v),
});

/** The constant's values in the IR dtype they are emitted as (int64 → int64 stays; float64 → float32). */
export function constTyped(
  c: ConstVal,
  as: DType = c.dtype,
): { dtype: DType; values: ArrayLike<number> | BigInt64Array } {
  switch (as) {
    case 'int64':
      return { dtype: 'int64', values: BigInt64Array.from(c.v, toBigInt64) };
    case 'float64':
    case 'float16':
      return { dtype: 'float32', values: c.v };
    default:
      // a typed array is written as its raw bytes: values of another element type go over as numbers
      return { dtype: as, values: as === 'float32' && c.v instanceof Float32Array ? c.v : Array.from(c.v) };
  }
}

const I64_MAX = 9223372036854775807n;
const I64_MIN = -9223372036854775808n;

export function toBigInt64(x: number): bigint {
  if (x >= 2 ** 63) return I64_MAX;
  if (x <= -(2 ** 63)) return I64_MIN;
  return BigInt(Math.trunc(x));
}
