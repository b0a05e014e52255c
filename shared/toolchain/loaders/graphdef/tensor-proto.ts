import { KilnError } from '../../../common/errors.js';
import type { DType } from '../../ir/dtype.js';
import { numElements } from '../../ir/graph.js';
import type { HostTensor } from '../tensor.js';
import { DT_NAMES, shapeOf, type TensorJson } from './types.js';

/** TF DataType names → IR dtypes (those a TFLite model can hold). */
export const TF_DTYPES: Record<string, DType> = {
  DT_FLOAT: 'float32',
  DT_DOUBLE: 'float64',
  DT_INT32: 'int32',
  DT_UINT8: 'uint8',
  DT_INT16: 'int16',
  DT_INT8: 'int8',
  DT_STRING: 'string',
  DT_INT64: 'int64',
  DT_BOOL: 'bool',
  DT_HALF: 'float16',
  DT_UINT16: 'uint16',
  DT_UINT32: 'uint32',
  DT_UINT64: 'uint64',
  DT_RESOURCE: 'resource',
  DT_VARIANT: 'variant',
};

export function tfDtype(t: string | number | undefined, what: string): DType {
  const name = typeof t === 'number' ? DT_NAMES[t] : t;
  const d = name ? TF_DTYPES[name.replace(/_REF$/, '')] : undefined;
  if (!d) throw new KilnError('E_UNSUPPORTED_TYPE', `${what}: TensorFlow type ${name ?? t} is not supported`);
  return d;
}

const b64 = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, 'base64'));

/** A TensorProto (JSON form) → host tensor: tensor_content bytes, or the typed *_val fields (a single value fills). */
export function tensorFromProto(t: TensorJson, what: string): HostTensor {
  const dtype = tfDtype(t.dtype, what);
  const shape = shapeOf(t.tensorShape) ?? [];
  const n = numElements(shape);
  if (dtype === 'string') {
    return { dtype, shape, data: new Uint8Array(0), strings: (t.stringVal ?? []).map(b64) };
  }
  if (t.tensorContent) return { dtype, shape, data: b64(t.tensorContent) };
  const fill = <A extends { length: number; [i: number]: any }>(
    arr: A,
    vals: ArrayLike<any> | undefined,
    conv: (v: any) => any,
  ): Uint8Array => {
    const v = vals ?? [];
    if (v.length > n) throw new KilnError('E_BAD_ARGUMENT', `${what}: ${v.length} values for ${n} elements`);
    for (let i = 0; i < n; i++) arr[i] = conv(v.length === 0 ? 0 : v[Math.min(i, v.length - 1)]);
    return new Uint8Array((arr as unknown as Float32Array).buffer);
  };
  switch (dtype) {
    case 'float32':
      return { dtype, shape, data: fill(new Float32Array(n), t.floatVal, Number) };
    case 'float64':
      return { dtype, shape, data: fill(new Float64Array(n), t.doubleVal, Number) };
    case 'int32':
    case 'int16':
    case 'int8':
    case 'uint8':
    case 'uint16': {
      const arr =
        dtype === 'int32'
          ? new Int32Array(n)
          : dtype === 'int16'
            ? new Int16Array(n)
            : dtype === 'int8'
              ? new Int8Array(n)
              : dtype === 'uint8'
                ? new Uint8Array(n)
                : new Uint16Array(n);
      return { dtype, shape, data: fill(arr, t.intVal, Number) };
    }
    case 'float16':
      return { dtype, shape, data: fill(new Uint16Array(n), t.halfVal, Number) };
    case 'int64':
      return { dtype, shape, data: fill(new BigInt64Array(n), t.int64Val, (v) => BigInt(v)) };
    case 'uint64':
      return { dtype, shape, data: fill(new BigUint64Array(n), t.uint64Val, (v) => BigInt(v)) };
    case 'uint32':
      return { dtype, shape, data: fill(new Uint32Array(n), t.uint32Val, Number) };
    case 'bool':
      return { dtype, shape, data: fill(new Uint8Array(n), t.boolVal, (v) => (v ? 1 : 0)) };
    default:
      throw new KilnError('E_UNSUPPORTED_TYPE', `${what}: constant of type ${dtype}`);
  }
}
