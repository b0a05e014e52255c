import { KilnError } from '../../../common/errors.js';
import type { ModelBuilder } from '../../ir/builder.js';
import type { DType } from '../../ir/dtype.js';
import {
  applyPerm,
  emitConst,
  inversePerm,
  isIdentity,
  norm,
  onlyMovesUnitDims,
  permuteValues,
  unapplyPerm,
  type Perm,
} from './layout.js';
import { constOf, tensorFromOnnx, type ConstVal } from './tensor.js';
import type { OnnxAttr, OnnxNode } from './types.js';

/** A value of the ONNX graph during conversion: a constant Kiln computes with, or an IR tensor in some layout. */
export type Value = { kind: 'const'; c: ConstVal } | { kind: 'tensor'; id: number; perm: Perm };

export class Attrs {
  private readonly m = new Map<string, OnnxAttr>();
  constructor(
    private readonly node: OnnxNode,
    private readonly what: string,
  ) {
    for (const a of node.attribute) this.m.set(a.name, a);
  }
  has(k: string): boolean {
    return this.m.has(k);
  }
  i(k: string, d: number): number;
  i(k: string): number | undefined;
  i(k: string, d?: number): number | undefined {
    const a = this.m.get(k);
    return a?.i !== undefined ? Number(a.i) : a ? 0 : d;
  }
  f(k: string, d: number): number {
    const a = this.m.get(k);
    return a ? (a.f ?? 0) : d;
  }
  s(k: string, d: string): string {
    const a = this.m.get(k);
    return a?.s ? new TextDecoder().decode(a.s) : a ? '' : d;
  }
  ints(k: string): number[] | undefined {
    const a = this.m.get(k);
    return a ? a.ints.map(Number) : undefined;
  }
  floats(k: string): number[] | undefined {
    const a = this.m.get(k);
    return a ? a.floats.map(Number) : undefined;
  }
  strings(k: string): string[] | undefined {
    const a = this.m.get(k);
    return a ? a.strings.map((s) => new TextDecoder().decode(s)) : undefined;
  }
  tensor(k: string): ConstVal | undefined {
    const a = this.m.get(k);
    return a?.t
      ? constOf(tensorFromOnnx(a.t, `${this.what} attribute ${k}`), `${this.what} attribute ${k}`)
      : undefined;
  }
  names(): string[] {
    return [...this.m.keys()];
  }
  get nodeName(): string {
    return this.node.name ?? '';
  }
}

/** What an op converter sees. */
export interface OnnxCtx {
  b: ModelBuilder;
  node: OnnxNode;
  /** Node name for messages and tensor names (the first output's name when the node has none). */
  name: string;
  opset: number;
  attr: Attrs;
  /** Number of inputs (omitted optional inputs included). */
  n: number;
  has(i: number): boolean;
  value(i: number): Value;
  isConst(i: number): boolean;
  /** Constant input i; refused, naming the node, when it is computed at run time. */
  const(i: number): ConstVal;
  ints(i: number): number[];
  /** Logical (ONNX) shape, dtype and layout of input i. */
  shape(i: number): number[];
  rank(i: number): number;
  dtype(i: number): DType;
  perm(i: number): Perm;
  /** Input i as an IR tensor in physical layout `perm` (constants are emitted, tensors transposed when needed). */
  tensor(i: number, perm?: Perm, as?: DType): number;
  /** Any value as an IR tensor in layout `perm`. */
  materialize(v: Value, perm: Perm): number;
  /** Name for output k. */
  out(k?: number): string;
  /** The fixed shape the model declares for output k (graph output or value_info), if it does. */
  declared(k?: number): number[] | undefined;
  refuse(why: string, hint?: string): KilnError;
}

export const tensorVal = (id: number, perm: Perm = null): Value => ({ kind: 'tensor', id, perm: norm(perm) });
export const constVal = (c: ConstVal): Value => ({ kind: 'const', c });

export function logicalShape(b: ModelBuilder, v: Value): number[] {
  return v.kind === 'const' ? v.c.shape : unapplyPerm(b.g.tensor(v.id).shape, v.perm);
}

export function dtypeOf(b: ModelBuilder, v: Value): DType {
  return v.kind === 'const' ? v.c.dtype : b.g.tensor(v.id).dtype;
}

/** Emits (or reuses) the IR tensor holding `v` in layout `target`. */
export class Materializer {
  private readonly cache = new Map<string, number>();
  constructor(private readonly b: ModelBuilder) {}

