/** Helpers the ONNX op converters share: element types, operand layout, element-wise and composite converter makers. */

import type { DType } from '../../../ir/dtype.js';
import { broadcastShapes } from '../../../ir/shape-inference.js';
import { TensorType } from '../../../tflite/schema.js';
import { tensorVal, type OnnxCtx, type Value } from '../context.js';
import { applyPerm, constInLayout, emitConst, norm, type Perm } from '../layout.js';

/**
 * ONNX op → TFLite builtins. Each converter takes the node (inputs as constants or IR tensors in some layout, see
 * layout.ts) and returns its outputs. Ops not in the op table (ops.ts; nor foldable on constants, fold.ts) are refused
 * by name before conversion starts; a converter refuses an attribute combination TFLite cannot express, with the
 * reason.
 */
export type OnnxOpConverter = (c: OnnxCtx) => Value[];

export const F32 = 'float32';
export const TT: Partial<Record<DType, TensorType>> = {
  float32: TensorType.FLOAT32,
  int32: TensorType.INT32,
  int64: TensorType.INT64,
  bool: TensorType.BOOL,
  uint8: TensorType.UINT8,
  int8: TensorType.INT8,
  int16: TensorType.INT16,
  uint32: TensorType.UINT32,
};
export const ONNX_TO: Record<number, DType> = {
  1: 'float32',
  2: 'uint8',
  3: 'int8',
  5: 'int16',
  6: 'int32',
  7: 'int64',
  9: 'bool',
};

export const one = (
  c: OnnxCtx,
  type: string,
  inputs: number[],
  fields: Record<string, unknown> = {},
  shape?: number[],
  dtype?: DType,
): number =>
  c.b.op(
    type,
    inputs,
    fields,
    shape || dtype
      ? { outputs: [{ name: c.out(), ...(shape ? { shape } : {}), ...(dtype ? { dtype } : {}) }] }
      : { outputs: [{ name: c.out() }] },
  )[0]!;

/** A builtin of one output with the given name, shape and type. */
export function typedOp(
  c: OnnxCtx,
  type: string,
  ins: number[],
  shape: number[],
  dtype: DType,
  name: string,
  fields = {},
): number {
  return c.b.op(type, ins, fields, { outputs: [{ name, shape, dtype }] })[0]!;
}

export function need4d(c: OnnxCtx, what: string): void {
  if (c.rank(0) !== 4 && c.rank(0) !== 3)
    throw c.refuse(
      `${what} over ${c.rank(0) - 2} spatial dimensions`,
      'TFLite has 2-D (and, through Kiln, 1-D) convolutions and pools only',
    );
}

export function floatOnly(c: OnnxCtx, i = 0): void {
  if (c.dtype(i) !== F32) throw c.refuse(`computes on ${c.dtype(i)}, TFLite's kernel for it takes float32`);
}

/** Element-wise operands in one layout: the layout of the highest-rank permuted tensor, constants permuted to match. */
export function operands(
  c: OnnxCtx,
  idx: number[],
  as?: DType | DType[],
): { ids: number[]; perm: Perm; rank: number; shape: number[] } {
  const rank = Math.max(...idx.map((i) => c.rank(i)));
  let perm: Perm = null;
  for (const i of idx) {
    const p = c.perm(i);
    if (c.value(i).kind === 'tensor' && c.rank(i) === rank && p) {
      perm = p;
      break;
    }
  }
  const firstTensor = idx.find((i) => c.value(i).kind === 'tensor');
  const d0 = (Array.isArray(as) ? undefined : as) ?? c.dtype(firstTensor ?? idx[0]!);
  const dtype = d0 === 'float64' ? F32 : d0;
  // constants take the one element type, or each its own (`as` per operand: Where's bool condition and values)
  const typeOf = (k: number): DType => (Array.isArray(as) ? as[k]! : dtype);
  const shape = idx.reduce<number[]>((s, i) => broadcastShapes(s, c.shape(i)), []);
  const ids = idx.map((i, k) => {
    const v = c.value(i);
    if (v.kind === 'const') {
      const cc = constInLayout(v.c, perm, rank);
      return emitConst(c.b, `${c.name}/operand${k}`, cc, typeOf(k));
    }
    if (c.rank(i) === rank) return c.tensor(i, perm);
    const flat = c.tensor(i, null);
    const padded = [...new Array<number>(rank - c.rank(i)).fill(1), ...c.shape(i)];
    const r = c.b.reshape(flat, padded, { name: `${c.name}/broadcast${k}` });
    return c.materialize(tensorVal(r, null), perm);
  });
  return { ids: rank > MAX_BROADCAST_RANK ? broadcastAll(c, ids, applyPerm(shape, perm)) : ids, perm, rank, shape };
}

/** TFLite 2.9's broadcasting element-wise kernels take up to 4 dimensions (…4DSlow). */
const MAX_BROADCAST_RANK = 4;

/** Operands whose shape is not `phys` repeated to it (TILE), so that the element-wise op does not broadcast. */
function broadcastAll(c: OnnxCtx, ids: number[], phys: number[]): number[] {
  return ids.map((id, k) => {
    const t = c.b.g.tensor(id);
    if (t.shape.join() === phys.join()) return id;
    const reps = phys.map((d, i) => d / t.shape[i]!);
    return c.b.op(
      'TILE',
      [id, c.b.constant(`${c.name}/broadcast${k}_multiples`, 'int32', [reps.length], reps)],
      {},
      { outputs: [{ name: `${c.name}/broadcast${k}_full`, shape: phys, dtype: t.dtype }] },
    )[0]!;
  });
}

