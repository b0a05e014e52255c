import { KilnError } from '../../common/errors.js';
import { typedView } from '../ir/dtype.js';
import type { Graph } from '../ir/graph.js';

/** A float constant with NaN or ±Infinity values. */
export interface NonFiniteWeight {
  tensor: string;
  nan: number;
  infinite: number;
  size: number;
}

const FLOAT_CONSTANTS = new Set(['float32', 'float64']);

/**
 * The inputs of each weighted op that are learned parameters (filters, weights, biases). ±Infinity there means the
 * weights are broken; elsewhere an infinite constant is often meant (an attention mask of −∞, a bound, the ∞ an IsInf
 * test compares with), so only NaN is refused there.
 */
const WEIGHT_INPUTS: Readonly<Record<string, readonly number[]>> = {
  CONV_2D: [1, 2],
  DEPTHWISE_CONV_2D: [1, 2],
  FULLY_CONNECTED: [1, 2],
  TRANSPOSE_CONV: [1, 3],
  CONV_3D: [1, 2],
};

/** Constants that are the learned parameters of a weighted op (WEIGHT_INPUTS). */
function weightTensors(g: Graph): Set<number> {
  const out = new Set<number>();
  for (const op of g.ops)
    for (const i of WEIGHT_INPUTS[op.type] ?? []) if ((op.inputs[i] ?? -1) >= 0) out.add(op.inputs[i]!);
  return out;
}

/**
 * Float constants holding NaN, and weights (WEIGHT_INPUTS) holding NaN or ±Infinity, in tensor order. `infinite`
 * counts only in weights. Pure.
 */
export function nonFiniteWeights(g: Graph): NonFiniteWeight[] {
  const found: NonFiniteWeight[] = [];
  const weights = weightTensors(g);
  for (const t of g.tensors) {
    if (!FLOAT_CONSTANTS.has(t.dtype) || !g.isConstant(t.id) || !t.data) continue;
    const v = typedView(t.dtype, t.data) as Float32Array | Float64Array;
    const isWeight = weights.has(t.id);
    let nan = 0;
    let infinite = 0;
    for (let i = 0; i < v.length; i++) {
      const x = v[i]!;
      if (x !== x) nan++;
      else if (isWeight && (x === Infinity || x === -Infinity)) infinite++;
    }
    if (nan + infinite > 0) found.push({ tensor: t.name, nan, infinite, size: v.length });
  }
  return found;
}

/**
 * Refuses a model whose weights are not finite: such a model computes NaN whatever the input, and quantization
 * would later blame the calibration data. Names the tensors and how many values of each are NaN or infinite.
 */
export function checkFiniteWeights(g: Graph): void {
  const bad = nonFiniteWeights(g);
  if (bad.length === 0) return;
  const describe = (w: NonFiniteWeight): string =>
    `${w.tensor} (${[w.nan ? `${w.nan} NaN` : '', w.infinite ? `${w.infinite} infinite` : ''].filter(Boolean).join(', ')} of ${w.size} values)`;
  const total = bad.reduce((a, w) => a + w.nan + w.infinite, 0);
  throw new KilnError(
    'E_BAD_ARGUMENT',
    `the model's weights are not finite: ${total} NaN/infinite value(s) in ${bad.length} tensor(s): ${bad
      .slice(0, 5)
      .map(describe)
      .join('; ')}${bad.length > 5 ? `; +${bad.length - 5} more` : ''}`,
    {
      hint: 'The model file is damaged or training diverged; export the weights from a checkpoint whose values are finite',
      details: { nonFiniteWeights: bad },
    },
  );
}
