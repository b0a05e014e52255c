import { ModelBuilder } from '../../shared/toolchain/ir/builder.js';
import type { IrModel } from '../../shared/toolchain/ir/model.js';
import { toTflite } from '../../shared/toolchain/ir/to-tflite.js';
import { writeTflite } from '../../shared/toolchain/tflite/writer.js';
import type { DType } from '../../shared/toolchain/ir/dtype.js';

export const Q = ModelBuilder.quant(0.05, 0);
export const QU = ModelBuilder.quant(0.05, 128);

export function bytesOf(model: IrModel): Uint8Array {
  return writeTflite(toTflite(model));
}

/** An int8 conv layer: weights [cout, k, k, cin], int32 bias. */
export function conv(
  b: ModelBuilder,
  x: number,
  cin: number,
  cout: number,
  name: string,
  o: { k?: number; activation?: 'NONE' | 'RELU6'; outScale?: number; dilation?: [number, number] } = {},
): number {
  const k = o.k ?? 1;
  const w = b.constant(
    `${name}/w`,
    'int8',
    [cout, k, k, cin],
    new Array(cout * k * k * cin).fill(1),
    ModelBuilder.quant(0.01, 0),
  );
  const bias = b.constant(`${name}/b`, 'int32', [cout], new Array(cout).fill(0), ModelBuilder.quant(0.0005, 0));
  return b.conv2d(
    x,
    w,
    bias,
    { activation: o.activation ?? 'NONE', ...(o.dilation ? { dilation: o.dilation } : {}) },
    { name, dtype: 'int8', quant: ModelBuilder.quant(o.outScale ?? 0.05, 0) },
  );
}

export function input(b: ModelBuilder, name: string, shape: number[], dtype: DType = 'int8'): number {
  return b.input(name, shape, dtype, dtype === 'float32' ? undefined : Q);
}

export const modelInput = (path: string, model: IrModel) => ({ path, bytes: bytesOf(model) });
