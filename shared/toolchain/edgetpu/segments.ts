import { KilnError } from '../../common/errors.js';
import { Graph } from '../ir/graph.js';
import { IrModel } from '../ir/model.js';
import { rawParamBytes } from './memory.js';

/**
 * `-n` pipelining (docs/specs/edgetpu-compiler.md §4.6), libcoral's parameter_count_based_partitioner: ops in topological order; an op's size is
 * the sum of its constant input buffers; target = floor(total / N) + 1; segments 0..N−2 are filled greedily and cut
 * just before they would exceed the target, each ending no later than (first op with no consumer) − (segments left);
 * the last segment takes the rest. Returns op ids per segment.
 */
export function splitByParameters(g: Graph, numSegments: number): number[][] {
  if (!Number.isInteger(numSegments) || numSegments < 2) {
    throw new KilnError('E_BAD_ARGUMENT', `-n must be an integer > 1, got ${numSegments}`, { hint: 'Use e.g. -n 2' });
  }
  const order = g.topoOrder().map((o) => o.id);
  const sizes = g.ops.map((op) => rawParamBytes(g, op));
  const total = sizes.reduce((a, b) => a + b, 0);
  const average = Math.floor(total / numSegments) + 1;
  const { consumers } = g.index();
  const outDegree = (id: number) => g.ops[id]!.outputs.reduce((s, t) => s + (t >= 0 ? consumers[t]!.length : 0), 0);
  let firstOutput = 0;
  while (firstOutput < order.length && outDegree(order[firstOutput]!) !== 0) firstOutput++;
  const counts = new Array<number>(numSegments).fill(0);
  const segSize = new Array<number>(numSegments).fill(0);
  let i = 0;
  for (let s = 0; s < numSegments - 1; s++) {
    const maxEnd = firstOutput - (numSegments - s - 1);
    while (i <= maxEnd) {
      const cur = sizes[order[i]!]!;
      if (segSize[s]! + cur > average) break;
      segSize[s]! += cur;
      counts[s]!++;
      i++;
    }
  }
  counts[numSegments - 1] = order.length - i;
  if (counts.some((c) => c <= 0)) {
    throw new KilnError(
      'E_BAD_ARGUMENT',
      `cannot split the model into ${numSegments} segments: a segment would be empty`,
      {
        hint: 'Use fewer segments (-n), the model has too few ops or parameters before its first output',
      },
    );
  }
  const out: number[][] = [];
  let k = 0;
  for (const c of counts) {
    out.push(order.slice(k, k + c));
    k += c;
  }
  return out;
}

/**
 * The sub-model made of the given ops: inputs are the non-constant tensors it consumes but does not produce, outputs
 * the tensors it produces that the rest of the model (or the model's outputs) needs. `origin[i]` is the original op id.
 */
export function extractSegment(g: Graph, opIds: readonly number[]): { model: IrModel; origin: number[] } {
  const inside = new Set(opIds);
  const produced = new Set<number>();
  for (const id of opIds) for (const t of g.ops[id]!.outputs) if (t >= 0) produced.add(t);
  const { consumers } = g.index();
  const sg = new Graph();
  sg.name = g.name;
  const remap = new Map<number, number>();
  const mapT = (t: number): number => {
    if (t < 0) return t;
    let n = remap.get(t);
    if (n === undefined) {
      const { id: _id, ...spec } = g.tensor(t);
      n = sg.addTensor(spec).id;
      remap.set(t, n);
    }
    return n;
  };
  const inputs: number[] = [];
  for (const id of opIds) {
    for (const t of g.ops[id]!.inputs) {
      if (t >= 0 && !g.isConstant(t) && !produced.has(t) && !inputs.includes(t)) inputs.push(t);
    }
  }
  sg.inputs = inputs.map(mapT);
  for (const id of opIds) {
    const { id: _id, ...spec } = g.ops[id]!;
    sg.addOp({ ...spec, inputs: spec.inputs.map(mapT), outputs: spec.outputs.map(mapT) });
  }
  const outputs: number[] = [];
  for (const t of produced) {
    if (g.outputs.includes(t) || consumers[t]!.some((c) => !inside.has(c))) outputs.push(t);
  }
  sg.outputs = outputs.map(mapT);
  return { model: new IrModel([sg], 'Kiln segment'), origin: [...opIds] };
}
