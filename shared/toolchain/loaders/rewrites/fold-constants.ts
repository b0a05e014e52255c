import { numElements, type Graph, stridesOf } from '../../ir/graph.js';
import type { Op } from '../../ir/types.js';
import { broadcastShapes } from '../../ir/shape-inference.js';
import { transpose } from '../emit.js';
import { addConst, constValues, isDead, kill, replaceUses } from './util.js';

type Num = Float32Array | Int32Array;

const BINARY: Record<string, (a: number, b: number) => number> = {
  ADD: (a, b) => a + b,
  SUB: (a, b) => a - b,
  MUL: (a, b) => a * b,
  DIV: (a, b) => a / b,
  MAXIMUM: (a, b) => Math.max(a, b),
  MINIMUM: (a, b) => Math.min(a, b),
  SQUARED_DIFFERENCE: (a, b) => (a - b) * (a - b),
  POW: (a, b) => a ** b,
};

const UNARY: Record<string, (a: number) => number> = {
  RSQRT: (a) => 1 / Math.sqrt(a),
  SQRT: Math.sqrt,
  NEG: (a) => -a,
  EXP: Math.exp,
  LOG: Math.log,
  ABS: Math.abs,
  SQUARE: (a) => a * a,
  RELU: (a) => Math.max(0, a),
  RELU6: (a) => Math.min(6, Math.max(0, a)),
  LOGISTIC: (a) => 1 / (1 + Math.exp(-a)),
  TANH: Math.tanh,
  FLOOR: Math.floor,
  CEIL: Math.ceil,
};

const ACT = [(x: number) => x, UNARY['RELU']!, (x: number) => Math.min(1, Math.max(-1, x)), UNARY['RELU6']!, Math.tanh];

function broadcastBinary(
  a: Num,
  as: number[],
  b: Num,
  bs: number[],
  f: (x: number, y: number) => number,
  out: Num,
): number[] {
  const os = broadcastShapes(as, bs);
  const n = numElements(os);
  const ost = stridesOf(os);
  const pad = (s: number[]): number[] => [...new Array<number>(os.length - s.length).fill(1), ...s];
  const ap = pad(as);
  const bp = pad(bs);
  const ast = stridesOf(ap).map((st, i) => (ap[i] === 1 ? 0 : st));
  const bst = stridesOf(bp).map((st, i) => (bp[i] === 1 ? 0 : st));
  for (let i = 0; i < n; i++) {
    let rem = i;
    let ai = 0;
    let bi = 0;
    for (let d = 0; d < os.length; d++) {
      const q = Math.floor(rem / ost[d]!);
      rem -= q * ost[d]!;
      ai += q * ast[d]!;
      bi += q * bst[d]!;
    }
    out[i] = f(a[ai]!, b[bi]!);
  }
  return os;
}

