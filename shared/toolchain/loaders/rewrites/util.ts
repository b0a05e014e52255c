import { bytesOf, typedView, type AnyTypedArray } from '../../ir/dtype.js';
import type { Graph } from '../../ir/graph.js';
import type { Op } from '../../ir/types.js';

/** Helpers the rewrite passes share. Passes mutate the graph in place and leave dead ops for `Graph.compact()`. */

export function consumers(g: Graph): number[][] {
  return g.index().consumers;
}

export function producers(g: Graph): Int32Array {
  return g.index().producer;
}

/** Every use of tensor `from` (op inputs and graph outputs) now reads `to`. */
export function replaceUses(g: Graph, from: number, to: number): void {
  for (const op of g.ops) op.inputs = op.inputs.map((t) => (t === from ? to : t));
  g.outputs = g.outputs.map((t) => (t === from ? to : t));
}

/** Detaches an op so compaction drops it. */
export function kill(op: Op): void {
  op.inputs = [];
  op.outputs = [];
}

export const isDead = (op: Op): boolean => op.outputs.length === 0;

export function constValues(g: Graph, id: number): AnyTypedArray | undefined {
  if (id < 0 || !g.isConstant(id)) return undefined;
  const t = g.tensor(id);
  return typedView(t.dtype, t.data!);
}

/** A fresh constant tensor (never mutate one that other ops may share). */
export function addConst(
  g: Graph,
  name: string,
  like: { dtype: 'float32' | 'int32' },
  shape: number[],
  values: Float32Array | Int32Array,
): number {
  return g.addTensor({ name, dtype: like.dtype, shape, data: bytesOf(values).slice() }).id;
}

export function singleUse(g: Graph, cons: number[][], t: number): boolean {
  return cons[t]!.length === 1 && !g.outputs.includes(t);
}
