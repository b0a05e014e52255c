/**
 * MaxUnpool: X's values written into zeros at the flat offsets I holds (ONNX's indices count over the whole
 * N·C·D1·… tensor, as MaxPool's Indices output does). The offsets address the shape the attributes give,
 * (in − 1)·stride + kernel − pad_begin − pad_end per spatial axis: one SCATTER_ND of X's values (flattened, in ONNX's
 * layout) at I as [K, 1] int32 rows into that many zeros, reshaped. An output_shape (input 2; a constant, or the shape
 * the model declares when it comes at run time) larger than that pads the result with zeros at the end of each axis,
 * as ONNX's reference does (onnxruntime instead reads the offsets in output_shape; the two agree when the shapes do).
 *
 * SCATTER_ND sums duplicate rows where ONNX writes one value: MaxPool's windows repeat an index only when they
 * overlap (a stride below the kernel) and then with the same value, so with overlapping windows the sum is divided
 * by the count of writes (a second SCATTER_ND, of ones).
 */

import { numElements } from '../../../ir/graph.js';
import { tensorVal, type OnnxCtx, type Value } from '../context.js';
import { F32, castTo, floatOnly, typedOp as op } from './common.js';

/** The output shape from the attributes: (in − 1)·stride + kernel − pads per spatial axis. */
export function unpoolShape(inShape: number[], kernel: number[], strides: number[], pads: number[]): number[] {
  const k = kernel.length;
  return inShape.map((d, i) =>
    i < 2 ? d : (d - 1) * strides[i - 2]! + kernel[i - 2]! - pads[i - 2]! - pads[i - 2 + k]!,
  );
}

function outputShape(c: OnnxCtx, rank: number): number[] | undefined {
  if (!c.has(2)) return undefined;
  if (c.isConst(2)) return c.ints(2);
  const out = c.declared();
  if (!out || out.length !== rank)
    throw c.refuse(
      'input 2 (output_shape) is computed at run time and the model declares no output shape',
      'Give output_shape as a constant, or declare the output shape',
    );
  return out;
}

export function maxUnpool(c: OnnxCtx): Value[] {
  floatOnly(c);
  const inShape = c.shape(0);
  const kernel = c.attr.ints('kernel_shape');
  const k = inShape.length - 2;
  if (!kernel || kernel.length !== k)
    throw c.refuse(`kernel_shape ${kernel ? `of ${kernel.length} axes` : 'missing'} for ${k} spatial axes`);
  const strides = c.attr.ints('strides') ?? new Array<number>(k).fill(1);
  const pads = c.attr.ints('pads') ?? new Array<number>(2 * k).fill(0);
  const inferred = unpoolShape(inShape, kernel, strides, pads);
  const out = outputShape(c, inShape.length) ?? inferred;
  if (inferred.some((d) => d <= 0) || out.length !== inShape.length || out.some((d, i) => d < inferred[i]!))
    throw c.refuse(
      `output shape [${out.join(', ')}] for an input of shape [${inShape.join(', ')}]: the attributes give [${inferred.join(', ')}]`,
    );
  if (c.shape(1).join() !== inShape.join())
    throw c.refuse(`indices of shape [${c.shape(1).join(', ')}] for values of shape [${inShape.join(', ')}]`);
  const rows = numElements(inShape);
  const total = numElements(inferred);
  const values = c.b.reshape(c.tensor(0, null), [rows], { name: `${c.name}/values` });
  const idx = c.b.reshape(castTo(c, c.tensor(1, null), 'int32', `${c.name}/indices32`), [rows, 1], {
    name: `${c.name}/index_rows`,
  });
  const shape = c.b.constant(`${c.name}/flat_shape`, 'int32', [1], [total]);
  const scatter = (u: number, name: string): number => op(c, 'SCATTER_ND', [idx, u, shape], [total], F32, name);
  let flat = scatter(values, `${c.name}/scattered`);
  if (strides.some((s, i) => s < kernel[i]!)) {
    const ones = c.b.constant(`${c.name}/ones`, F32, [rows], new Float32Array(rows).fill(1));
    const count = scatter(ones, `${c.name}/writes`);
    const atLeast1 = op(
      c,
      'MAXIMUM',
      [count, c.b.constant(`${c.name}/one`, F32, [], [1])],
      [total],
      F32,
      `${c.name}/writes_or_1`,
    );
    flat = op(c, 'DIV', [flat, atLeast1], [total], F32, `${c.name}/written`, { fusedActivationFunction: 0 });
  }
  const padded = out.join() !== inferred.join();
  const y = c.b.reshape(flat, inferred, { name: padded ? `${c.name}/unpooled` : c.out() });
  if (!padded) return [tensorVal(y)];
  const paddings = c.b.constant(
    `${c.name}/paddings`,
    'int32',
    [out.length, 2],
    out.flatMap((d, i) => [0, d - inferred[i]!]),
  );
  return [tensorVal(op(c, 'PAD', [y, paddings], out, F32, c.out()))];
}
