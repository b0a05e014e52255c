import { TensorType } from '../tflite/schema.js';

/** Element types, by their TFLite names in lower case. */
export const DTYPES = {
  float32: { tflite: TensorType.FLOAT32, bytes: 4 },
  float16: { tflite: TensorType.FLOAT16, bytes: 2 },
  float64: { tflite: TensorType.FLOAT64, bytes: 8 },
  int32: { tflite: TensorType.INT32, bytes: 4 },
  uint8: { tflite: TensorType.UINT8, bytes: 1 },
  int64: { tflite: TensorType.INT64, bytes: 8 },
  string: { tflite: TensorType.STRING, bytes: 0 },
  bool: { tflite: TensorType.BOOL, bytes: 1 },
  int16: { tflite: TensorType.INT16, bytes: 2 },
  int8: { tflite: TensorType.INT8, bytes: 1 },
  uint32: { tflite: TensorType.UINT32, bytes: 4 },
  uint16: { tflite: TensorType.UINT16, bytes: 2 },
  uint64: { tflite: TensorType.UINT64, bytes: 8 },
  complex64: { tflite: TensorType.COMPLEX64, bytes: 8 },
  complex128: { tflite: TensorType.COMPLEX128, bytes: 16 },
  resource: { tflite: TensorType.RESOURCE, bytes: 0 },
  variant: { tflite: TensorType.VARIANT, bytes: 0 },
  int4: { tflite: TensorType.INT4, bytes: 0 },
} as const;

export type DType = keyof typeof DTYPES;

const BY_TFLITE = new Map<number, DType>(Object.entries(DTYPES).map(([k, v]) => [v.tflite as number, k as DType]));

export function dtypeFromTflite(t: number): DType {
  const d = BY_TFLITE.get(t);
  if (!d) throw new Error(`unknown TFLite tensor type ${t}`);
  return d;
}

export function dtypeToTflite(d: DType): TensorType {
  return DTYPES[d].tflite;
}

export function dtypeBytes(d: DType): number {
  return DTYPES[d].bytes;
}

export const isQuantizedInt = (d: DType): boolean => d === 'int8' || d === 'uint8' || d === 'int16';

export type TypedArrayOf<D extends DType> = D extends 'float32'
  ? Float32Array
  : D extends 'float64'
    ? Float64Array
    : D extends 'int32'
      ? Int32Array
      : D extends 'uint8' | 'bool'
        ? Uint8Array
        : D extends 'int8'
          ? Int8Array
          : D extends 'int16'
            ? Int16Array
            : D extends 'uint16' | 'float16'
              ? Uint16Array
              : D extends 'uint32'
                ? Uint32Array
                : D extends 'int64'
                  ? BigInt64Array
                  : D extends 'uint64'
                    ? BigUint64Array
                    : Uint8Array;

export type AnyTypedArray =
  | Float32Array
  | Float64Array
  | Int32Array
  | Uint8Array
  | Int8Array
  | Int16Array
  | Uint16Array
  | Uint32Array
  | BigInt64Array
  | BigUint64Array;

/** A typed view over raw little-endian tensor bytes (copies only if misaligned). */
export function typedView(d: DType, bytes: Uint8Array): AnyTypedArray {
  const width = Math.max(1, dtypeBytes(d));
  const aligned = bytes.byteOffset % width === 0 ? bytes : bytes.slice();
  const n = aligned.byteLength / width;
  const buf = aligned.buffer;
  const off = aligned.byteOffset;
  switch (d) {
    case 'float32':
      return new Float32Array(buf, off, n);
    case 'float64':
      return new Float64Array(buf, off, n);
    case 'int32':
      return new Int32Array(buf, off, n);
    case 'int8':
      return new Int8Array(buf, off, n);
    case 'int16':
      return new Int16Array(buf, off, n);
    case 'uint16':
    case 'float16':
      return new Uint16Array(buf, off, n);
    case 'uint32':
      return new Uint32Array(buf, off, n);
    case 'int64':
      return new BigInt64Array(buf, off, n);
    case 'uint64':
      return new BigUint64Array(buf, off, n);
    default:
      return new Uint8Array(buf, off, aligned.byteLength);
  }
}

/** Raw little-endian bytes of a typed array (a view, no copy). */
export function bytesOf(a: AnyTypedArray): Uint8Array {
  return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
}
