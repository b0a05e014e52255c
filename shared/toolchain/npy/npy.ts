import { KilnError } from '../../common/errors.js';
import type { AnyTypedArray, DType } from '../ir/dtype.js';

/** numpy dtype descr ↔ Kiln dtype (little-endian, C order only). */
const DESCR: Readonly<Record<string, DType>> = {
  '<f4': 'float32',
  '<f8': 'float64',
  '<i4': 'int32',
  '|u1': 'uint8',
  '<u1': 'uint8',
  '|i1': 'int8',
  '<i1': 'int8',
  '<i2': 'int16',
  '<i8': 'int64',
  '|b1': 'bool',
  '<b1': 'bool',
};

const DESCR_OF: Partial<Record<DType, string>> = {
  float32: '<f4',
  float64: '<f8',
  int32: '<i4',
  uint8: '|u1',
  int8: '|i1',
  int16: '<i2',
  int64: '<i8',
  bool: '|b1',
};

export interface NpyArray {
  dtype: DType;
  shape: number[];
  data: AnyTypedArray;
}

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY

const npyError = (why: string, file?: string): KilnError =>
  new KilnError('E_NPY', `${file ? `${file}: ` : ''}not a readable .npy file: ${why}`, {
    hint: 'Save the array with numpy.save (little-endian, C order, dtype float32/float64/int8/uint8/int16/int32/int64/bool)',
  });

function typed(dtype: DType, bytes: Uint8Array): AnyTypedArray {
  // A fresh copy with its own exact ArrayBuffer (Node's Buffer#slice returns a view into a shared pool).
  const copy = new Uint8Array(bytes);
  const b = copy.buffer;
  switch (dtype) {
    case 'float32':
      return new Float32Array(b);
    case 'float64':
      return new Float64Array(b);
    case 'int32':
      return new Int32Array(b);
    case 'int8':
      return new Int8Array(b);
    case 'int16':
      return new Int16Array(b);
    case 'int64':
      return new BigInt64Array(b);
    default:
      return new Uint8Array(b);
  }
}

/** Parses a .npy file (format versions 1, 2 and 3). */
export function readNpy(bytes: Uint8Array, file?: string): NpyArray {
  if (bytes.length < 10 || MAGIC.some((m, i) => bytes[i] !== m))
    throw npyError('the magic string \\x93NUMPY is missing', file);
  const major = bytes[6]!;
  if (major < 1 || major > 3) throw npyError(`format version ${major}.${bytes[7]} is not supported`, file);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLenSize = major === 1 ? 2 : 4;
  if (bytes.length < 8 + headerLenSize) throw npyError('the header is truncated', file);
  const headerLen = major === 1 ? dv.getUint16(8, true) : dv.getUint32(8, true);
  const start = 8 + headerLenSize;
  if (start + headerLen > bytes.length) throw npyError('the header is truncated', file);
  const header = new TextDecoder(major === 3 ? 'utf-8' : 'latin1').decode(bytes.subarray(start, start + headerLen));
  const descr = /'descr'\s*:\s*'([^']+)'/.exec(header)?.[1];
  const fortran = /'fortran_order'\s*:\s*(True|False)/.exec(header)?.[1];
  const shapeText = /'shape'\s*:\s*\(([^)]*)\)/.exec(header)?.[1];
  if (descr === undefined || fortran === undefined || shapeText === undefined)
    throw npyError(`the header is not a numpy dict: ${header.trim()}`, file);
  if (fortran === 'True') throw npyError('Fortran-order arrays are not supported', file);
  const dtype = DESCR[descr];
  if (!dtype) throw npyError(`dtype ${descr} is not supported${descr.startsWith('>') ? ' (big-endian)' : ''}`, file);
  const shape = shapeText
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0)
    .map((s) => {
      const n = Number(s.replace(/L$/, ''));
      if (!Number.isInteger(n) || n < 0) throw npyError(`bad dimension ${s}`, file);
      return n;
    });
  const width = { float32: 4, float64: 8, int32: 4, int8: 1, uint8: 1, int16: 2, int64: 8, bool: 1 }[dtype as string]!;
  const count = shape.reduce((a, b) => a * b, 1);
  const dataStart = start + headerLen;
  const need = count * width;
  if (bytes.length - dataStart < need)
    throw npyError(`the data holds ${bytes.length - dataStart} bytes, the shape needs ${need}`, file);
  return { dtype, shape, data: typed(dtype, bytes.subarray(dataStart, dataStart + need)) };
}

/** A .npy sample as float32 values (calibration and validation data), whatever numeric dtype it was saved with. */
export function readNpyFloat32(bytes: Uint8Array, file?: string): NpyArray & { data: Float32Array } {
  const a = readNpy(bytes, file);
  const data =
    a.data instanceof Float32Array ? a.data : Float32Array.from(a.data as ArrayLike<number | bigint>, Number);
  return { ...a, dtype: 'float32', data };
}

/** Serializes an array as .npy (version 1.0, or 2.0 when the header needs it). */
export function writeNpy(a: NpyArray): Uint8Array {
  const descr = DESCR_OF[a.dtype];
  if (!descr) throw new KilnError('E_NPY', `cannot write a .npy of dtype ${a.dtype}`);
  const shape = a.shape.length === 1 ? `(${a.shape[0]},)` : `(${a.shape.join(', ')})`;
  let header = `{'descr': '${descr}', 'fortran_order': False, 'shape': ${shape}, }`;
  const v1 = header.length + 11 < 65536;
  const pre = v1 ? 10 : 12;
  const total = Math.ceil((pre + header.length + 1) / 64) * 64;
  header = header.padEnd(total - pre - 1, ' ') + '\n';
  const data = new Uint8Array(a.data.buffer, a.data.byteOffset, a.data.byteLength);
  const out = new Uint8Array(total + data.length);
  out.set(MAGIC, 0);
  out[6] = v1 ? 1 : 2;
  out[7] = 0;
  const dv = new DataView(out.buffer);
  if (v1) dv.setUint16(8, header.length, true);
  else dv.setUint32(8, header.length, true);
  out.set(new TextEncoder().encode(header), pre);
  out.set(data, total);
  return out;
}
