/**
 * ONNX MaxUnpool: zeros of the unpooled shape with X's values written at the flat positions MaxPool's Indices name,
 * ((n·C + c)·H + h)·W + w. SCATTER_ND over the flattened output writes them; it sums duplicate positions, so a
 * second SCATTER_ND counts the writes per position and the sum is divided by the count (at least 1): overlapping
 * MaxPool windows repeat a position only with the same value, which the division keeps.
 *
 * The unpooled shape is (in − 1)·stride − pads + kernel per spatial dimension. An output_shape larger than that is
 * refused: ONNX's reference (and its test data) scatters into the inferred shape and pads it at the end, while
 * onnxruntime and PyTorch read the indices as positions in the larger output.
 */

import { numElements } from '../../../ir/graph.js';
import { tensorVal, type OnnxCtx, type Value } from '../context.js';
import { F32, castTo, typedOp } from './common.js';

const I32 = 'int32';

/** The shape MaxUnpool infers from X's shape and the pooling attributes. */
function inferredShape(c: OnnxCtx, xs: number[]): number[] {
  const kernel = c.attr.ints('kernel_shape');
  const r = xs.length - 2;
  if (!kernel || kernel.length !== r) throw c.refuse('kernel_shape missing or of the wrong length');
  const strides = c.attr.ints('strides') ?? kernel.map(() => 1);
  const pads = c.attr.ints('pads') ?? new Array<number>(2 * r).fill(0);
  return [xs[0]!, xs[1]!, ...kernel.map((k, d) => (xs[d + 2]! - 1) * strides[d]! - (pads[d]! + pads[d + r]!) + k)];
}

export function maxUnpool(c: OnnxCtx): Value[] {
  if (c.dtype(0) !== F32) throw c.refuse(`${c.dtype(0)} values`, 'Kiln unpools float32');
  if (c.dtype(1) !== 'int64' && c.dtype(1) !== I32) throw c.refuse(`${c.dtype(1)} indices`);
  const xs = c.shape(0);
  if (xs.length < 3) throw c.refuse(`a rank-${xs.length} input`, 'MaxUnpool takes [N, C, spatial…]');
  if (c.shape(1).join() !== xs.join())
    throw c.refuse(`indices of shape [${c.shape(1).join(', ')}] for X [${xs.join(', ')}]`);
  const inferred = inferredShape(c, xs);
  if (inferred.some((d) => d < 1)) throw c.refuse(`an unpooled shape [${inferred.join(', ')}]`);
  if (c.has(2)) {
    const given = c.isConst(2) ? c.ints(2) : c.declared(0);
    if (!given)
      throw c.refuse('an output_shape computed at run time and no declared output shape', 'Declare the output shape');
    if (given.join() !== inferred.join())
      throw c.refuse(
        `output_shape [${given.join(', ')}] other than the inferred [${inferred.join(', ')}]`,
        "ONNX's reference pads the inferred output at its end, onnxruntime and PyTorch index the larger output: Kiln converts output_shape equal to the inferred shape",
      );
  }
  const K = numElements(xs);
  const T = numElements(inferred);
  const name = c.name;
  const x = c.b.reshape(c.tensor(0, null), [K], { name: `${name}/values` });
  const idx = c.b.reshape(castTo(c, c.tensor(1, null), I32, `${name}/indices_int32`), [K, 1], {
    name: `${name}/index_rows`,
  });
  const shape = c.b.constant(`${name}/shape`, I32, [1], [T]);
  const sum = typedOp(c, 'SCATTER_ND', [idx, x, shape], [T], F32, `${name}/scattered`);
  const ones = c.b.constant(`${name}/ones`, I32, [K], new Int32Array(K).fill(1));
  const count = typedOp(c, 'SCATTER_ND', [idx, ones, shape], [T], I32, `${name}/writes`);
  const atLeast1 = typedOp(
    c,
    'MAXIMUM',
    [castTo(c, count, F32, `${name}/writes_f`), c.b.constant(`${name}/one`, F32, [], [1])],
    [T],
    F32,
    `${name}/writes_at_least_1`,
  );
  const y = typedOp(c, 'DIV', [sum, atLeast1], [T], F32, `${name}/unpooled`, { fusedActivationFunction: 0 });
  return [tensorVal(c.b.reshape(y, inferred, { name: c.out() }))];
}
