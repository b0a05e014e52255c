import { KilnError } from '../../common/errors.js';
import { Padding } from '../tflite/schema.js';
import { typedView, type DType } from './dtype.js';
import type { Graph } from './graph.js';
import { normAxis } from './axis.js';
import { OPS } from '../ops/catalog.js';
import type { ShapeRule } from '../ops/types.js';

export interface InferredOutput {
  shape: number[];
  dtype: DType;
}

interface Ctx {
  g: Graph;
  inputs: number[];
  opt: Record<string, any>;
  /** Shape of input i. */
  s(i: number): number[];
  /** dtype of input i. */
  d(i: number): DType;
  /** Integer values of constant input i (shape/axis/paddings operands). */
  ints(i: number): number[] | null;
}

type Rule = (c: Ctx) => InferredOutput[];

const shapeError = (msg: string): KilnError =>
  new KilnError('E_SHAPE', msg, { hint: 'Check the layer sizes and the input shape' });

export function convOutSize(inSize: number, filter: number, stride: number, dilation: number, padding: number): number {
  const eff = (filter - 1) * dilation + 1;
  return padding === Padding.VALID
    ? Math.floor((inSize - eff + stride) / stride)
    : Math.floor((inSize + stride - 1) / stride);
}

export function broadcastShapes(a: readonly number[], b: readonly number[]): number[] {
  const n = Math.max(a.length, b.length);
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const x = a[a.length - n + i] ?? 1;
    const y = b[b.length - n + i] ?? 1;
    if (x !== y && x !== 1 && y !== 1)
      throw shapeError(`shapes [${a.join(',')}] and [${b.join(',')}] do not broadcast`);
    out.push(x === 1 ? y : x);
  }
  return out;
}

const same: Rule = (c) => [{ shape: c.s(0), dtype: c.d(0) }];
const binary: Rule = (c) => [{ shape: broadcastShapes(c.s(0), c.s(1)), dtype: c.d(0) }];
const compare: Rule = (c) => [{ shape: broadcastShapes(c.s(0), c.s(1)), dtype: 'bool' }];

const conv: Rule = (c) => {
  const [n, h, w] = c.s(0);
  const f = c.s(1);
  const o = c.opt;
  return [
    {
      shape: [
        n!,
        convOutSize(h!, f[1]!, o.strideH, o.dilationHFactor ?? 1, o.padding),
        convOutSize(w!, f[2]!, o.strideW, o.dilationWFactor ?? 1, o.padding),
        f[0]!,
      ],
      dtype: c.d(0),
    },
  ];
};

const depthwise: Rule = (c) => {
  const [n, h, w] = c.s(0);
  const f = c.s(1);
  const o = c.opt;
  return [
    {
      shape: [
        n!,
        convOutSize(h!, f[1]!, o.strideH, o.dilationHFactor ?? 1, o.padding),
        convOutSize(w!, f[2]!, o.strideW, o.dilationWFactor ?? 1, o.padding),
        f[3]!,
      ],
      dtype: c.d(0),
    },
  ];
};

const pool: Rule = (c) => {
  const [n, h, w, ch] = c.s(0);
  const o = c.opt;
  return [
    {
      shape: [
        n!,
        convOutSize(h!, o.filterHeight, o.strideH, 1, o.padding),
        convOutSize(w!, o.filterWidth, o.strideW, 1, o.padding),
        ch!,
      ],
      dtype: c.d(0),
    },
  ];
};

const reduce: Rule = (c) => {
  const s = c.s(0);
  const axes = new Set((c.ints(1) ?? []).map((a) => normAxis(a, s.length)));
  const keep = Boolean(c.opt.keepDims);
  const shape = keep ? s.map((d, i) => (axes.has(i) ? 1 : d)) : s.filter((_d, i) => !axes.has(i));
  return [{ shape, dtype: c.d(0) }];
};

const resize: Rule = (c) => {
  const [n, , , ch] = c.s(0);
  const size = c.ints(1);
  if (!size) throw shapeError('resize needs a constant size operand');
  return [{ shape: [n!, size[0]!, size[1]!, ch!], dtype: c.d(0) }];
};

function reshapeTo(inShape: number[], target: number[]): number[] {
  const total = inShape.reduce((a, b) => a * b, 1);
  const known = target.filter((d) => d !== -1).reduce((a, b) => a * b, 1);
  return target.map((d) => (d === -1 ? total / known : d));
}

