/**
 * Pad modes TFLite has no kernel for (edge, wrap), by amounts computed at run time: the output shape is the one the
 * model declares, and each axis becomes one GATHER of the input by source indices computed in the graph from the pads
 * before (pb) and after (pe) it (int32), for o = 0 … m − 1 a constant position vector (m the declared output length,
 * n the input's). Edge clamps o − pb into [0, n − 1]. Wrap, as onnxruntime does, first crops by negative pads
 * (lo = max(−pb, 0) from the start, max(−pe, 0) from the end, leaving L) and repeats what remains:
 * lo + (o − max(pb, 0)) mod L; edge needs no such care, as clamping after cropping is clamping. An axis whose input
 * and output are both of length 1 maps to itself whatever the pads; every other axis is gathered, as pads of (p, −p)
 * shift it without changing its length.
 */

import { normAxis } from '../../../ir/axis.js';
import { tensorVal, type OnnxCtx, type Value } from '../context.js';
import { applyPerm } from '../layout.js';
import { castTo, typedOp as op } from './common.js';

const I32 = 'int32';

export const GATHER_PAD_MODES = ['edge', 'wrap'];

/**
 * The int32 [m] source indices of `mode` along an axis of length n, from the run-time pads before and after it
 * (`amount` emits either as a [1] tensor).
 */
function indexInGraph(
  c: OnnxCtx,
  mode: string,
  amount: (side: 'begin' | 'end') => number,
  m: number,
  n: number,
  tag: string,
): number {
  const k = (v: number, what: string): number => c.b.constant(`${tag}/${what}`, I32, [], [v]);
  const int = (type: string, ins: number[], shape: number[], what: string): number =>
    op(
      c,
      type,
      ins,
      shape,
      I32,
      `${tag}/${what}`,
      type === 'ADD' || type === 'SUB' ? { fusedActivationFunction: 0 } : {},
    );
  const positions = c.b.constant(
    `${tag}/positions`,
    I32,
    [m],
    Array.from({ length: m }, (_v, o) => o),
  );
  const pb = amount('begin');
  if (mode === 'edge') {
    const shifted = int('SUB', [positions, pb], [m], 'shifted');
    return int('MINIMUM', [int('MAXIMUM', [shifted, k(0, 'zero')], [m], 'at_least_0'), k(n - 1, 'last')], [m], 'index');
  }
  // wrap, as onnxruntime pads: negative pads crop first, the rest repeats what remains (lo … n − 1 − cropped end)
  const cropped = (v: number, what: string): number =>
    int('MAXIMUM', [int('SUB', [k(0, `${what}_zero`), v], [1], `${what}_neg`), k(0, `${what}_floor`)], [1], what);
  const lo = cropped(pb, 'crop_begin');
  const kept = int(
    'SUB',
    [int('SUB', [k(n, 'n'), lo], [1], 'after_begin'), cropped(amount('end'), 'crop_end')],
    [1],
    'kept',
  );
  const begin = int('MAXIMUM', [pb, k(0, 'begin_floor')], [1], 'pad_before');
  const wrapped = int('FLOOR_MOD', [int('SUB', [positions, begin], [m], 'shifted'), kept], [m], 'wrapped');
  return int('ADD', [wrapped, lo], [m], 'index');
}

/** Edge or wrap Pad whose pads (input 1) come at run time; the axes (input 3, opset 18) must be constants. */
export function runtimeGatherPad(c: OnnxCtx, mode: string): Value[] {
  if (!GATHER_PAD_MODES.includes(mode)) throw c.refuse(`${mode} padding by amounts computed at run time`);
  const out = c.declared();
  const inShape = c.shape(0);
  const r = inShape.length;
  if (!out || out.length !== r)
    throw c.refuse(
      'input 1 (pads) is computed at run time and the model declares no output shape',
      'Give the pads as a constant, or declare the output shape',
    );
  const axes = c.opset >= 18 && c.has(3) ? c.ints(3).map((a) => normAxis(a, r)) : inShape.map((_d, i) => i);
  if (c.shape(1)[0] !== 2 * axes.length)
    throw c.refuse(`pads of length ${c.shape(1)[0]} for ${axes.length} axes; ONNX gives a begin and an end per axis`);
  out.forEach((m, a) => {
    if (!axes.includes(a) && m !== inShape[a])
      throw c.refuse(`the declared output shape [${out.join(', ')}] changes axis ${a}, which is not padded`);
  });
  const pads = castTo(c, c.tensor(1, null), I32, `${c.name}/pads32`);
  const p = c.perm(0);
  let x = c.tensor(0, p);
  const dtype = c.b.g.tensor(x).dtype;
  const physOf = (a: number): number => (p ? p.indexOf(a) : a);
  const work = axes.filter((a) => !(inShape[a] === 1 && out[a] === 1));
  if (work.length === 0) return [tensorVal(c.b.reshape(x, applyPerm(out, p), { name: c.out() }), p)];
  let logical = [...inShape];
  work.forEach((a, step) => {
    const tag = `${c.name}/axis${a}`;
    const m = out[a]!;
    const n = inShape[a]!;
    if (n === 0) throw c.refuse(`${mode} padding of the empty axis ${a}`);
    const k = axes.indexOf(a);
    const amount = (side: 'begin' | 'end'): number =>
      op(
        c,
        'SLICE',
        [
          pads,
          c.b.constant(`${tag}/pad_${side}_at`, I32, [1], [side === 'begin' ? k : k + axes.length]),
          c.b.constant(`${tag}/pad_${side}_size`, I32, [1], [1]),
        ],
        [1],
        I32,
        `${tag}/pad_${side}`,
      );
    const idx = indexInGraph(c, mode, amount, m, n, tag);
    logical = logical.map((d, i) => (i === a ? m : d));
    const last = step === work.length - 1;
    x = op(c, 'GATHER', [x, idx], applyPerm(logical, p), dtype, last ? c.out() : `${tag}/padded`, {
      axis: physOf(a),
      batchDims: 0,
    });
  });
  return [tensorVal(x, p)];
}
