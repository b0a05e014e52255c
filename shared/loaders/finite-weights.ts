import { KilnError } from '../errors.js';
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

/** Float constants (weights, biases, folded parameters) holding NaN or ±Infinity, in tensor order. Pure. */
export function nonFiniteWeights(g: Graph): NonFiniteWeight[] {
  const found: NonFiniteWeight[] = [];
  for (const t of g.tensors) {
    if (!FLOAT_CONSTANTS.has(t.dtype) || !g.isConstant(t.id) || !t.data) continue;
    const v = typedView(t.dtype, t.data) as Float32Array | Float64Array;
    let nan = 0;
    let infinite = 0;
    for (let i = 0; i < v.length; i++) {
      const x = v[i]!;
      if (x !== x) nan++;
      else if (x === Infinity || x === -Infinity) infinite++;
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