  tensor(v: Value, target: Perm, name: string, as?: DType): number {
    const b = this.b;
    if (v.kind === 'const') {
      const shape = applyPerm(v.c.shape, target);
      const key = `c|${name}|${target?.join(',')}|${as ?? ''}`;
      const hit = this.cache.get(key);
      if (hit !== undefined) return hit;
      const c = target && !isIdentity(target) ? permutedConst(v.c, target) : v.c;
      const dtype = as ?? (v.c.dtype === 'float64' || v.c.dtype === 'float16' ? 'float32' : v.c.dtype);
      const id = emitConst(b, name, { ...c, shape }, dtype);
      this.cache.set(key, id);
      return id;
    }
    const cur = v.perm;
    const tgt = norm(target);
    let id = v.id;
    if (!(isIdentity(cur) && tgt === null) && !(cur && tgt && cur.join() === tgt.join())) {
      const rank = b.g.tensor(v.id).shape.length;
      const curP = cur ?? Array.from({ length: rank }, (_v, i) => i);
      const tgtP = tgt ?? Array.from({ length: rank }, (_v, i) => i);
      const inv = inversePerm(curP);
      const rel = tgtP.map((x) => inv[x]!);
      const key = `t|${v.id}|${rel.join(',')}`;
      const hit = this.cache.get(key);
      if (hit !== undefined) id = hit;
      else {
        const phys = b.g.tensor(v.id).shape;
        const newShape = rel.map((r) => phys[r]!);
        const tname = `${b.g.tensor(v.id).name}/${tgt ? 'nhwc' : 'onnx_layout'}`;
        id = onlyMovesUnitDims(phys, rel) ? b.reshape(v.id, newShape, { name: tname }) : transpose(b, v.id, rel, tname);
        this.cache.set(key, id);
      }
    }
    if (as && as !== b.g.tensor(id).dtype)
      throw new KilnError('E_UNSUPPORTED_TYPE', `${name}: needs ${as}, has ${b.g.tensor(id).dtype}`);
    return id;
  }
}

/** TFLite's TRANSPOSE takes up to 5 dimensions. */
const MAX_TRANSPOSE_RANK = 5;

/**
 * TRANSPOSE of `x` by `perm`. Past TFLite's rank limit, axes that stay neighbours in the same order are merged first
 * (a reshape, the transpose of the merged view, and a reshape back): PixelShuffle's 6-D [N, C, r, r, H, W] transpose
 * moves only four groups.
 */
export function transpose(b: ModelBuilder, x: number, perm: number[], name: string): number {
  const phys = b.g.tensor(x).shape;
  const dtype = b.g.tensor(x).dtype;
  const outShape = perm.map((r) => phys[r]!);
  const emit = (src: number, p: number[], shape: number[], n: string): number =>
    b.op(
      'TRANSPOSE',
      [src, b.constant(`${n}/perm`, 'int32', [p.length], p)],
      {},
      { outputs: [{ name: n, shape, dtype }] },
    )[0]!;
  if (perm.length <= MAX_TRANSPOSE_RANK) return emit(x, perm, outShape, name);
  // runs of source axes that appear consecutively in the output
  const runs: number[][] = [];
  for (const a of perm) {
    const last = runs[runs.length - 1];
    if (last && last[last.length - 1]! + 1 === a) last.push(a);
    else runs.push([a]);
  }
  const bySource = [...runs].sort((p, q) => p[0]! - q[0]!);
  const merged = bySource.map((r) => r.reduce((n, a) => n * phys[a]!, 1));
  const small = runs.map((r) => bySource.indexOf(r));
  if (small.length > MAX_TRANSPOSE_RANK)
    throw new KilnError(
      'E_UNSUPPORTED_OP',
      `${name}: a ${perm.length}-D transpose (${perm.join(', ')}) that moves ${small.length} separate groups of axes`,
      { hint: 'TFLite transposes up to 5 dimensions' },
    );
  const view = b.reshape(x, merged, { name: `${name}/merged` });
  const t = emit(
    view,
    small,
    small.map((k) => merged[k]!),
    `${name}/transposed`,
  );
  return b.reshape(t, outShape, { name });
}

function permutedConst(c: ConstVal, p: number[]): ConstVal {
  if (onlyMovesUnitDims(c.shape, p)) return c;
  return { dtype: c.dtype, shape: applyPerm(c.shape, p), v: permuteValues(c.v, c.shape, p) };
}
