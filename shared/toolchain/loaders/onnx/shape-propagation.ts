/**
 * Static shapes of intermediate values, learnt from the shapes the model fixes (graph inputs, initializers, Constant
 * nodes, value_info and graph outputs) through the nodes that keep shapes: an element-wise op's output has its
 * input's shape, and a broadcasting op whose other operands are scalars has the shape of the one that is not. Values
 * found to have the same shape form one class (union-find); a class takes the fixed shape any member has, so a
 * shape the model declares for an output reaches back to the node that computes its length at run time (a Range
 * whose bounds are inputs, feeding a chain of element-wise math to a declared [10] output). Pure: names in, shapes
 * out; a class whose members disagree gets no shape.
 */

import { broadcastShapes } from '../../ir/shape-inference.js';
import type { OnnxAttr, OnnxNode } from './types.js';

/** Ops whose output 0 has the shape of input 0 (element-wise, or broadcasting the other inputs onto input 0). */
const SAME_SHAPE = new Set([
  'Abs',
  'Acos',
  'Acosh',
  'Asin',
  'Asinh',
  'Atan',
  'Atanh',
  'BitwiseNot',
  'Cast',
  'CastLike',
  'Ceil',
  'Celu',
  'Clip',
  'Cos',
  'Cosh',
  'Dropout',
  'Elu',
  'Erf',
  'Exp',
  'Floor',
  'Gelu',
  'HardSigmoid',
  'HardSwish',
  'Identity',
  'IsInf',
  'IsNaN',
  'LeakyRelu',
  'Log',
  'Mish',
  'Neg',
  'Not',
  'PRelu',
  'Reciprocal',
  'Relu',
  'Round',
  'Selu',
  'Shrink',
  'Sigmoid',
  'Sign',
  'Sin',
  'Sinh',
  'Softplus',
  'Softsign',
  'Sqrt',
  'Tan',
  'Tanh',
  'ThresholdedRelu',
]);

/** Ops whose output 0 is all inputs broadcast together (numpy rules). */
const BROADCAST = new Set([
  'Add',
  'And',
  'BitShift',
  'BitwiseAnd',
  'BitwiseOr',
  'BitwiseXor',
  'Div',
  'Equal',
  'Greater',
  'GreaterOrEqual',
  'Less',
  'LessOrEqual',
  'Max',
  'Mean',
  'Min',
  'Mod',
  'Mul',
  'Or',
  'Pow',
  'Sub',
  'Sum',
  'Where',
  'Xor',
]);

/** The numpy broadcast of `shapes`, or undefined when they do not broadcast. */
function broadcastAll(shapes: readonly (readonly number[])[]): number[] | undefined {
  try {
    return shapes.reduce<number[]>((out, sh) => broadcastShapes(out, sh), []);
  } catch {
    return undefined;
  }
}

/** The shape of a Constant node's output, from whichever value attribute it has. */
export function constantShape(attrs: readonly OnnxAttr[]): number[] | undefined {
  const a = attrs[0];
  if (!a || attrs.length !== 1) return undefined;
  switch (a.name) {
    case 'value':
      return a.t ? a.t.dims.map(Number) : undefined;
    case 'value_float':
    case 'value_int':
    case 'value_string':
      return [];
    case 'value_floats':
      return [a.floats.length];
    case 'value_ints':
      return [a.ints.length];
    case 'value_strings':
      return [a.strings.length];
    default:
      return undefined;
  }
}

const CONFLICT = 'conflict';
type Known = number[] | typeof CONFLICT;

class ShapeClasses {
  private readonly parent = new Map<string, string>();
  private readonly shape = new Map<string, Known>();
  private readonly size = new Map<string, number>();
  changed = false;

  root(v: string): string {
    let r = v;
    for (let p = this.parent.get(r); p !== undefined && p !== r; p = this.parent.get(r)) r = p;
    // path compression: every name on the way points at the root
    for (let x = v; x !== r;) {
      const next = this.parent.get(x)!;
      this.parent.set(x, r);
      x = next;
    }
    return r;
  }
  get(v: string): number[] | undefined {
    const s = this.shape.get(this.root(v));
    return s === CONFLICT ? undefined : s;
  }
  set(v: string, s: Known): void {
    const r = this.root(v);
    const cur = this.shape.get(r);
    if (cur === CONFLICT) return;
    const next = cur === undefined ? s : s !== CONFLICT && cur.join() === s.join() ? cur : CONFLICT;
    if (next !== cur) {
      this.shape.set(r, next);
      this.changed = true;
    }
  }
  same(a: string, b: string): void {
    let ra = this.root(a);
    let rb = this.root(b);
    if (ra === rb) return;
    // union by size keeps the trees shallow
    const na = this.size.get(ra) ?? 1;
    const nb = this.size.get(rb) ?? 1;
    if (na < nb) [ra, rb] = [rb, ra];
    this.parent.set(rb, ra);
    this.size.set(ra, na + nb);
    this.changed = true;
    const sb = this.shape.get(rb);
    if (sb !== undefined) this.set(ra, sb);
  }
  names(): string[] {
    return [...new Set([...this.parent.keys(), ...this.shape.keys()])];
  }
}

/** One pass over a node: what its inputs and outputs say about each other's shapes. */
function visit(n: OnnxNode, cls: ShapeClasses): void {
  const out = n.output[0];
  if (!out || (n.domain && n.domain !== 'ai.onnx')) return;
  const ins = n.input.filter((x) => x !== '');
  if (n.opType === 'Constant') {
    const s = constantShape(n.attribute);
    if (s) cls.set(out, s);
    return;
  }
  // before opset 7, `broadcast=1` aligns operands by axis, not by numpy rules
  if (n.attribute.some((a) => a.name === 'broadcast')) return;
  if (SAME_SHAPE.has(n.opType) && ins[0] !== undefined) {
    cls.same(out, ins[0]);
    return;
  }
  if (!BROADCAST.has(n.opType) || ins.length === 0) return;
  const shapes = ins.map((x) => cls.get(x));
  if (shapes.every((s) => s !== undefined)) {
    const s = broadcastAll(shapes as number[][]);
    if (s) cls.set(out, s);
    return;
  }
  // scalars take no part in the result's shape; the other operands, all of one class, give it
  const rest = ins.filter((_x, k) => shapes[k]?.length !== 0);
  const roots = new Set(rest.map((x) => cls.root(x)));
  if (roots.size === 1) cls.same(out, rest[0]!);
}

/**
 * Every value's static shape that follows from `fixed` (name → shape the model fixes) through `nodes`: the map
 * holds `fixed` and the shapes learnt, for the values whose class agrees on one shape.
 */
export function propagateStaticShapes(
  nodes: readonly OnnxNode[],
  fixed: ReadonlyMap<string, readonly number[]>,
): Map<string, number[]> {
  const cls = new ShapeClasses();
  for (const [name, s] of fixed) cls.set(name, [...s]);
  // each pass learns at least one merge or shape, or ends; a class learns its shape once
  for (let pass = 0; pass <= nodes.length; pass++) {
    cls.changed = false;
    for (const n of nodes) visit(n, cls);
    if (!cls.changed) break;
  }
  const res = new Map<string, number[]>();
  for (const name of cls.names()) {
    const s = cls.get(name);
    if (s) res.set(name, s);
  }
  return res;
}
