import { numElements, type Graph } from '../../ir/graph.js';
import type { Op } from '../../ir/types.js';
import { addConst, constValues, consumers, isDead, kill, singleUse } from './util.js';

const LINEAR = new Set(['CONV_2D', 'DEPTHWISE_CONV_2D', 'FULLY_CONNECTED']);

/** Per-output-channel values of a MUL/ADD/SUB operand, or undefined when it is not a channel vector (or scalar). */
function channelVector(g: Graph, id: number, channels: number, rank: number): Float32Array | undefined {
  const v = constValues(g, id);
  const t = g.tensor(id);
  if (!v || t.dtype !== 'float32') return undefined;
  const n = numElements(t.shape);
  if (n === 1) return new Float32Array(channels).fill(Number(v[0]));
  if (n !== channels || t.shape[t.shape.length - 1] !== channels || t.shape.length > rank) return undefined;
  return Float32Array.from(v as Float32Array);
}

function activationOf(op: Op): number {
  return ((op.options as Record<string, unknown> | null)?.['fusedActivationFunction'] as number | undefined) ?? 0;
}

/**
 * Folds per-channel MUL / ADD / SUB by constants into the preceding CONV_2D, DEPTHWISE_CONV_2D or FULLY_CONNECTED
 * (scaling its weights and bias along the output channel, or shifting its bias): batch normalization after a
 * convolution, and a separate bias add, disappear. Only when the linear op has no fused activation and its result has
 * no other use.
 */
export function foldAffine(g: Graph): number {
  let n = 0;
  for (const op of g.ops) {
    if (isDead(op) || !['MUL', 'ADD', 'SUB'].includes(op.type) || activationOf(op) !== 0) continue;
    const cons = consumers(g);
    const prod = g.index().producer;
    for (const side of op.type === 'SUB' ? [0] : [0, 1]) {
      const x = op.inputs[side]!;
      const c = op.inputs[1 - side]!;
      const p = prod[x]!;
      if (p < 0 || !g.isConstant(c)) continue;
      const lin = g.ops[p]!;
      if (!LINEAR.has(lin.type) || activationOf(lin) !== 0 || !singleUse(g, cons, x)) continue;
      const w = lin.inputs[1]!;
      if (!g.isConstant(w) || g.tensor(w).dtype !== 'float32') continue;
      const wt = g.tensor(w);
      const channels = lin.type === 'DEPTHWISE_CONV_2D' ? wt.shape[3]! : wt.shape[0]!;
      const outShape = g.tensor(x).shape;
      if (outShape[outShape.length - 1] !== channels) continue;
      const vec = channelVector(g, c, channels, outShape.length);
      if (!vec) continue;
      const bId = lin.inputs[2] ?? -1;
      const bias = bId >= 0 ? Float32Array.from(constValues(g, bId) as Float32Array) : new Float32Array(channels);
      if (bId >= 0 && (!g.isConstant(bId) || bias.length !== channels)) continue;
      if (op.type === 'MUL') {
        const weights = Float32Array.from(constValues(g, w) as Float32Array);
        const per = weights.length / channels;
        for (let i = 0; i < weights.length; i++) {
          const ch = lin.type === 'DEPTHWISE_CONV_2D' ? i % channels : Math.floor(i / per);
          weights[i] = weights[i]! * vec[ch]!;
        }
        for (let ch = 0; ch < channels; ch++) bias[ch] = bias[ch]! * vec[ch]!;
        lin.inputs[1] = addConst(g, wt.name, { dtype: 'float32' }, wt.shape, weights);
      } else {
        const sign = op.type === 'SUB' ? -1 : 1;
        for (let ch = 0; ch < channels; ch++) bias[ch] = bias[ch]! + sign * vec[ch]!;
      }
      lin.inputs[2] = addConst(
        g,
        bId >= 0 ? g.tensor(bId).name : `${g.tensor(x).name}/bias`,
        { dtype: 'float32' },
        [channels],
        bias,
      );
      lin.outputs[0] = op.outputs[0]!;
      kill(op);
      n++;
      break;
    }
  }
  return n;
}