/** Computes a constant-only op in JS; undefined when the op is not one Kiln evaluates. */
function evaluate(g: Graph, op: Op): Num | undefined {
  const vals = op.inputs.map((t) => (t >= 0 ? constValues(g, t) : undefined));
  const outT = g.tensor(op.outputs[0]!);
  if (outT.dtype !== 'float32' && outT.dtype !== 'int32') return undefined;
  const make = (n: number): Num => (outT.dtype === 'float32' ? new Float32Array(n) : new Int32Array(n));
  const shapeOf = (i: number): number[] => g.tensor(op.inputs[i]!).shape;
  const num = (i: number): Num => vals[i] as Num;
  const opts = (op.options ?? {}) as Record<string, any>;
  if (BINARY[op.type]) {
    const out = make(numElements(outT.shape));
    broadcastBinary(num(0), shapeOf(0), num(1), shapeOf(1), BINARY[op.type]!, out);
    const act = ACT[opts['fusedActivationFunction'] ?? 0];
    if (!act) return undefined;
    for (let i = 0; i < out.length; i++) out[i] = act(out[i]!);
    return out;
  }
  if (UNARY[op.type]) return make(num(0).length).map((_v, i) => UNARY[op.type]!(num(0)[i]!)) as Num;
  switch (op.type) {
    case 'RESHAPE':
    case 'SQUEEZE':
    case 'EXPAND_DIMS':
      return outT.dtype === g.tensor(op.inputs[0]!).dtype ? (num(0).slice() as Num) : undefined;
    case 'CAST': {
      const v = num(0);
      const out = make(v.length);
      for (let i = 0; i < v.length; i++) out[i] = outT.dtype === 'int32' ? Math.trunc(v[i]!) : v[i]!;
      return out;
    }
    case 'TRANSPOSE': {
      const perm = Array.from(num(1));
      const r = transpose(Float32Array.from(num(0)), shapeOf(0), perm).data;
      return outT.dtype === 'float32' ? r : Int32Array.from(r);
    }
    case 'FULLY_CONNECTED': {
      const x = num(0);
      const w = num(1);
      const [units, inner] = shapeOf(1) as [number, number];
      const rows = x.length / inner;
      const bias = op.inputs[2] !== undefined && op.inputs[2] >= 0 ? num(2) : undefined;
      const out = make(rows * units);
      const act = ACT[opts['fusedActivationFunction'] ?? 0];
      if (!act) return undefined;
      for (let r = 0; r < rows; r++)
        for (let u = 0; u < units; u++) {
          let s = bias ? bias[u]! : 0;
          for (let k = 0; k < inner; k++) s += x[r * inner + k]! * w[u * inner + k]!;
          out[r * units + u] = act(s);
        }
      return out;
    }
    // PACK lays its inputs out exactly as CONCATENATION does along the output's axis (each input's extent there is 1).
    case 'CONCATENATION':
    case 'PACK': {
      const axis = opts['axis'] < 0 ? opts['axis'] + outT.shape.length : opts['axis'];
      const outer = numElements(outT.shape.slice(0, axis));
      const out = make(numElements(outT.shape));
      let o = 0;
      for (let i = 0; i < outer; i++)
        for (let k = 0; k < op.inputs.length; k++) {
          const inner = numElements(shapeOf(k).slice(axis));
          out.set(num(k).subarray(i * inner, (i + 1) * inner), o);
          o += inner;
        }
      return out;
    }
    case 'SLICE': {
      const s = shapeOf(0);
      const begin = Array.from(num(1));
      const st = stridesOf(s);
      const os = outT.shape;
      const ost = stridesOf(os);
      const out = make(numElements(os));
      for (let i = 0; i < out.length; i++) {
        let rem = i;
        let src = 0;
        for (let d = 0; d < os.length; d++) {
          const q = Math.floor(rem / ost[d]!);
          rem -= q * ost[d]!;
          src += (q + begin[d]!) * st[d]!;
        }
        out[i] = num(0)[src]!;
      }
      return out;
    }
    default:
      return undefined;
  }
}

/**
 * Replaces one op by its constant result when all its inputs are constants and Kiln can evaluate it. Returns the id of
 * the new constant tensor, or −1 when the op stays.
 */
export function foldOp(g: Graph, op: Op): number {
  if (isDead(op) || op.outputs.length !== 1 || op.inputs.length === 0) return -1;
  if (!op.inputs.every((t) => t < 0 || g.isConstant(t))) return -1;
  const out = op.outputs[0]!;
  if (g.outputs.includes(out)) return -1;
  const v = evaluate(g, op);
  if (!v) return -1;
  const t = g.tensor(out);
  const c = addConst(g, t.name, { dtype: t.dtype as 'float32' | 'int32' }, t.shape, v);
  replaceUses(g, out, c);
  kill(op);
  return c;
}

/** Constant folding over the whole graph (ops are in execution order, so chains fold in one pass). */
export function foldConstants(g: Graph): number {
  let n = 0;
  for (const op of g.ops) if (foldOp(g, op) >= 0) n++;
  return n;
}
