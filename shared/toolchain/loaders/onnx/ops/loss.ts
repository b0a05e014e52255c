/**
 * ONNX losses built from TFLite builtins: NegativeLogLikelihoodLoss and SoftmaxCrossEntropyLoss.
 *
 * The input [N, C, d1, …] is viewed as [N, D, C] (D = d1·d2·…, classes last), the target [N, d1, …] as [N, D]. The
 * class each target picks is a ONE_HOT row (an out-of-range target, such as a negative ignore_index, is an all-zero
 * row); the per-class weight, with ignore_index's class zeroed, multiplies that row. The loss is −Σ_c x·w·onehot;
 * `mean` divides the sum by Σ w·onehot (the weight of the targets not ignored), as ONNX's definition does.
 */

import type { DType } from '../../../ir/dtype.js';
import { numElements } from '../../../ir/graph.js';
import { tensorVal, transpose, type OnnxCtx, type Value } from '../context.js';
import { F32, floatOnly } from './common.js';

type Reduction = 'none' | 'sum' | 'mean';

/** One op with a named, explicitly shaped output. */
function emit(
  c: OnnxCtx,
  type: string,
  inputs: number[],
  fields: Record<string, unknown>,
  name: string,
  shape: number[],
  dtype: DType = F32,
): number {
  return c.b.op(type, inputs, fields, { outputs: [{ name, shape, dtype }] })[0]!;
}

const sum = (c: OnnxCtx, x: number, axes: number[], name: string, shape: number[]): number =>
  emit(c, 'SUM', [x, c.b.constant(`${name}/axes`, 'int32', [axes.length], axes)], { keepDims: false }, name, shape);

interface LossShape {
  n: number;
  classes: number;
  /** d1, d2, … */
  rest: number[];
  d: number;
}

function lossShape(c: OnnxCtx): LossShape {
  const s = c.shape(0);
  if (s.length < 2) throw c.refuse(`an input of rank ${s.length} (expects [N, C, d1, …])`);
  const [n, classes] = s as [number, number];
  const rest = s.slice(2);
  const ts = c.shape(1);
  if (ts.length !== s.length - 1 || ts[0] !== n || ts.slice(1).some((v, i) => v !== rest[i]))
    throw c.refuse(`a target of shape [${ts.join(', ')}] for an input of shape [${s.join(', ')}]`);
  if (c.dtype(1) !== 'int64' && c.dtype(1) !== 'int32') throw c.refuse(`${c.dtype(1)} targets`);
  if (c.has(2) && (c.shape(2).length !== 1 || c.shape(2)[0] !== classes))
    throw c.refuse(`a weight of shape [${c.shape(2).join(', ')}] for ${classes} classes`);
  return { n, classes, rest, d: numElements(rest) };
}

function reduction(c: OnnxCtx): Reduction {
  const r = c.attr.s('reduction', 'mean');
  if (r !== 'none' && r !== 'sum' && r !== 'mean') throw c.refuse(`reduction "${r}"`);
  return r;
}

/** Input 0 ([N, C, d1, …], ONNX layout) as [N, D, C]. */
function classesLast(c: OnnxCtx, ls: LossShape): number {
  const x = c.tensor(0, null);
  const { n, classes, d } = ls;
  if (d === 1) return c.b.reshape(x, [n, 1, classes], { name: `${c.name}/ndc` });
  const ncd = c.b.reshape(x, [n, classes, d], { name: `${c.name}/ncd` });
  return transpose(c.b, ncd, [0, 2, 1], `${c.name}/ndc`);
}

/** The loss of log-probabilities `lp` ([N, D, C]) against input 1's targets, weighted by input 2, reduced. */
function nll(c: OnnxCtx, lp: number, ls: LossShape, out: string): number {
  const { n, classes, rest, d } = ls;
  const red = reduction(c);
  const ndc = [n, d, classes];
  const target = c.b.reshape(c.tensor(1, null), [n, d], { name: `${c.name}/target` });
  const onehot = emit(
    c,
    'ONE_HOT',
    [
      target,
      c.b.constant(`${c.name}/depth`, 'int32', [], [classes]),
      c.b.constant(`${c.name}/on`, F32, [], [1]),
      c.b.constant(`${c.name}/off`, F32, [], [0]),
    ],
    { axis: -1 },
    `${c.name}/onehot`,
    ndc,
  );
  const ii = c.attr.i('ignore_index');
  // per-class weight with the ignored class zeroed (an ignore_index outside [0, C) selects no ONE_HOT column)
  let w: number | undefined = c.has(2) ? c.tensor(2, null) : undefined;
  if (ii !== undefined) {
    const keep = Array.from({ length: classes }, (_v, k) => (k === ii ? 0 : 1));
    const mask = c.b.constant(`${c.name}/not_ignored`, F32, [classes], keep);
    w =
      w === undefined ? mask : emit(c, 'MUL', [w, mask], { fusedActivationFunction: 0 }, `${c.name}/weight`, [classes]);
  }
  const picks =
    w === undefined
      ? onehot
      : emit(c, 'MUL', [onehot, w], { fusedActivationFunction: 0 }, `${c.name}/weighted_onehot`, ndc);
  const prod = emit(c, 'MUL', [lp, picks], { fusedActivationFunction: 0 }, `${c.name}/picked_all`, ndc);
  const picked = sum(c, prod, [2], `${c.name}/picked`, [n, d]);
  if (red === 'none') {
    const neg = emit(c, 'NEG', [picked], {}, `${c.name}/loss`, [n, d]);
    return c.b.reshape(neg, [n, ...rest], { name: out });
  }
  const total = sum(c, picked, [0, 1], `${c.name}/total`, []);
  if (red === 'sum') return emit(c, 'NEG', [total], {}, out, []);
  const negTotal = emit(c, 'NEG', [total], {}, `${c.name}/neg_total`, []);
  const count =
    w === undefined
      ? c.b.constant(`${c.name}/count`, F32, [], [n * d])
      : sum(c, picks, [0, 1, 2], `${c.name}/weight_sum`, []);
  return emit(c, 'DIV', [negTotal, count], { fusedActivationFunction: 0 }, out, []);
}

export function negativeLogLikelihoodLoss(c: OnnxCtx): Value[] {
  floatOnly(c);
  const ls = lossShape(c);
  return [tensorVal(nll(c, classesLast(c, ls), ls, c.out()))];
}

/** SoftmaxCrossEntropyLoss: LOG_SOFTMAX over the classes, then the NLL loss; output 1 is the log-probabilities. */
export function softmaxCrossEntropyLoss(c: OnnxCtx): Value[] {
  floatOnly(c);
  const ls = lossShape(c);
  const { n, classes, d } = ls;
  const lp = emit(c, 'LOG_SOFTMAX', [classesLast(c, ls)], {}, `${c.name}/log_prob_ndc`, [n, d, classes]);
  const loss = tensorVal(nll(c, lp, ls, c.out()));
  if (!c.node.output[1]) return [loss];
  const s = c.shape(0);
  const ncd = d === 1 ? lp : transpose(c.b, lp, [0, 2, 1], `${c.name}/log_prob_ncd`);
  return [loss, tensorVal(c.b.reshape(ncd, s, { name: c.out(1) }))];
}
