import { KilnError } from '../errors.js';

/**
 * A minimal NumPy .npy reader for calibration samples (shared/npy/ did not exist when this was written): versions 1–3,
 * C order, little-endian or single-byte numeric dtypes, values returned as float32.
 */
export interface NpyArray {
  dtype: string;
  shape: number[];
  data: Float32Array;
}

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY

type Reader = (v: DataView, i: number) => number;
const READERS: Record<string, [number, Reader]> = {
  f4: [4, (v, i) => v.getFloat32(i, true)],
  f8: [8, (v, i) => v.getFloat64(i, true)],
  f2: [2, (v, i) => halfToFloat(v.getUint16(i, true))],
  i1: [1, (v, i) => v.getInt8(i)],
  u1: [1, (v, i) => v.getUint8(i)],
  b1: [1, (v, i) => v.getUint8(i)],
  i2: [2, (v, i) => v.getInt16(i, true)],
  u2: [2, (v, i) => v.getUint16(i, true)],
  i4: [4, (v, i) => v.getInt32(i, true)],
  u4: [4, (v, i) => v.getUint32(i, true)],
  i8: [8, (v, i) => Number(v.getBigInt64(i, true))],
};

function halfToFloat(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const f = h & 0x3ff;
  if (e === 0) return s * 2 ** -14 * (f / 1024);
  if (e === 31) return f ? NaN : s * Infinity;
  return s * 2 ** (e - 15) * (1 + f / 1024);
}

export function readNpy(bytes: Uint8Array, what = '.npy file'): NpyArray {
  const bad = (why: string): KilnError =>
    new KilnError('E_NPY', `${what} is not a readable .npy array: ${why}`, {
      hint: 'Save calibration samples with numpy.save(path, array) as float32, one sample per file',
    });
  if (bytes.length < 10 || MAGIC.some((m, i) => bytes[i] !== m)) throw bad('missing the \\x93NUMPY magic');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const major = bytes[6]!;
  const headerLen = major === 1 ? view.getUint16(8, true) : view.getUint32(8, true);
  const headerStart = major === 1 ? 10 : 12;
  if (headerStart + headerLen > bytes.length) throw bad('the header runs past the end of the file');
  const header = new TextDecoder('latin1').decode(bytes.subarray(headerStart, headerStart + headerLen));
  const descr = /'descr'\s*:\s*'([<>|=])([a-z]\d+)'/.exec(header);
  const fortran = /'fortran_order'\s*:\s*(True|False)/.exec(header);
  const shapeM = /'shape'\s*:\s*\(([^)]*)\)/.exec(header);
  if (!descr || !fortran || !shapeM) throw bad('the header has no descr/fortran_order/shape');
  if (fortran[1] === 'True') throw bad('Fortran-ordered arrays are not supported');
  const [, order, code] = descr;
  const reader = READERS[code!];
  if (!reader) throw bad(`dtype ${order}${code} is not supported`);
  if (order === '>' && reader[0] > 1) throw bad('big-endian arrays are not supported');
  const shape = shapeM[1]!
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '')
    .map(Number);
  if (shape.some((d) => !Number.isInteger(d) || d < 0)) throw bad(`bad shape (${shapeM[1]})`);
  const n = shape.reduce((a, b) => a * b, 1);
  const dataStart = headerStart + headerLen;
  const [width, read] = reader;
  if (dataStart + n * width > bytes.length) throw bad(`${n} elements of ${code} need ${n * width} bytes of data`);
  const data = new Float32Array(n);
  if (code === 'f4' && (bytes.byteOffset + dataStart) % 4 === 0) {
    data.set(new Float32Array(bytes.buffer, bytes.byteOffset + dataStart, n));
  } else {
    for (let i = 0; i < n; i++) data[i] = read(view, dataStart + i * width);
  }
  return { dtype: code!, shape, data };
}