/** Each named rule (the op catalog's `shape` names one per op). */
const NAMED_RULES: Readonly<Record<ShapeRule, Rule>> = {
  same,
  binary,
  compare,
  conv,
  depthwise,
  pool,
  reduce,
  resize,
  transposeConv: (c) => {
    const shape = c.ints(0);
    if (!shape) throw shapeError('TRANSPOSE_CONV needs a constant output_shape operand');
    return [{ shape, dtype: c.d(2) }];
  },
  fullyConnected: (c) => {
    const s = c.s(0);
    const units = c.s(1)[0]!;
    const inner = c.s(1)[1]!;
    const shape = c.opt.keepNumDims ? [...s.slice(0, -1), units] : [s.reduce((a, b) => a * b, 1) / inner, units];
    return [{ shape, dtype: c.d(0) }];
  },
  reshape: (c) => {
    const target = c.ints(1) ?? (c.opt.newShape as number[] | undefined);
    if (!target) throw shapeError('RESHAPE needs a constant shape');
    return [{ shape: reshapeTo(c.s(0), target), dtype: c.d(0) }];
  },
  squeeze: (c) => {
    const s = c.s(0);
    const dims: number[] = c.opt.squeezeDims ?? [];
    const axes = new Set(dims.map((a) => normAxis(a, s.length)));
    return [{ shape: s.filter((d, i) => (axes.size ? !axes.has(i) : d !== 1)), dtype: c.d(0) }];
  },
  expandDims: (c) => {
    const s = [...c.s(0)];
    const a = c.ints(1)?.[0] ?? 0;
    s.splice(a < 0 ? a + s.length + 1 : a, 0, 1);
    return [{ shape: s, dtype: c.d(0) }];
  },
  concatenation: (c) => {
    const s = [...c.s(0)];
    const axis = normAxis(c.opt.axis, s.length);
    s[axis] = c.inputs.reduce((n, _t, i) => n + c.s(i)[axis]!, 0);
    return [{ shape: s, dtype: c.d(0) }];
  },
  pack: (c) => {
    const s = [...c.s(0)];
    s.splice(normAxis(c.opt.axis, s.length + 1), 0, c.opt.valuesCount ?? c.inputs.length);
    return [{ shape: s, dtype: c.d(0) }];
  },
  unpack: (c) => {
    const s = [...c.s(0)];
    const axis = normAxis(c.opt.axis, s.length);
    const n = s[axis]!;
    s.splice(axis, 1);
    return Array.from({ length: n }, () => ({ shape: [...s], dtype: c.d(0) }));
  },
  split: (c) => {
    const s = c.s(1);
    const axis = normAxis(c.ints(0)![0]!, s.length);
    const n = c.opt.numSplits as number;
    return Array.from({ length: n }, () => ({ shape: s.map((d, i) => (i === axis ? d / n : d)), dtype: c.d(1) }));
  },
  splitV: (c) => {
    const s = c.s(0);
    const sizes = c.ints(1)!;
    const axis = normAxis(c.ints(2)![0]!, s.length);
    const known = sizes.filter((x) => x >= 0).reduce((a, b) => a + b, 0);
    return sizes.map((sz) => ({
      shape: s.map((d, i) => (i === axis ? (sz < 0 ? s[axis]! - known : sz) : d)),
      dtype: c.d(0),
    }));
  },
  slice: (c) => {
    const s = c.s(0);
    const begin = c.ints(1)!;
    const size = c.ints(2)!;
    return [{ shape: s.map((d, i) => (size[i] === -1 ? d - begin[i]! : size[i]!)), dtype: c.d(0) }];
  },
  stridedSlice: (c) => {
    const s = c.s(0);
    const [b, e, st] = [c.ints(1)!, c.ints(2)!, c.ints(3)!];
    const o = c.opt;
    const shape: number[] = [];
    s.forEach((d, i) => {
      const stride = st[i] ?? 1;
      let start = o.beginMask & (1 << i) ? (stride > 0 ? 0 : d - 1) : b[i]!;
      let end = o.endMask & (1 << i) ? (stride > 0 ? d : -d - 1) : e[i]!;
      if (start < 0) start += d;
      if (end < 0 && !(o.endMask & (1 << i))) end += d;
      start = Math.max(stride > 0 ? 0 : -1, Math.min(start, stride > 0 ? d : d - 1));
      end = Math.max(stride > 0 ? 0 : -1, Math.min(end, stride > 0 ? d : d - 1));
      if (o.shrinkAxisMask & (1 << i)) return;
      shape.push(Math.max(0, Math.ceil((end - start) / stride)));
    });
    return [{ shape, dtype: c.d(0) }];
  },
  pad: (c) => {
    const p = c.ints(1)!;
    return [{ shape: c.s(0).map((d, i) => d + p[2 * i]! + p[2 * i + 1]!), dtype: c.d(0) }];
  },
  spaceToDepth: (c) => {
    const [n, h, w, ch] = c.s(0);
    const b = c.opt.blockSize as number;
    return [{ shape: [n!, h! / b, w! / b, ch! * b * b], dtype: c.d(0) }];
  },
  depthToSpace: (c) => {
    const [n, h, w, ch] = c.s(0);
    const b = c.opt.blockSize as number;
    return [{ shape: [n!, h! * b, w! * b, ch! / (b * b)], dtype: c.d(0) }];
  },
  transpose: (c) => {
    const perm = c.ints(1)!;
    const s = c.s(0);
    return [{ shape: perm.map((p) => s[p]!), dtype: c.d(0) }];
  },
  tile: (c) => {
    const m = c.ints(1)!;
    return [{ shape: c.s(0).map((d, i) => d * m[i]!), dtype: c.d(0) }];
  },
  gather: (c) => {
    const s = c.s(0);
    const axis = normAxis(c.opt.axis ?? 0, s.length);
    return [{ shape: [...s.slice(0, axis), ...c.s(1), ...s.slice(axis + 1)], dtype: c.d(0) }];
  },
  gatherNd: (c) => {
    const idx = c.s(1);
    const depth = idx[idx.length - 1]!;
    return [{ shape: [...idx.slice(0, -1), ...c.s(0).slice(depth)], dtype: c.d(0) }];
  },
  topkV2: (c) => {
    const s = c.s(0);
    const shape = [...s.slice(0, -1), c.ints(1)![0]!];
    return [
      { shape, dtype: c.d(0) },
      { shape: [...shape], dtype: 'int32' },
    ];
  },
  argMinMax: (c) => {
    const s = c.s(0);
    const axis = normAxis(c.ints(1)![0]!, s.length);
    return [{ shape: s.filter((_d, i) => i !== axis), dtype: c.opt.outputType === 4 ? 'int64' : 'int32' }];
  },
  batchToSpaceNd: (c) => {
    const [n, h, w, ch] = c.s(0);
    const bs = c.ints(1)!;
    const cr = c.ints(2)!;
    return [
      {
        shape: [n! / (bs[0]! * bs[1]!), h! * bs[0]! - cr[0]! - cr[1]!, w! * bs[1]! - cr[2]! - cr[3]!, ch!],
        dtype: c.d(0),
      },
    ];
  },
  spaceToBatchNd: (c) => {
    const [n, h, w, ch] = c.s(0);
    const bs = c.ints(1)!;
    const p = c.ints(2)!;
    return [
      {
        shape: [n! * bs[0]! * bs[1]!, (h! + p[0]! + p[1]!) / bs[0]!, (w! + p[2]! + p[3]!) / bs[1]!, ch!],
        dtype: c.d(0),
      },
    ];
  },
  shape: (c) => [{ shape: [c.s(0).length], dtype: c.opt.outType === 4 ? 'int64' : 'int32' }],
};

