import { readFileSync } from 'node:fs';
import { fromTflite } from '../../shared/toolchain/ir/from-tflite.js';
import type { IrModel } from '../../shared/toolchain/ir/model.js';
import { toTflite } from '../../shared/toolchain/ir/to-tflite.js';
import type { Tensor } from '../../shared/toolchain/ir/types.js';
import { readTflite } from '../../shared/toolchain/tflite/reader.js';
import { writeTflite } from '../../shared/toolchain/tflite/writer.js';

export const loadIr = (path: string): IrModel => fromTflite(readTflite(readFileSync(path)));
export const toBytes = (m: IrModel): Uint8Array => writeTflite(toTflite(m));

/** Float values → the raw bytes of a quantized (int8/uint8) or float32 input tensor. */
export function encodeInput(t: Tensor, x: ArrayLike<number>): Uint8Array {
  if (t.dtype === 'float32') return new Uint8Array(Float32Array.from(x).buffer);
  const q = t.quant!;
  const [lo, hi] = t.dtype === 'uint8' ? [0, 255] : [-128, 127];
  const out = t.dtype === 'uint8' ? new Uint8Array(x.length) : new Int8Array(x.length);
  for (let i = 0; i < x.length; i++)
    out[i] = Math.min(hi, Math.max(lo, Math.round(x[i]! / q.scale[0]!) + q.zeroPoint[0]!));
  return new Uint8Array(out.buffer);
}

/** Raw output bytes → float values (dequantized when the tensor is quantized). */
export function decodeOutput(t: Tensor, bytes: Uint8Array): Float64Array {
  if (t.dtype === 'float32') return Float64Array.from(new Float32Array(bytes.slice().buffer));
  const q = t.quant!;
  const v = t.dtype === 'uint8' ? bytes : new Int8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return Float64Array.from(v, (x) => q.scale[0]! * (x - q.zeroPoint[0]!));
}

/** A .npy (v1.0, little-endian float32, C order) file's bytes. */
export function npyBytes(shape: number[], data: Float32Array): Uint8Array {
  let header = `{'descr': '<f4', 'fortran_order': False, 'shape': (${shape.join(', ')}${shape.length === 1 ? ',' : ''}), }`;
  const total = 10 + header.length + 1;
  header += ' '.repeat((64 - (total % 64)) % 64) + '\n';
  const out = new Uint8Array(10 + header.length + data.byteLength);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0]);
  new DataView(out.buffer).setUint16(8, header.length, true);
  out.set(new TextEncoder().encode(header), 10);
  out.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), 10 + header.length);
  return out;
}

export function quantile(sorted: readonly number[], p: number): number {
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1));
  return sorted[i]!;
}