/** Element types TFLite's arithmetic kernels take without quantization parameters. */
export const ARITH: DType[] = ['float32', 'int32', 'int64'];

export function binary(type: string, outDtype?: DType): OnnxOpConverter {
  return (c) => {
    if (!outDtype && [0, 1].some((i) => !ARITH.includes(c.dtype(i)) && !(c.isConst(i) && c.dtype(i) === 'float64')))
      throw c.refuse(
        `arithmetic on ${c.dtype(0)}/${c.dtype(1)}`,
        'TFLite computes float32, int32 and int64 arithmetic',
      );
    const { ids, perm, shape } = operands(c, [0, 1]);
    const fields = ['ADD', 'SUB', 'MUL', 'DIV'].includes(type) ? { fusedActivationFunction: 0 } : {};
    const dtype = outDtype ?? c.b.g.tensor(ids[0]!).dtype;
    return [tensorVal(one(c, type, ids, fields, applyPerm(shape, perm), dtype), perm)];
  };
}

export function variadic(type: string, mean = false): OnnxOpConverter {
  return (c) => {
    const idx = Array.from({ length: c.n }, (_v, i) => i).filter((i) => c.has(i));
    if (idx.length === 1 && !mean) return [c.value(idx[0]!)];
    const { ids, perm, shape } = operands(c, idx);
    const phys = applyPerm(shape, perm);
    let y = ids[0]!;
    for (let k = 1; k < ids.length; k++) {
      const last = k === ids.length - 1 && !mean;
      y = c.b.op(type, [y, ids[k]!], type === 'ADD' ? { fusedActivationFunction: 0 } : {}, {
        outputs: [{ name: last ? c.out() : `${c.name}/${k}`, shape: phys, dtype: c.b.g.tensor(ids[0]!).dtype }],
      })[0]!;
    }
    if (mean)
      y = c.b.binary(
        'MUL',
        y,
        c.b.constant(`${c.name}/inv_n`, F32, [], [1 / ids.length]),
        {},
        { name: c.out(), shape: phys, dtype: F32 },
      );
    return [tensorVal(y, perm)];
  };
}

export const unary =
  (type: string, fields: (c: OnnxCtx) => Record<string, unknown> = () => ({})): OnnxOpConverter =>
  (c) => {
    floatOnly(c);
    const p = c.perm(0);
    return [tensorVal(c.b.unary(type, c.tensor(0, p), { name: c.out() }, fields(c)), p)];
  };

/** x·a + b, as MUL then ADD with scalar constants (skipping the identity parts). */
export function scaleShift(c: OnnxCtx, x: number, a: number, b: number, name: string): number {
  let y = x;
  if (a !== 1)
    y = c.b.binary('MUL', y, c.b.constant(`${name}/a`, F32, [], [a]), {}, { name: b !== 0 ? `${name}/mul` : name });
  if (b !== 0) y = c.b.binary('ADD', y, c.b.constant(`${name}/b`, F32, [], [b]), {}, { name });
  return y;
}

export const composite =
  (f: (c: OnnxCtx, x: number) => number): OnnxOpConverter =>
  (c) => {
    floatOnly(c);
    const p = c.perm(0);
    return [tensorVal(f(c, c.tensor(0, p)), p)];
  };

export const minMax = (c: OnnxCtx, x: number, lo: number, hi: number): number => {
  const name = c.out();
  let y = x;
  if (lo > -Infinity)
    y = c.b.op(
      'MAXIMUM',
      [y, c.b.constant(`${name}/min`, F32, [], [lo])],
      {},
      { outputs: [{ name: hi < Infinity ? `${name}/lo` : name }] },
    )[0]!;
  if (hi < Infinity)
    y = c.b.op('MINIMUM', [y, c.b.constant(`${name}/max`, F32, [], [hi])], {}, { outputs: [{ name }] })[0]!;
  return y;
};

export function axesArg(c: OnnxCtx, inputAt: number, fromOpset: number): number[] | undefined {
  if (c.opset >= fromOpset) return c.has(inputAt) ? c.ints(inputAt) : undefined;
  return c.attr.ints('axes');
}

/** Perm after dropping physical axes (their logical axes removed and the rest renumbered). */
export function dropAxes(perm: Perm, rank: number, logical: Set<number>): Perm {
  if (!perm) return null;
  const kept = perm.filter((l) => !logical.has(l));
  const order = [...kept].sort((x, y) => x - y);
  return norm(kept.map((l) => order.indexOf(l)));
}

export function castTo(c: OnnxCtx, x: number, to: DType, name: string): number {
  const from = c.b.g.tensor(x).dtype;
  if (from === to) return x;
  return c.b.op(
    'CAST',
    [x],
    { inDataType: TT[from], outDataType: TT[to] },
    { outputs: [{ name, dtype: to, shape: c.b.g.tensor(x).shape }] },
  )[0]!;
}

export const compare = (type: string): OnnxOpConverter => binary(type, 'bool');
