import type { Graph } from '../../ir/graph.js';
import { ActivationFunctionType } from '../../tflite/schema.js';
import { consumers, isDead, kill, singleUse } from './util.js';

const FUSABLE = new Set(['CONV_2D', 'DEPTHWISE_CONV_2D', 'FULLY_CONNECTED', 'ADD', 'SUB', 'MUL', 'DIV']);
const ACT: Record<string, ActivationFunctionType> = {
  RELU: ActivationFunctionType.RELU,
  RELU6: ActivationFunctionType.RELU6,
  RELU_N1_TO_1: ActivationFunctionType.RELU_N1_TO_1,
};

/** RELU / RELU6 / RELU_N1_TO_1 after a conv, fully-connected or element-wise op become its fused activation. */
export function fuseActivations(g: Graph): number {
  let n = 0;
  for (const op of g.ops) {
    const act = ACT[op.type];
    if (isDead(op) || act === undefined) continue;
    const x = op.inputs[0]!;
    const p = g.index().producer[x]!;
    if (p < 0) continue;
    const prod = g.ops[p]!;
    const opts = prod.options as { fusedActivationFunction?: number } | null;
    if (!FUSABLE.has(prod.type) || !opts || (opts.fusedActivationFunction ?? 0) !== 0) continue;
    if (g.tensor(x).dtype !== 'float32' || !singleUse(g, consumers(g), x)) continue;
    opts.fusedActivationFunction = act;
    prod.outputs[0] = op.outputs[0]!;
    kill(op);
    n++;
  }
  return n;
}