/** Shape rule per op type, from the op catalog. */
const RULES: Readonly<Record<string, Rule>> = Object.fromEntries(
  Object.entries(OPS).flatMap(([op, spec]) => (spec.shape ? [[op, NAMED_RULES[spec.shape]]] : [])),
);

export function hasShapeRule(type: string): boolean {
  return type in RULES;
}

/** Output shapes and dtypes of an op from its inputs (shapes, dtypes and constant operands) and options. */
export function inferOutputs(g: Graph, type: string, inputs: number[], options: object | null): InferredOutput[] {
  const rule = RULES[type];
  if (!rule)
    throw new KilnError('E_UNSUPPORTED_OP', `no shape rule for ${type}`, { hint: 'Give the output shapes explicitly' });
  const present = inputs.filter((t) => t >= 0);
  const ctx: Ctx = {
    g,
    inputs: present,
    opt: (options ?? {}) as Record<string, any>,
    s: (i) => [...g.tensor(inputs[i]!).shape],
    d: (i) => g.tensor(inputs[i]!).dtype,
    ints: (i) => {
      const t = g.tensors[inputs[i]!];
      if (!t || !t.data) return null;
      const v = typedView(t.dtype, t.data);
      return Array.from(v as ArrayLike<number | bigint>, (x) => Number(x));
    },
  };
  return rule(ctx);
}
