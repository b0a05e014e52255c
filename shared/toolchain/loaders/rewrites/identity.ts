import type { Graph } from '../../ir/graph.js';
import { consumers, isDead, kill, replaceUses } from './util.js';

const sameShape = (a: number[], b: number[]): boolean => a.length === b.length && a.every((d, i) => d === b[i]);

/**
 * Removes ops that compute nothing: RESHAPE to the same shape, and RESHAPE of a RESHAPE (collapsed to one). A graph
 * output keeps its name: the surviving tensor takes it.
 */
export function removeIdentities(g: Graph): number {
  let n = 0;
  for (const op of g.ops) {
    if (isDead(op) || op.type !== 'RESHAPE') continue;
    const src = op.inputs[0]!;
    const out = op.outputs[0]!;
    const cons = consumers(g);
    const prod = g.index().producer;
    const p = prod[src]!;
    // RESHAPE(RESHAPE(x)) → RESHAPE(x)
    if (p >= 0 && g.ops[p]!.type === 'RESHAPE' && cons[src]!.length === 1 && !g.outputs.includes(src)) {
      op.inputs[0] = g.ops[p]!.inputs[0]!;
      kill(g.ops[p]!);
      n++;
    }
    const x = op.inputs[0]!;
    if (!sameShape(g.tensor(x).shape, g.tensor(out).shape)) continue;
    const isOut = g.outputs.includes(out);
    if (isOut && (g.inputs.includes(x) || g.isConstant(x) || g.outputs.includes(x))) continue;
    if (isOut) g.tensor(x).name = g.tensor(out).name;
    replaceUses(g, out, x);
    kill(op);
    n++;
  }
  return n;
}
