import type { Graph } from '../ir/graph.js';
import type { Op, Tensor } from '../ir/types.js';
import { typedView } from '../ir/dtype.js';

/** What a per-op check sees: the graph, the op, the effective `-m`, and a human name for the layer. */
export interface OpContext {
  g: Graph;
  op: Op;
  minRuntime: number;
  /** The layer's name for messages: its first output tensor's name. */
  layer: string;
}

export function opContext(g: Graph, op: Op, minRuntime: number): OpContext {
  const out = op.outputs.find((t) => t >= 0);
  const layer = out !== undefined ? g.tensor(out).name || `tensor ${out}` : `op ${op.id}`;
  return { g, op, minRuntime, layer };
}

/** Input tensor at position i, or undefined when absent. */
export function inputAt(ctx: OpContext, i: number): Tensor | undefined {
  const id = ctx.op.inputs[i];
  return id !== undefined && id >= 0 ? ctx.g.tensor(id) : undefined;
}

export function outputAt(ctx: OpContext, i: number): Tensor | undefined {
  const id = ctx.op.outputs[i];
  return id !== undefined && id >= 0 ? ctx.g.tensor(id) : undefined;
}

/** Integer values of a constant int32/int64 tensor, or null when it is not constant. */
export function constInts(t: Tensor | undefined): number[] | null {
  if (!t || !t.data) return null;
  if (t.dtype === 'int32') return Array.from(typedView('int32', t.data) as Int32Array);
  if (t.dtype === 'int64') return Array.from(typedView('int64', t.data) as BigInt64Array, (v) => Number(v));
  return null;
}

/** Options field of the op (flatc object API, camelCase), or undefined. */
export function opt<T = number>(ctx: OpContext, field: string): T | undefined {
  const o = ctx.op.options as Record<string, unknown> | null;
  return o ? (o[field] as T | undefined) : undefined;
}

/** Number of dimensions with extent > 1 (docs/specs/edgetpu-compiler.md §3 "Dimension counting": extent-1 dimensions do not count). */
export function activeDims(shape: readonly number[]): number {
  return shape.filter((d) => d > 1).length;
}

/** The batch dimension exists only for 4-D tensors; it "counts" only when its extent is > 1. */
export function batchExtent(shape: readonly number[]): number {
  return shape.length === 4 ? shape[0]! : 1;
}

export { normAxis } from '../ir/axis.js';
