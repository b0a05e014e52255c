import { OPS } from '../ops/catalog.js';

/**
 * The fewest inputs (all present, not −1) and outputs each builtin operator needs, per TFLite's kernels (the op
 * catalog's `arity`). Ops without one need one input and one output; CUSTOM ops are checked by their own kernels.
 * Checked once when a model is read, so that no stage meets an operator without the operands its kind always has.
 */
export const OP_ARITY: Readonly<Record<string, readonly [minInputs: number, minOutputs: number]>> = Object.fromEntries(
  Object.entries(OPS).flatMap(([op, spec]) => (spec.arity ? [[op, spec.arity]] : [])),
);

export function arityOf(type: string): readonly [number, number] {
  return OP_ARITY[type] ?? [1, 1];
}
