import type { DType } from '../../ir/dtype.js';
import { numElements } from '../../ir/graph.js';
import { normAxis } from '../../ir/axis.js';
import { broadcastShapes } from '../../ir/shape-inference.js';
import { MirrorPadMode, TensorType } from '../../tflite/schema.js';
import { emitBatchNorm, emitPad } from '../emit.js';
import { constVal, tensorVal, type OnnxCtx, type Value } from './context.js';
import { flattenAxis, reshapeTarget, sliceParams } from './fold.js';
import { isSamePadding, noPads, windowOf, type Window } from './geometry.js';
import {
  applyPerm,
  channelsLast,
  constInLayout,
  emitConst,
  inversePerm,
  norm,
  permuteValues,
  type Perm,
} from './layout.js';
import { makeConst, type ConstVal } from './tensor.js';

/**
 * ONNX op → TFLite builtins. Each converter takes the node (inputs as constants or IR tensors in some layout, see
 * layout.ts) and returns its outputs. Ops not in this table (nor foldable on constants, fold.ts) are refused by name
 * before conversion starts; a converter refuses an attribute combination TFLite cannot express, with the reason.
 */
export type OnnxOpConverter = (c: OnnxCtx) => Value[];

const F32 = 'float32';
const TT: Partial<Record<DType, TensorType>> = {
  float32: TensorType.FLOAT32,
  int32: TensorType.INT32,
  int64: TensorType.INT64,
  bool: TensorType.BOOL,
  uint8: TensorType.UINT8,
  int8: TensorType.INT8,
  int16: TensorType.INT16,
};
const ONNX_TO: Record<number, DType> = {
  1: 'float32',
  2: 'uint8',
  3: 'int8',
  5: 'int16',
  6: 'int32',
  7: 'int64',
  9: 'bool',
};

const one = (
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

function need4d(c: OnnxCtx, what: string): void {
  if (c.rank(0) !== 4 && c.rank(0) !== 3)
    throw c.refuse(
      `${what} over ${c.rank(0) - 2} spatial dimensions`,
      'TFLite has 2-D (and, through Kiln, 1-D) convolutions and pools only',
    );
}

function floatOnly(c: OnnxCtx, i = 0): void {
  if (c.dtype(i) !== F32) throw c.refuse(`computes on ${c.dtype(i)}, TFLite's kernel for it takes float32`);
}

/** Element-wise operands in one layout: the layout of the highest-rank permuted tensor, constants permuted to match. */
export function operands(
  c: OnnxCtx,
  idx: number[],
  as?: DType,
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
  const d0 = as ?? c.dtype(firstTensor ?? idx[0]!);
  const dtype = d0 === 'float64' ? F32 : d0;
  const shape = idx.reduce<number[]>((s, i) => broadcastShapes(s, c.shape(i)), []);
  const ids = idx.map((i, k) => {
    const v = c.value(i);
    if (v.kind === 'const') {
      const cc = constInLayout(v.c, perm, rank);
      return emitConst(c.b, `${c.name}/operand${k}`, cc, dtype);
    }
    if (c.rank(i) === rank) return c.tensor(i, perm);
    const flat = c.tensor(i, null);
    const padded = [...new Array<number>(rank - c.rank(i)).fill(1), ...c.shape(i)];
    const r = c.b.reshape(flat, padded, { name: `${c.name}/broadcast${k}` });
    return c.materialize(tensorVal(r, null), perm);
  });
  return { ids, perm, rank, shape };
}

/** Element types TFLite's arithmetic kernels take without quantization parameters. */
const ARITH: DType[] = ['float32', 'int32', 'int64'];

function binary(type: string, outDtype?: DType): OnnxOpConverter {
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

function variadic(type: string, mean = false): OnnxOpConverter {
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

const unary =
  (type: string, fields: (c: OnnxCtx) => Record<string, unknown> = () => ({})): OnnxOpConverter =>
  (c) => {
    floatOnly(c);
    const p = c.perm(0);
    return [tensorVal(c.b.unary(type, c.tensor(0, p), { name: c.out() }, fields(c)), p)];
  };

/** x·a + b, as MUL then ADD with scalar constants (skipping the identity parts). */
function scaleShift(c: OnnxCtx, x: number, a: number, b: number, name: string): number {
  let y = x;
  if (a !== 1)
    y = c.b.binary('MUL', y, c.b.constant(`${name}/a`, F32, [], [a]), {}, { name: b !== 0 ? `${name}/mul` : name });
  if (b !== 0) y = c.b.binary('ADD', y, c.b.constant(`${name}/b`, F32, [], [b]), {}, { name });
  return y;
}

const composite =
  (f: (c: OnnxCtx, x: number) => number): OnnxOpConverter =>
  (c) => {
    floatOnly(c);
    const p = c.perm(0);
    return [tensorVal(f(c, c.tensor(0, p)), p)];
  };

const minMax = (c: OnnxCtx, x: number, lo: number, hi: number): number => {
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

function clip(c: OnnxCtx): Value[] {
  if (c.opset >= 11 && [1, 2].some((i) => c.has(i) && !c.isConst(i))) {
    floatOnly(c);
    const p = c.perm(0);
    let y = c.tensor(0, p);
    const shape = c.b.g.tensor(y).shape;
    for (const [i, type] of [
      [1, 'MAXIMUM'],
      [2, 'MINIMUM'],
    ] as const) {
      if (!c.has(i)) continue;
      if (c.rank(i) !== 0) throw c.refuse('non-scalar bounds');
      y = c.b.op(
        type,
        [y, c.tensor(i, null)],
        {},
        { outputs: [{ name: i === 2 || !c.has(2) ? c.out() : `${c.name}/lo`, shape, dtype: F32 }] },
      )[0]!;
    }
    return [tensorVal(y, p)];
  }
  const lo = c.opset >= 11 ? (c.has(1) ? c.const(1).v[0]! : -Infinity) : c.attr.f('min', -3.4028234663852886e38);
  const hi = c.opset >= 11 ? (c.has(2) ? c.const(2).v[0]! : Infinity) : c.attr.f('max', 3.4028234663852886e38);
  const p = c.perm(0);
  const x = c.tensor(0, p);
  if (c.dtype(0) !== F32) throw c.refuse(`clips ${c.dtype(0)} values`);
  const big = 3.4e38;
  const L = lo <= -big ? -Infinity : lo;
  const H = hi >= big ? Infinity : hi;
  const name = c.out();
  if (L === 0 && H === 6) return [tensorVal(c.b.unary('RELU6', x, { name }), p)];
  if (L === 0 && H === Infinity) return [tensorVal(c.b.unary('RELU', x, { name }), p)];
  if (L === -1 && H === 1) return [tensorVal(c.b.unary('RELU_N1_TO_1', x, { name }), p)];
  if (L === 0 && H === 1)
    return [tensorVal(minMax(c, c.b.unary('RELU', x, { name: `${name}/relu` }), -Infinity, 1), p)];
  return [tensorVal(minMax(c, x, L, H), p)];
}

/** Runs a 2-D op on an NCHW-style input: 1-D (rank 3) inputs become [N, 1, W, C]. Returns the NHWC result, re-ranked. */
function spatial2d(c: OnnxCtx, f: (x: number, hw: [number, number], one: boolean) => number): Value[] {
  need4d(c, c.node.opType);
  const r = c.rank(0);
  const cl = channelsLast(r);
  let x = c.tensor(0, cl);
  const phys = c.b.g.tensor(x).shape;
  const is1d = r === 3;
  if (is1d) x = c.b.reshape(x, [phys[0]!, 1, phys[1]!, phys[2]!], { name: `${c.name}/as2d` });
  const s = c.b.g.tensor(x).shape;
  let y = f(x, [s[1]!, s[2]!], is1d);
  if (is1d) {
    const o = c.b.g.tensor(y).shape;
    y = c.b.reshape(y, [o[0]!, o[2]!, o[3]!], { name: c.out() });
  }
  return [tensorVal(y, cl)];
}

/** 1-D windows as 2-D ones over [1, W]. */
const as2d = (w: Window, is1d: boolean): Window =>
  is1d
    ? {
        kernel: [1, w.kernel[0]!],
        strides: [1, w.strides[0]!],
        dilations: [1, w.dilations[0]!],
        pads: [[0, 0], w.pads[0]!],
      }
    : w;

function conv(c: OnnxCtx): Value[] {
  floatOnly(c);
  if (!c.isConst(1)) return runtimeConv(c);
  const W = c.const(1);
  const group = c.attr.i('group', 1);
  const bias = c.has(2) ? Float32Array.from(c.const(2).v) : null;
  return spatial2d(c, (x, hw, is1d) => {
    const w4 = is1d ? { ...W, shape: [W.shape[0]!, W.shape[1]!, 1, W.shape[2]!] } : W;
    const [M, Cg, kh, kw] = w4.shape as [number, number, number, number];
    const kernelAttr = c.attr.ints('kernel_shape');
    const win0 = windowOf(c, is1d ? [hw[1]] : hw, kernelAttr ?? (is1d ? [kw] : [kh, kw]));
    const win = as2d(win0, is1d);
    const cin = c.b.g.tensor(x).shape[3]!;
    const padded = (xin: number, name: string): { x: number; padding: 'SAME' | 'VALID' } => {
      if (noPads(win)) return { x: xin, padding: 'VALID' };
      if (isSamePadding(win, hw)) return { x: xin, padding: 'SAME' };
      return { x: emitPad(c.b, xin, [[0, 0], win.pads[0]!, win.pads[1]!, [0, 0]], `${name}/pad`), padding: 'VALID' };
    };
    const geo = (p: 'SAME' | 'VALID') => ({
      stride: win.strides as [number, number],
      dilation: win.dilations as [number, number],
      padding: p,
    });
    const name = is1d ? `${c.name}/conv2d` : c.out();
    if (group === 1) {
      const k = permuteValues(Float32Array.from(w4.v), w4.shape, [0, 2, 3, 1]);
      const p = padded(x, c.name);
      return c.b.conv2d(
        p.x,
        c.b.constant(`${c.name}/kernel`, F32, [M, kh, kw, Cg], k),
        c.b.constant(`${c.name}/bias`, F32, [M], bias ?? new Float32Array(M)),
        geo(p.padding),
        { name },
      );
    }
    if (group === cin && Cg === 1 && M % cin === 0) {
      const k = permuteValues(Float32Array.from(w4.v), w4.shape, [1, 2, 3, 0]);
      const p = padded(x, c.name);
      return c.b.depthwiseConv2d(
        p.x,
        c.b.constant(`${c.name}/depthwise_kernel`, F32, [1, kh, kw, M], k),
        c.b.constant(`${c.name}/bias`, F32, [M], bias ?? new Float32Array(M)),
        { ...geo(p.padding), depthMultiplier: M / cin },
        { name },
      );
    }
    if (cin % group !== 0 || M % group !== 0 || Cg * group !== cin)
      throw c.refuse(`group ${group} does not divide ${cin} input and ${M} output channels`);
    // grouped convolution: split the channels, one CONV_2D per group, concatenate
    const p = padded(x, c.name);
    const parts = c.b.op('SPLIT', [c.b.constant(`${c.name}/split_axis`, 'int32', [], [3]), p.x], { numSplits: group });
    const mg = M / group;
    const outs = parts.map((xp, g) => {
      const wg = W.v.subarray(g * mg * Cg * kh * kw, (g + 1) * mg * Cg * kh * kw);
      const k = permuteValues(Float32Array.from(wg), [mg, Cg, kh, kw], [0, 2, 3, 1]);
      const bg = bias ? bias.subarray(g * mg, (g + 1) * mg) : new Float32Array(mg);
      return c.b.conv2d(
        xp,
        c.b.constant(`${c.name}/kernel${g}`, F32, [mg, kh, kw, Cg], k),
        c.b.constant(`${c.name}/bias${g}`, F32, [mg], bg),
        geo(p.padding),
        { name: `${c.name}/group${g}` },
      );
    });
    return c.b.concat(outs, 3, { name });
  });
}

/** A 2-D convolution whose weights are computed at run time: the OIHW weights are transposed to OHWI in the graph. */
function runtimeConv(c: OnnxCtx): Value[] {
  const hint = 'Kiln converts grouped, 1-D and biased-at-run-time convolutions with constant weights only';
  if (c.rank(0) !== 4 || c.attr.i('group', 1) !== 1 || (c.has(2) && !c.isConst(2)))
    throw c.refuse('the weights are computed at run time', hint);
  const [M, Cg, kh, kw] = c.shape(1) as [number, number, number, number];
  const bias = c.has(2) ? Float32Array.from(c.const(2).v) : new Float32Array(M);
  const w = c.tensor(1, [0, 2, 3, 1]);
  return spatial2d(c, (x, hw) => {
    const win = windowOf(c, hw, c.attr.ints('kernel_shape') ?? [kh, kw]);
    let xin = x;
    let padding: 'SAME' | 'VALID' = 'VALID';
    if (isSamePadding(win, hw) && !noPads(win)) padding = 'SAME';
    else if (!noPads(win)) xin = emitPad(c.b, x, [[0, 0], win.pads[0]!, win.pads[1]!, [0, 0]], `${c.name}/pad`);
    void Cg;
    return c.b.conv2d(
      xin,
      w,
      c.b.constant(`${c.name}/bias`, F32, [M], bias),
      { stride: win.strides as [number, number], dilation: win.dilations as [number, number], padding },
      { name: c.out() },
    );
  });
}

function pool(type: 'MAX_POOL_2D' | 'AVERAGE_POOL_2D'): OnnxOpConverter {
  return (c) => {
    floatOnly(c);
    if (c.node.output.length > 1 && c.node.output[1])
      throw c.refuse('the Indices output', 'TFLite max pooling does not return indices');
    const dil = c.attr.ints('dilations');
    if (dil && dil.some((d) => d !== 1)) throw c.refuse('dilated pooling');
    return spatial2d(c, (x, hw, is1d) => {
      const win = as2d(
        windowOf(c, is1d ? [hw[1]] : hw, c.attr.ints('kernel_shape')!, c.attr.i('ceil_mode', 0) === 1),
        is1d,
      );
      const includePad = c.attr.i('count_include_pad', 0) === 1;
      const name = is1d ? `${c.name}/pool2d` : c.out();
      const opts = (padding: 'SAME' | 'VALID') => ({
        filter: win.kernel as [number, number],
        stride: win.strides as [number, number],
        padding,
      });
      if (noPads(win)) return c.b.pool(type, x, opts('VALID'), { name });
      if (isSamePadding(win, hw) && (type === 'MAX_POOL_2D' || !includePad))
        return c.b.pool(type, x, opts('SAME'), { name });
      if (type === 'AVERAGE_POOL_2D' && (!includePad || c.attr.i('ceil_mode', 0) === 1))
        throw c.refuse(
          'average pooling over explicit padding that is left out of the average',
          'TFLite averages SAME-padded windows over the valid part only; export with count_include_pad=1 or SAME-like pads',
        );
      const pads = [[0, 0], win.pads[0]!, win.pads[1]!, [0, 0]];
      const padded =
        type === 'MAX_POOL_2D'
          ? c.b.op(
              'PADV2',
              [
                x,
                c.b.constant(`${c.name}/paddings`, 'int32', [4, 2], pads.flat()),
                c.b.constant(`${c.name}/pad_value`, F32, [], [-3.4028234663852886e38]),
              ],
              {},
              { outputs: [{ name: `${c.name}/pad` }] },
            )[0]!
          : emitPad(c.b, x, pads, `${c.name}/pad`);
      return c.b.pool(type, padded, opts('VALID'), { name });
    });
  };
}

function globalPool(type: 'MEAN' | 'REDUCE_MAX'): OnnxOpConverter {
  return (c) => {
    floatOnly(c);
    const r = c.rank(0);
    const cl = channelsLast(r);
    const x = c.tensor(0, cl);
    const axes = Array.from({ length: r - 2 }, (_v, i) => i + 1);
    const y = one(c, type, [x, c.b.constant(`${c.name}/axes`, 'int32', [axes.length], axes)], { keepDims: true });
    return [tensorVal(y, cl)];
  };
}

function batchNorm(c: OnnxCtx): Value[] {
  floatOnly(c);
  if (c.attr.i('training_mode', 0) === 1 || (c.opset < 7 && c.attr.i('is_test', 0) === 0 && c.node.output.length > 1))
    throw c.refuse('batch normalization in training mode', 'Export the model in eval mode (model.eval())');
  const r = c.rank(0);
  const p = r >= 3 ? channelsLast(r) : null;
  const x = c.tensor(0, p);
  const [scale, bias, mean, variance] = [1, 2, 3, 4].map((i) => Float32Array.from(c.const(i).v));
  const y = emitBatchNorm(
    c.b,
    x,
    { gamma: scale!, beta: bias!, mean: mean!, variance: variance!, epsilon: c.attr.f('epsilon', 1e-5) },
    c.out(),
  );
  return [tensorVal(y, p)];
}

function instanceNorm(c: OnnxCtx): Value[] {
  floatOnly(c);
  const r = c.rank(0);
  const cl = channelsLast(r);
  const x = c.tensor(0, cl);
  const axes = c.b.constant(
    `${c.name}/axes`,
    'int32',
    [r - 2],
    Array.from({ length: r - 2 }, (_v, i) => i + 1),
  );
  const mean = c.b.op('MEAN', [x, axes], { keepDims: true }, { outputs: [{ name: `${c.name}/mean` }] })[0]!;
  const d = c.b.binary('SUB', x, mean, {}, { name: `${c.name}/centered` });
  const v = c.b.op(
    'MEAN',
    [c.b.binary('MUL', d, d), axes],
    { keepDims: true },
    { outputs: [{ name: `${c.name}/var` }] },
  )[0]!;
  const inv = c.b.unary(
    'RSQRT',
    c.b.binary('ADD', v, c.b.constant(`${c.name}/eps`, F32, [], [c.attr.f('epsilon', 1e-5)])),
  );
  const n = c.b.binary('MUL', d, inv);
  const ch = c.shape(0)[1]!;
  const y = c.b.binary(
    'ADD',
    c.b.binary('MUL', n, c.b.constant(`${c.name}/scale`, F32, [ch], Float32Array.from(c.const(1).v))),
    c.b.constant(`${c.name}/bias`, F32, [ch], Float32Array.from(c.const(2).v)),
    {},
    { name: c.out() },
  );
  return [tensorVal(y, cl)];
}

function gemm(c: OnnxCtx): Value[] {
  floatOnly(c);
  const alpha = c.attr.f('alpha', 1);
  const beta = c.attr.f('beta', 1);
  const transA = c.attr.i('transA', 0) === 1;
  const transB = c.attr.i('transB', 0) === 1;
  let a = c.tensor(0, null);
  if (transA)
    a = c.b.op(
      'TRANSPOSE',
      [a, c.b.constant(`${c.name}/perm_a`, 'int32', [2], [1, 0])],
      {},
      { outputs: [{ name: `${c.name}/a_t` }] },
    )[0]!;
  if (!c.isConst(1)) {
    const n = transB ? c.shape(1)[0]! : c.shape(1)[1]!;
    const m = c.b.g.tensor(a).shape[0]!;
    let y = c.b.op(
      'BATCH_MATMUL',
      [a, c.tensor(1, null)],
      { adjX: false, adjY: transB },
      { outputs: [{ name: `${c.name}/matmul`, shape: [m, n], dtype: F32 }] },
    )[0]!;
    if (alpha !== 1)
      y = c.b.binary('MUL', y, c.b.constant(`${c.name}/alpha`, F32, [], [alpha]), {}, { name: `${c.name}/scaled` });
    if (c.has(2)) y = c.b.binary('ADD', y, gemmC(c, beta, n), {}, { name: c.out() });
    return [tensorVal(y)];
  }
  const B = c.const(1);
  const [k, n] = transB ? [B.shape[1]!, B.shape[0]!] : [B.shape[0]!, B.shape[1]!];
  let w = transB ? Float32Array.from(B.v) : permuteValues(Float32Array.from(B.v), B.shape, [1, 0]);
  if (alpha !== 1) w = w.map((x) => x * alpha);
  const bias = c.has(2) ? scaledBiasVec(c, beta, n) : new Float32Array(n);
  const wid = c.b.constant(`${c.name}/weights`, F32, [n, k], w);
  if (bias) {
    return [
      tensorVal(c.b.fullyConnected(a, wid, c.b.constant(`${c.name}/bias`, F32, [n], bias), {}, { name: c.out() })),
    ];
  }
  const y = c.b.fullyConnected(a, wid, null, {}, { name: `${c.name}/matmul` });
  return [tensorVal(c.b.binary('ADD', y, gemmC(c, beta, n), {}, { name: c.out() }))];
}

/** Gemm's C · beta as a tensor to add. */
function gemmC(c: OnnxCtx, beta: number, n: number): number {
  if (c.isConst(2)) {
    const v = scaledBiasVec(c, beta, n);
    if (v) return c.b.constant(`${c.name}/bias`, F32, [n], v);
    return c.b.constant(
      `${c.name}/c`,
      F32,
      c.shape(2),
      Float32Array.from(c.const(2).v, (x) => x * beta),
    );
  }
  const t = c.tensor(2, null);
  return beta === 1
    ? t
    : c.b.binary('MUL', t, c.b.constant(`${c.name}/beta`, F32, [], [beta]), {}, { name: `${c.name}/c_scaled` });
}

/** Gemm's C as a per-output bias vector (C of shape [n], [1, n] or a scalar), scaled by beta; null otherwise. */
function scaledBiasVec(c: OnnxCtx, beta: number, n: number): Float32Array | null {
  if (!c.isConst(2)) return null;
  const C = c.const(2);
  const count = numElements(C.shape);
  if (count === 1) return new Float32Array(n).fill(C.v[0]! * beta);
  if (count === n && C.shape[C.shape.length - 1] === n) return Float32Array.from(C.v, (x) => x * beta);
  return null;
}

function matmul(c: OnnxCtx): Value[] {
  floatOnly(c);
  const sa = c.shape(0);
  const sb = c.shape(1);
  if (sa.length < 2 || sb.length < 2) throw c.refuse('a 1-D operand', 'Reshape the vector to a matrix in the model');
  const a = c.tensor(0, null);
  if (c.isConst(1) && sb.length === 2) {
    const B = c.const(1);
    const w = permuteValues(Float32Array.from(B.v), B.shape, [1, 0]);
    const y = c.b.fullyConnected(
      a,
      c.b.constant(`${c.name}/weights`, F32, [sb[1]!, sb[0]!], w),
      null,
      { keepNumDims: sa.length > 2 },
      { name: c.out() },
    );
    return [tensorVal(y)];
  }
  const batch = broadcastShapes(sa.slice(0, -2), sb.slice(0, -2));
  const shape = [...batch, sa[sa.length - 2]!, sb[sb.length - 1]!];
  return [tensorVal(one(c, 'BATCH_MATMUL', [a, c.tensor(1, null, F32)], {}, shape, F32))];
}

function reshapeTo(c: OnnxCtx, shape: number[]): Value[] {
  if (c.value(0).kind === 'const') return [constVal({ ...c.const(0), shape })];
  return [tensorVal(c.b.reshape(c.tensor(0, null), shape, { name: c.out() }))];
}

function axesArg(c: OnnxCtx, inputAt: number, fromOpset: number): number[] | undefined {
  if (c.opset >= fromOpset) return c.has(inputAt) ? c.ints(inputAt) : undefined;
  return c.attr.ints('axes');
}

/** Perm after dropping physical axes (their logical axes removed and the rest renumbered). */
function dropAxes(perm: Perm, rank: number, logical: Set<number>): Perm {
  if (!perm) return null;
  const kept = perm.filter((l) => !logical.has(l));
  const order = [...kept].sort((x, y) => x - y);
  return norm(kept.map((l) => order.indexOf(l)));
}

function reduce(
  type: string,
  axesInputFrom: number,
  pre?: (c: OnnxCtx, x: number) => number,
  post?: (c: OnnxCtx, y: number) => number,
): OnnxOpConverter {
  return (c) => {
    floatOnly(c);
    const r = c.rank(0);
    const axes0 = axesArg(c, 1, axesInputFrom);
    if ((!axes0 || axes0.length === 0) && c.attr.i('noop_with_empty_axes', 0) === 1) return [c.value(0)];
    const axes = new Set((axes0?.length ? axes0 : Array.from({ length: r }, (_v, i) => i)).map((a) => normAxis(a, r)));
    const keep = c.attr.i('keepdims', 1) === 1;
    const p = c.perm(0);
    let x = c.tensor(0, p);
    if (pre) x = pre(c, x);
    const phys = [...axes].map((a) => (p ? p.indexOf(a) : a)).sort((a, b) => a - b);
    const name = post ? `${c.name}/reduce` : c.out();
    let y = c.b.op(
      type,
      [x, c.b.constant(`${c.name}/axes`, 'int32', [phys.length], phys)],
      { keepDims: keep },
      { outputs: [{ name }] },
    )[0]!;
    if (post) y = post(c, y);
    return [tensorVal(y, keep ? p : dropAxes(p, r, axes))];
  };
}

function argMinMax(type: 'ARG_MAX' | 'ARG_MIN'): OnnxOpConverter {
  return (c) => {
    const last = c.attr.i('select_last_index', 0) === 1;
    const r = c.rank(0);
    const axis = normAxis(c.attr.i('axis', 0), r);
    const keep = c.attr.i('keepdims', 1) === 1;
    const p = c.perm(0);
    let x = c.tensor(0, p);
    const pa = p ? p.indexOf(axis) : axis;
    const full = c.b.g.tensor(x).shape;
    const phys = full.filter((_d, i) => i !== pa);
    // the last index of ties: the first one along the reversed axis, counted from the end
    if (last)
      x = c.b.op(
        'REVERSE_V2',
        [x, c.b.constant(`${c.name}/rev_axis`, 'int32', [1], [pa])],
        {},
        { outputs: [{ name: `${c.name}/reversed`, shape: full, dtype: c.dtype(0) }] },
      )[0]!;
    let y = c.b.op(
      type,
      [x, c.b.constant(`${c.name}/axis`, 'int32', [1], [pa])],
      { outputType: TensorType.INT64 },
      { outputs: [{ name: keep || last ? `${c.name}/arg` : c.out(), shape: phys, dtype: 'int64' }] },
    )[0]!;
    if (last)
      y = c.b.op(
        'SUB',
        [c.b.constant(`${c.name}/last`, 'int64', [], [full[pa]! - 1]), y],
        { fusedActivationFunction: 0 },
        { outputs: [{ name: keep ? `${c.name}/arg_last` : c.out(), shape: phys, dtype: 'int64' }] },
      )[0]!;
    if (!keep) return [tensorVal(y, dropAxes(p, r, new Set([axis])))];
    const kept = [...phys];
    kept.splice(pa, 0, 1);
    y = c.b.reshape(y, kept, { name: c.out() });
    return [tensorVal(y, p)];
  };
}

function softmax(type: 'SOFTMAX' | 'LOG_SOFTMAX'): OnnxOpConverter {
  return (c) => {
    floatOnly(c);
    const r = c.rank(0);
    const fields = type === 'SOFTMAX' ? { beta: 1 } : {};
    if (c.opset < 13) {
      const axis = normAxis(c.attr.i('axis', 1), r);
      const s = c.shape(0);
      const x = c.tensor(0, null);
      const flat =
        axis === r - 1
          ? x
          : c.b.reshape(x, [numElements(s.slice(0, axis)), numElements(s.slice(axis))], { name: `${c.name}/2d` });
      const y = c.b.op(type, [flat], fields, { outputs: [{ name: axis === r - 1 ? c.out() : `${c.name}/flat` }] })[0]!;
      return [tensorVal(axis === r - 1 ? y : c.b.reshape(y, s, { name: c.out() }))];
    }
    const axis = normAxis(c.attr.i('axis', -1), r);
    const p = c.perm(0) ?? Array.from({ length: r }, (_v, i) => i);
    // physical order with the softmax axis last
    const target = [...p.filter((l) => l !== axis), axis];
    const x = c.tensor(0, norm(target));
    return [tensorVal(c.b.op(type, [x], fields, { outputs: [{ name: c.out() }] })[0]!, norm(target))];
  };
}

function concat(c: OnnxCtx): Value[] {
  const idx = Array.from({ length: c.n }, (_v, i) => i).filter((i) => c.has(i) && numElements(c.shape(i)) > 0);
  const r = c.rank(idx[0]!);
  const axis = normAxis(c.attr.i('axis', 0), r);
  if (idx.length === 1) return [c.value(idx[0]!)];
  const { ids, perm } = operands(c, idx);
  const pa = perm ? perm.indexOf(axis) : axis;
  return [tensorVal(c.b.concat(ids, pa, { name: c.out() }), perm)];
}

function transposeOp(c: OnnxCtx): Value[] {
  const r = c.rank(0);
  const q = c.attr.ints('perm') ?? Array.from({ length: r }, (_v, i) => r - 1 - i);
  const v = c.value(0);
  if (v.kind === 'const')
    return [constVal({ dtype: v.c.dtype, shape: q.map((x) => v.c.shape[x]!), v: permuteValues(v.c.v, v.c.shape, q) })];
  // no data moves: the result is the same IR tensor, read through a composed permutation
  const p = v.perm ?? Array.from({ length: r }, (_v, i) => i);
  const qi = inversePerm(q);
  return [tensorVal(v.id, norm(p.map((x) => qi[x]!)))];
}

function pad(c: OnnxCtx): Value[] {
  const mode = c.attr.s('mode', 'constant');
  const r = c.rank(0);
  let pads = c.opset >= 11 ? c.ints(1) : (c.attr.ints('pads') ?? c.attr.ints('paddings')!);
  const value = c.opset >= 11 ? (c.has(2) ? c.const(2).v[0]! : 0) : c.attr.f('value', 0);
  if (c.opset >= 18 && c.has(3)) {
    const axes = c.ints(3).map((a) => normAxis(a, r));
    const full = new Array<number>(2 * r).fill(0);
    axes.forEach((a, k) => {
      full[a] = pads[k]!;
      full[a + r] = pads[k + axes.length]!;
    });
    pads = full;
  }
  if (pads.some((x) => x < 0)) throw c.refuse('negative pads (cropping)', 'Use Slice to crop');
  const p = c.perm(0);
  const x = c.tensor(0, p);
  const logical = Array.from({ length: r }, (_v, i) => [pads[i]!, pads[i + r]!]);
  const phys = (p ?? logical.map((_v, i) => i)).map((l) => logical[l]!);
  const pc = c.b.constant(`${c.name}/paddings`, 'int32', [r, 2], phys.flat());
  const shape = applyPerm(
    c.shape(0).map((d, i) => d + pads[i]! + pads[i + r]!),
    p,
  );
  if (mode === 'constant') {
    if (value === 0) return [tensorVal(one(c, 'PAD', [x, pc], {}, shape), p)];
    return [
      tensorVal(one(c, 'PADV2', [x, pc, c.b.constant(`${c.name}/value`, c.dtype(0), [], [value])], {}, shape), p),
    ];
  }
  if (mode === 'reflect') return [tensorVal(one(c, 'MIRROR_PAD', [x, pc], { mode: MirrorPadMode.REFLECT }, shape), p)];
  if (mode === 'edge') return [tensorVal(edgePad(c, x, phys), p)];
  throw c.refuse(`${mode} padding`, 'TFLite pads with a constant, by reflection or (through Kiln) by edge repetition');
}

/** Edge padding, axis by axis: the first and last slices repeated (TILE) and concatenated around the tensor. */
function edgePad(c: OnnxCtx, x0: number, pads: number[][]): number {
  let x = x0;
  const dtype = c.b.g.tensor(x0).dtype;
  pads.forEach(([before, after], axis) => {
    if (!before && !after) return;
    const shape = c.b.g.tensor(x).shape;
    const r = shape.length;
    const edge = (at: number, times: number, tag: string): number => {
      const size = shape.map((d, i) => (i === axis ? 1 : d));
      const begin = shape.map((_d, i) => (i === axis ? at : 0));
      const sl = c.b.op(
        'SLICE',
        [
          x,
          c.b.constant(`${c.name}/${tag}/begin`, 'int32', [r], begin),
          c.b.constant(`${c.name}/${tag}/size`, 'int32', [r], size),
        ],
        {},
        { outputs: [{ name: `${c.name}/${tag}/edge`, shape: size, dtype }] },
      )[0]!;
      if (times === 1) return sl;
      const mult = shape.map((_d, i) => (i === axis ? times : 1));
      return c.b.op(
        'TILE',
        [sl, c.b.constant(`${c.name}/${tag}/multiples`, 'int32', [r], mult)],
        {},
        { outputs: [{ name: `${c.name}/${tag}/tiled`, shape: size.map((d, i) => (i === axis ? times : d)), dtype }] },
      )[0]!;
    };
    const parts = [
      ...(before ? [edge(0, before, `a${axis}b`)] : []),
      x,
      ...(after ? [edge(shape[axis]! - 1, after, `a${axis}e`)] : []),
    ];
    x = c.b.concat(parts, axis, { name: `${c.name}/axis${axis}` });
  });
  return x;
}

function resize(c: OnnxCtx): Value[] {
  floatOnly(c);
  if (c.rank(0) !== 4) throw c.refuse(`resizing a rank-${c.rank(0)} tensor`);
  const s = c.shape(0);
  let size: number[];
  const upsample = c.node.opType === 'Upsample';
  const scalesAt = upsample || c.opset === 10 ? 1 : 2;
  if (upsample && c.opset < 9) size = s.map((d, i) => Math.floor(d * c.attr.floats('scales')![i]!));
  else if (!upsample && c.opset >= 11 && c.has(3) && numElements(c.shape(3)) > 0) size = c.ints(3);
  else size = s.map((d, i) => Math.floor(d * c.const(scalesAt).v[i]!));
  if (c.opset >= 18 && c.attr.ints('axes')) throw c.refuse('the axes attribute');
  if (size[0] !== s[0] || size[1] !== s[1]) throw c.refuse('resizing over batch or channels');
  const mode = c.attr.s('mode', 'nearest');
  const ctm = upsample || c.opset < 11 ? 'asymmetric' : c.attr.s('coordinate_transformation_mode', 'half_pixel');
  const nearestMode = c.attr.s('nearest_mode', 'round_prefer_floor');
  const cl = channelsLast(4);
  const x = c.tensor(0, cl);
  const sz = c.b.constant(`${c.name}/size`, 'int32', [2], [size[2]!, size[3]!]);
  const out = (type: string, fields: Record<string, unknown>): Value[] => [
    tensorVal(one(c, type, [x, sz], fields), cl),
  ];
  const integerUp = size[2]! % s[2]! === 0 && size[3]! % s[3]! === 0;
  if (mode === 'nearest') {
    if (
      ctm === 'asymmetric' &&
      (nearestMode === 'floor' || upsample || c.opset < 11 || (integerUp && nearestMode !== 'ceil'))
    )
      return out('RESIZE_NEAREST_NEIGHBOR', { alignCorners: false, halfPixelCenters: false });
    if ((ctm === 'half_pixel' || ctm === 'pytorch_half_pixel') && (nearestMode === 'round_prefer_ceil' || integerUp))
      return out('RESIZE_NEAREST_NEIGHBOR', { alignCorners: false, halfPixelCenters: true });
    if (ctm === 'align_corners' && nearestMode === 'round_prefer_ceil')
      return out('RESIZE_NEAREST_NEIGHBOR', { alignCorners: true, halfPixelCenters: false });
    throw c.refuse(
      `nearest resize with ${ctm} coordinates and ${nearestMode} rounding`,
      'TFLite rounds nearest-neighbour coordinates as asymmetric+floor or half_pixel+round_prefer_ceil',
    );
  }
  if (mode === 'linear' || mode === 'bilinear') {
    if (ctm === 'half_pixel' || (ctm === 'pytorch_half_pixel' && size[2]! > 1 && size[3]! > 1))
      return out('RESIZE_BILINEAR', { alignCorners: false, halfPixelCenters: true });
    if (ctm === 'align_corners') return out('RESIZE_BILINEAR', { alignCorners: true, halfPixelCenters: false });
    if (ctm === 'asymmetric') return out('RESIZE_BILINEAR', { alignCorners: false, halfPixelCenters: false });
    throw c.refuse(`linear resize with ${ctm} coordinates`);
  }
  throw c.refuse(`${mode} interpolation`, 'TFLite resizes with nearest or bilinear interpolation');
}

function gather(c: OnnxCtx): Value[] {
  const r = c.rank(0);
  const axis = normAxis(c.attr.i('axis', 0), r);
  const p = c.perm(0);
  const idxRank = c.rank(1);
  const keepLayout = idxRank <= 1 && p !== null;
  const x = c.tensor(0, keepLayout ? p : null);
  const pa = keepLayout ? p!.indexOf(axis) : axis;
  const d = c.shape(0)[axis]!;
  const idx = c.isConst(1)
    ? c.b.constant(
        `${c.name}/indices`,
        'int32',
        c.shape(1),
        Int32Array.from(c.const(1).v, (i) => (i < 0 ? i + d : i)),
      )
    : c.tensor(1, null);
  const phys = c.b.g.tensor(x).shape;
  const shape = [...phys.slice(0, pa), ...c.shape(1), ...phys.slice(pa + 1)];
  const y = one(c, 'GATHER', [x, idx], { axis: pa }, shape, c.dtype(0));
  if (!keepLayout) return [tensorVal(y)];
  return [tensorVal(y, idxRank === 1 ? p : dropAxes(p, r, new Set([axis])))];
}

function castTo(c: OnnxCtx, x: number, to: DType, name: string): number {
  const from = c.b.g.tensor(x).dtype;
  if (from === to) return x;
  return c.b.op(
    'CAST',
    [x],
    { inDataType: TT[from], outDataType: TT[to] },
    { outputs: [{ name, dtype: to, shape: c.b.g.tensor(x).shape }] },
  )[0]!;
}

function slice(c: OnnxCtx): Value[] {
  const s = c.shape(0);
  const r = s.length;
  const prm =
    c.opset >= 10
      ? sliceParams(s, c.ints(1), c.ints(2), c.has(3) ? c.ints(3) : undefined, c.has(4) ? c.ints(4) : undefined)
      : sliceParams(s, c.attr.ints('starts')!, c.attr.ints('ends')!, c.attr.ints('axes'), undefined);
  const p = c.perm(0);
  const x = c.tensor(0, p);
  const order = p ?? Array.from({ length: r }, (_v, i) => i);
  const begin = order.map((l) => prm.start[l]!);
  const strides = order.map((l) => prm.step[l]!);
  const end = order.map((l) => prm.start[l]! + prm.count[l]! * prm.step[l]!);
  let endMask = 0;
  end.forEach((e, i) => {
    if (e < 0) endMask |= 1 << i;
  });
  const k = (n: string, v: number[]): number => c.b.constant(`${c.name}/${n}`, 'int32', [r], v);
  const shape = applyPerm(prm.count, p);
  const y = one(
    c,
    'STRIDED_SLICE',
    [
      x,
      k('begin', begin),
      k(
        'end',
        end.map((e) => Math.max(e, 0)),
      ),
      k('strides', strides),
    ],
    { beginMask: 0, endMask, shrinkAxisMask: 0 },
    shape,
  );
  return [tensorVal(y, p)];
}

function split(c: OnnxCtx): Value[] {
  const r = c.rank(0);
  const axis = normAxis(c.attr.i('axis', 0), r);
  const d = c.shape(0)[axis]!;
  const count = c.node.output.length;
  let sizes = c.opset >= 13 ? (c.has(1) ? c.ints(1) : undefined) : c.attr.ints('split');
  if (!sizes || sizes.length === 0) {
    const n = c.attr.i('num_outputs', count);
    const each = Math.ceil(d / n);
    sizes = Array.from({ length: n }, (_v, i) => Math.min(each, d - i * each));
  }
  const p = c.perm(0);
  const x = c.tensor(0, p);
  const pa = p ? p.indexOf(axis) : axis;
  const phys = c.b.g.tensor(x).shape;
  const outs = c.b.op(
    'SPLIT_V',
    [
      x,
      c.b.constant(`${c.name}/sizes`, 'int32', [sizes.length], sizes),
      c.b.constant(`${c.name}/axis`, 'int32', [], [pa]),
    ],
    { numSplits: sizes.length },
    {
      outputs: sizes.map((sz, i) => ({
        name: c.out(i),
        dtype: c.dtype(0),
        shape: phys.map((e, k) => (k === pa ? sz : e)),
      })),
    },
  );
  return outs.map((o) => tensorVal(o, p));
}

function where(c: OnnxCtx): Value[] {
  const { ids, perm, shape } = operands(c, [0, 1, 2]);
  const dtype = c.dtype(1) === 'float64' ? F32 : c.dtype(1);
  const fixed = ids.map((id, k) =>
    k === 0 ? id : c.b.g.tensor(id).dtype === dtype ? id : castTo(c, id, dtype, `${c.name}/cast${k}`),
  );
  return [tensorVal(one(c, 'SELECT_V2', fixed, {}, applyPerm(shape, perm), dtype), perm)];
}

function expand(c: OnnxCtx): Value[] {
  const target = broadcastShapes(c.shape(0), c.ints(1));
  const p = c.rank(0) === target.length ? c.perm(0) : null;
  const x = c.tensor(0, p);
  const phys = applyPerm(target, p);
  return [
    tensorVal(
      one(c, 'BROADCAST_TO', [x, c.b.constant(`${c.name}/shape`, 'int32', [phys.length], phys)], {}, phys, c.dtype(0)),
      p,
    ),
  ];
}

function tile(c: OnnxCtx): Value[] {
  const p = c.perm(0);
  const reps = applyPerm(c.ints(1), p);
  const x = c.tensor(0, p);
  const phys = c.b.g.tensor(x).shape.map((d, i) => d * reps[i]!);
  return [
    tensorVal(
      one(c, 'TILE', [x, c.b.constant(`${c.name}/multiples`, 'int32', [reps.length], reps)], {}, phys, c.dtype(0)),
      p,
    ),
  ];
}

function depthSpace(type: 'DEPTH_TO_SPACE' | 'SPACE_TO_DEPTH'): OnnxOpConverter {
  return (c) => {
    if (type === 'DEPTH_TO_SPACE' && c.attr.s('mode', 'DCR') !== 'DCR')
      throw c.refuse(`${c.attr.s('mode', 'DCR')} mode`, 'TFLite DEPTH_TO_SPACE orders channels as DCR');
    const cl = channelsLast(4);
    return [tensorVal(one(c, type, [c.tensor(0, cl)], { blockSize: c.attr.i('blocksize', 1) }), cl)];
  };
}

function cast(c: OnnxCtx): Value[] {
  const to = ONNX_TO[c.attr.i('to', 1)];
  if (!to) throw c.refuse(`cast to ONNX type ${c.attr.i('to', 1)}`);
  const p = c.perm(0);
  const x = c.tensor(0, p);
  if (c.dtype(0) === to) return [c.value(0)];
  return [tensorVal(castTo(c, x, to, c.out()), p)];
}

const compare = (type: string): OnnxOpConverter => binary(type, 'bool');

function lrn(c: OnnxCtx): Value[] {
  floatOnly(c);
  const size = c.attr.i('size', 1);
  if (size % 2 !== 1) throw c.refuse(`an even window size ${size}`);
  const cl = channelsLast(4);
  const y = one(c, 'LOCAL_RESPONSE_NORMALIZATION', [c.tensor(0, cl)], {
    radius: (size - 1) / 2,
    bias: c.attr.f('bias', 1),
    alpha: c.attr.f('alpha', 1e-4) / size,
    beta: c.attr.f('beta', 0.75),
  });
  return [tensorVal(y, cl)];
}

function prelu(c: OnnxCtx): Value[] {
  floatOnly(c);
  if (c.isConst(1) && numElements(c.shape(1)) === 1) return unary('LEAKY_RELU', () => ({ alpha: c.const(1).v[0]! }))(c);
  if (c.rank(0) > 4) throw c.refuse(`a rank-${c.rank(0)} input`, 'TFLite PRELU takes up to 4-D tensors');
  const { ids, perm, shape } = operands(c, [0, 1]);
  return [tensorVal(one(c, 'PRELU', ids, {}, applyPerm(shape, perm), F32), perm)];
}

const shapeOp: OnnxOpConverter = (c) => {
  const s = c.shape(0);
  const r = s.length;
  let start = c.attr.i('start', 0);
  let end = c.attr.i('end', r);
  if (start < 0) start += r;
  if (end < 0) end += r;
  const v = s.slice(Math.max(0, start), Math.min(r, end));
  return [constVal(makeConst('int64', [v.length], v))];
};

const identity: OnnxOpConverter = (c) => [c.value(0)];

function layerNorm(c: OnnxCtx): Value[] {
  floatOnly(c);
  const r = c.rank(0);
  const axis = normAxis(c.attr.i('axis', -1), r);
  const x = c.tensor(0, null);
  const axes = c.b.constant(
    `${c.name}/axes`,
    'int32',
    [r - axis],
    Array.from({ length: r - axis }, (_v, i) => axis + i),
  );
  const mean = c.b.op('MEAN', [x, axes], { keepDims: true }, { outputs: [{ name: `${c.name}/mean` }] })[0]!;
  const d = c.b.binary('SUB', x, mean, {}, { name: `${c.name}/centered` });
  const v = c.b.op(
    'MEAN',
    [c.b.binary('MUL', d, d), axes],
    { keepDims: true },
    { outputs: [{ name: `${c.name}/var` }] },
  )[0]!;
  const inv = c.b.unary(
    'RSQRT',
    c.b.binary('ADD', v, c.b.constant(`${c.name}/eps`, F32, [], [c.attr.f('epsilon', 1e-5)])),
  );
  let y = c.b.binary(
    'MUL',
    c.b.binary('MUL', d, inv),
    c.tensor(1, null, F32),
    {},
    { name: c.has(2) ? `${c.name}/scaled` : c.out() },
  );
  if (c.has(2)) y = c.b.binary('ADD', y, c.tensor(2, null, F32), {}, { name: c.out() });
  // the optional Mean and InvStdDev outputs keep the reduced axes as 1s
  return [tensorVal(y), tensorVal(mean), tensorVal(inv)];
}

/** Trilu on a static shape: a product with a constant 0/1 mask. */
function trilu(c: OnnxCtx): Value[] {
  const s = c.shape(0);
  if (s.length < 2) throw c.refuse('a tensor of rank below 2');
  if (!ARITH.includes(c.dtype(0))) throw c.refuse(`${c.dtype(0)} values`);
  const k = c.has(1) ? c.const(1).v[0]! : 0;
  const upper = c.attr.i('upper', 1) === 1;
  const [n, m] = s.slice(-2) as [number, number];
  const mask = Array.from({ length: n * m }, (_v, q) => {
    const i = Math.floor(q / m);
    const j = q % m;
    return Number(upper ? j - i >= k : j - i <= k);
  });
  const x = c.tensor(0, null);
  const mk = c.b.constant(`${c.name}/mask`, c.dtype(0), [n, m], mask);
  return [tensorVal(one(c, 'MUL', [x, mk], { fusedActivationFunction: 0 }, s, c.dtype(0)))];
}

function thresholdedRelu(c: OnnxCtx): Value[] {
  floatOnly(c);
  const p = c.perm(0);
  const x = c.tensor(0, p);
  const shape = c.b.g.tensor(x).shape;
  const cond = c.b.op(
    'GREATER',
    [x, c.b.constant(`${c.name}/alpha`, F32, [], [c.attr.f('alpha', 1)])],
    {},
    { outputs: [{ name: `${c.name}/above` }] },
  )[0]!;
  const y = one(c, 'SELECT_V2', [cond, x, c.b.constant(`${c.name}/zero`, F32, [], [0])], {}, shape, F32);
  return [tensorVal(y, p)];
}

function cumsum(c: OnnxCtx): Value[] {
  if (!ARITH.includes(c.dtype(0)) || c.dtype(0) === 'int64') throw c.refuse(`${c.dtype(0)} values`);
  const r = c.rank(0);
  const axis = normAxis(c.ints(1)[0]!, r);
  const p = c.perm(0);
  const x = c.tensor(0, p);
  const pa = p ? p.indexOf(axis) : axis;
  const y = one(
    c,
    'CUMSUM',
    [x, c.b.constant(`${c.name}/axis`, 'int32', [], [pa])],
    { exclusive: c.attr.i('exclusive', 0) === 1, reverse: c.attr.i('reverse', 0) === 1 },
    c.b.g.tensor(x).shape,
    c.dtype(0),
  );
  return [tensorVal(y, p)];
}

function convTranspose(c: OnnxCtx): Value[] {
  need4d(c, 'ConvTranspose');
  if (!c.isConst(1) && c.rank(0) !== 4) throw c.refuse('1-D transposed convolution with run-time weights');
  if (c.has(2) && !c.isConst(2)) throw c.refuse('a bias computed at run time');
  floatOnly(c);
  if (c.attr.i('group', 1) !== 1) throw c.refuse('grouped transposed convolution');
  const dil = c.attr.ints('dilations');
  if (dil && dil.some((d) => d !== 1)) throw c.refuse('dilated transposed convolution');
  const ws = c.shape(1);
  const bias = c.has(2) ? Float32Array.from(c.const(2).v) : null;
  return spatial2d(c, (x, hw, is1d) => {
    const wshape = is1d ? [ws[0]!, ws[1]!, 1, ws[2]!] : ws;
    const [cin, cout, kh, kw] = wshape as [number, number, number, number];
    const k = [kh, kw];
    const sp = is1d ? [hw[1]] : hw;
    const r = sp.length;
    const strides0 = c.attr.ints('strides') ?? new Array<number>(r).fill(1);
    const outPad0 = c.attr.ints('output_padding') ?? new Array<number>(r).fill(0);
    const pads0 = c.attr.ints('pads') ?? new Array<number>(2 * r).fill(0);
    const outShape0 = c.attr.ints('output_shape');
    const autoPad = c.attr.s('auto_pad', 'NOTSET');
    const kk = is1d ? [kw] : k;
    const padsPer = sp.map((inSize, i) => {
      const s = strides0[i]!;
      const full = s * (inSize - 1) + outPad0[i]! + kk[i]!;
      if (outShape0 || autoPad === 'SAME_UPPER' || autoPad === 'SAME_LOWER') {
        const target = outShape0 ? outShape0[outShape0.length - r + i]! : inSize * s;
        const total = full - target;
        // an output larger than the full result: zeros at the end, as output_padding adds them
        if (total < 0) return [0, total];
        const half = Math.floor(total / 2);
        return autoPad === 'SAME_UPPER' ? [half, total - half] : [total - half, half];
      }
      if (autoPad === 'VALID') return [0, 0];
      return [pads0[i]!, pads0[i + r]!];
    });
    const extra = padsPer.map(([, e]) => Math.max(0, -e!));
    const padsPos = padsPer.map(([b, e]) => [b!, Math.max(0, e!)]);
    const pads = is1d ? [[0, 0], padsPos[0]!] : padsPos;
    const strides = is1d ? [1, strides0[0]!] : strides0;
    const outPad1 = outPad0.map((v, i) => v + extra[i]!);
    const outPad = is1d ? [0, outPad1[0]!] : outPad1;
    const s4 = c.b.g.tensor(x).shape;
    const fullH = strides[0]! * (s4[1]! - 1) + kh;
    const fullW = strides[1]! * (s4[2]! - 1) + kw;
    // weights [in, out, kh, kw] → TFLite's [out, kh, kw, in]
    const wid = c.isConst(1)
      ? c.b.constant(
          `${c.name}/kernel`,
          F32,
          [cout, kh, kw, cin],
          permuteValues(Float32Array.from(c.const(1).v), wshape, [1, 2, 3, 0]),
        )
      : c.tensor(1, [1, 2, 3, 0]);
    const shapeC = c.b.constant(`${c.name}/output_shape`, 'int32', [4], [s4[0]!, fullH, fullW, cout]);
    let y = c.b.op(
      'TRANSPOSE_CONV',
      [shapeC, wid, x],
      { padding: 1, strideH: strides[0]!, strideW: strides[1]! },
      { outputs: [{ name: `${c.name}/full`, shape: [s4[0]!, fullH, fullW, cout], dtype: F32 }] },
    )[0]!;
    // output_padding adds rows/columns at the end (zeros before the bias); pads crop
    const endH = fullH + outPad[0]! - pads[0]![1]!;
    const endW = fullW + outPad[1]! - pads[1]![1]!;
    if (outPad.some((v) => v > 0)) {
      y = emitPad(
        c.b,
        y,
        [
          [0, 0],
          [0, outPad[0]!],
          [0, outPad[1]!],
          [0, 0],
        ],
        `${c.name}/output_padding`,
      );
    }
    const oh = endH - pads[0]![0]!;
    const ow = endW - pads[1]![0]!;
    if (pads.some(([a, e]) => a! > 0 || e! > 0)) {
      y = c.b.op(
        'SLICE',
        [
          y,
          c.b.constant(`${c.name}/begin`, 'int32', [4], [0, pads[0]![0]!, pads[1]![0]!, 0]),
          c.b.constant(`${c.name}/size`, 'int32', [4], [s4[0]!, oh, ow, cout]),
        ],
        {},
        { outputs: [{ name: `${c.name}/cropped`, shape: [s4[0]!, oh, ow, cout], dtype: F32 }] },
      )[0]!;
    }
    const name = is1d ? `${c.name}/deconv2d` : c.out();
    if (bias) return c.b.binary('ADD', y, c.b.constant(`${c.name}/bias`, F32, [cout], bias), {}, { name });
    return c.b.reshape(y, [s4[0]!, oh, ow, cout], { name });
  });
}

/** A float32 result of a boolean test: CAST(bool → float32). */
function boolToFloat(c: OnnxCtx, x: number, name: string): number {
  return castTo(c, x, F32, name);
}

/** Sign(x) = (x > 0) − (x < 0). */
const sign = composite((c, x) => {
  const zero = c.b.constant(`${c.name}/zero`, F32, [], [0]);
  const pos = boolToFloat(
    c,
    c.b.op('GREATER', [x, zero], {}, { outputs: [{ name: `${c.name}/gt` }] })[0]!,
    `${c.name}/pos`,
  );
  const neg = boolToFloat(
    c,
    c.b.op('LESS', [x, zero], {}, { outputs: [{ name: `${c.name}/lt` }] })[0]!,
    `${c.name}/neg`,
  );
  return c.b.binary('SUB', pos, neg, {}, { name: c.out() });
});

/** (exp(x) ∓ exp(−x)) / 2. */
const hyperbolic = (type: 'SUB' | 'ADD'): OnnxOpConverter =>
  composite((c, x) => {
    const d = c.b.binary(type, c.b.unary('EXP', x), c.b.unary('EXP', c.b.unary('NEG', x)));
    return c.b.binary('MUL', d, c.b.constant(`${c.name}/half`, F32, [], [0.5]), {}, { name: c.out() });
  });

function isNaN(c: OnnxCtx): Value[] {
  floatOnly(c);
  const p = c.perm(0);
  const x = c.tensor(0, p);
  return [tensorVal(one(c, 'NOT_EQUAL', [x, x], {}, c.b.g.tensor(x).shape, 'bool'), p)];
}

function isInf(c: OnnxCtx): Value[] {
  floatOnly(c);
  const p = c.perm(0);
  const x = c.tensor(0, p);
  const shape = c.b.g.tensor(x).shape;
  const pos = c.attr.i('detect_positive', 1) === 1;
  const neg = c.attr.i('detect_negative', 1) === 1;
  const eq = (v: number, name: string): number =>
    c.b.op(
      'EQUAL',
      [x, c.b.constant(`${name}/value`, F32, [], [v])],
      {},
      { outputs: [{ name, shape, dtype: 'bool' }] },
    )[0]!;
  if (pos && neg)
    return [
      tensorVal(
        one(c, 'LOGICAL_OR', [eq(Infinity, `${c.name}/pos`), eq(-Infinity, `${c.name}/neg`)], {}, shape, 'bool'),
        p,
      ),
    ];
  // neither sign asked for: always false
  if (!pos && !neg)
    return [
      tensorVal(
        one(c, 'LOGICAL_AND', [eq(Infinity, `${c.name}/pos`), eq(-Infinity, `${c.name}/neg`)], {}, shape, 'bool'),
        p,
      ),
    ];
  return [tensorVal(eq(pos ? Infinity : -Infinity, c.out()), p)];
}

/** Hardmax: one-hot of the arg-max along the axis (opset 13: one axis; earlier opsets flatten from the axis). */
function hardmax(c: OnnxCtx): Value[] {
  floatOnly(c);
  const r = c.rank(0);
  const s = c.shape(0);
  const x0 = c.tensor(0, null);
  let x = x0;
  let axis: number;
  if (c.opset < 13) {
    const a = normAxis(c.attr.i('axis', 1), r);
    x = c.b.reshape(x0, [numElements(s.slice(0, a)), numElements(s.slice(a))], { name: `${c.name}/2d` });
    axis = 1;
  } else axis = normAxis(c.attr.i('axis', -1), r);
  const xs = c.b.g.tensor(x).shape;
  const depth = xs[axis]!;
  const idxShape = xs.filter((_d, i) => i !== axis);
  const idx = c.b.op(
    'ARG_MAX',
    [x, c.b.constant(`${c.name}/axis`, 'int32', [1], [axis])],
    { outputType: TensorType.INT32 },
    { outputs: [{ name: `${c.name}/argmax`, shape: idxShape, dtype: 'int32' }] },
  )[0]!;
  const y = c.b.op(
    'ONE_HOT',
    [
      idx,
      c.b.constant(`${c.name}/depth`, 'int32', [], [depth]),
      c.b.constant(`${c.name}/on`, F32, [], [1]),
      c.b.constant(`${c.name}/off`, F32, [], [0]),
    ],
    { axis },
    { outputs: [{ name: c.opset < 13 ? `${c.name}/onehot` : c.out(), shape: xs, dtype: F32 }] },
  )[0]!;
  return [tensorVal(c.opset < 13 ? c.b.reshape(y, s, { name: c.out() }) : y)];
}

/** log(x + √(x² ± 1)): asinh (+) and acosh (−). */
const inverseHyperbolic = (k: number): OnnxOpConverter =>
  composite((c, x) => {
    const r = c.b.unary('SQRT', c.b.binary('ADD', c.b.binary('MUL', x, x), c.b.constant(`${c.name}/k`, F32, [], [k])));
    return c.b.unary('LOG', c.b.binary('ADD', x, r), { name: c.out() });
  });

export const ONNX_OPS: Record<string, OnnxOpConverter> = {
  Sign: sign,
  Asinh: inverseHyperbolic(1),
  Acosh: inverseHyperbolic(-1),
  Atanh: composite((c, x) => {
    const one1 = c.b.constant(`${c.name}/one`, F32, [], [1]);
    const q = c.b.binary('DIV', c.b.binary('ADD', one1, x), c.b.binary('SUB', one1, x));
    return c.b.binary(
      'MUL',
      c.b.unary('LOG', q),
      c.b.constant(`${c.name}/half`, F32, [], [0.5]),
      {},
      { name: c.out() },
    );
  }),
  Sinh: hyperbolic('SUB'),
  Cosh: hyperbolic('ADD'),
  IsNaN: isNaN,
  IsInf: isInf,
  Hardmax: hardmax,
  CastLike: (c) => {
    const to = c.dtype(1);
    const p = c.perm(0);
    if (c.dtype(0) === to) return [c.value(0)];
    if (!TT[to]) throw c.refuse(`cast to ${to}`);
    return [tensorVal(castTo(c, c.tensor(0, p), to, c.out()), p)];
  },
  LayerNormalization: layerNorm,
  Trilu: trilu,
  ThresholdedRelu: thresholdedRelu,
  CumSum: cumsum,
  ConvTranspose: convTranspose,
  Mod: (c) => {
    if (c.attr.i('fmod', 0) === 1)
      throw c.refuse('fmod=1 (C remainder)', 'TFLite has the floored remainder (FLOOR_MOD) only');
    return binary('FLOOR_MOD')(c);
  },
  Tan: composite((c, x) => c.b.binary('DIV', c.b.unary('SIN', x), c.b.unary('COS', x), {}, { name: c.out() })),
  Identity: identity,
  Dropout: (c) => {
    if (c.opset >= 12 && c.has(2) && (!c.isConst(2) || c.const(2).v[0]))
      throw c.refuse('dropout in training mode', 'Export the model in eval mode (model.eval())');
    if (c.opset < 7 && c.attr.i('is_test', 0) === 0 && c.node.output.length > 1 && c.node.output[1])
      throw c.refuse('dropout in training mode (its mask output is used)');
    return [c.value(0)];
  },
  Conv: conv,
  MaxPool: pool('MAX_POOL_2D'),
  AveragePool: pool('AVERAGE_POOL_2D'),
  GlobalAveragePool: globalPool('MEAN'),
  GlobalMaxPool: globalPool('REDUCE_MAX'),
  BatchNormalization: batchNorm,
  InstanceNormalization: instanceNorm,
  LRN: lrn,
  Gemm: gemm,
  MatMul: matmul,
  Add: binary('ADD'),
  Sub: binary('SUB'),
  Mul: binary('MUL'),
  Div: (c) => {
    if (c.dtype(0) !== F32) throw c.refuse(`division of ${c.dtype(0)}`, 'TFLite divides float32');
    return binary('DIV')(c);
  },
  Pow: (c) => {
    floatOnly(c);
    if (!c.isConst(1)) floatOnly(c, 1);
    return binary('POW')(c);
  },
  Max: variadic('MAXIMUM'),
  Min: variadic('MINIMUM'),
  Sum: variadic('ADD'),
  Mean: variadic('ADD', true),
  Equal: compare('EQUAL'),
  Less: compare('LESS'),
  Greater: compare('GREATER'),
  LessOrEqual: compare('LESS_EQUAL'),
  GreaterOrEqual: compare('GREATER_EQUAL'),
  And: compare('LOGICAL_AND'),
  Or: compare('LOGICAL_OR'),
  Xor: compare('NOT_EQUAL'),
  Not: (c) => {
    const x = c.tensor(0, c.perm(0));
    return [tensorVal(one(c, 'LOGICAL_NOT', [x], {}, c.b.g.tensor(x).shape, 'bool'), c.perm(0))];
  },
  Where: where,
  Relu: unary('RELU'),
  Sigmoid: unary('LOGISTIC'),
  Tanh: unary('TANH'),
  Exp: unary('EXP'),
  Log: unary('LOG'),
  Sqrt: unary('SQRT'),
  Abs: unary('ABS'),
  Neg: unary('NEG'),
  Floor: unary('FLOOR'),
  Ceil: unary('CEIL'),
  Round: unary('ROUND'),
  Sin: unary('SIN'),
  Cos: unary('COS'),
  HardSwish: unary('HARD_SWISH'),
  LeakyRelu: unary('LEAKY_RELU', (c) => ({ alpha: c.attr.f('alpha', 0.01) })),
  Gelu: unary('GELU', (c) => ({ approximate: c.attr.s('approximate', 'none') === 'tanh' })),
  Elu: (c) => {
    const alpha = c.attr.f('alpha', 1);
    if (alpha === 1) return unary('ELU')(c);
    return composite((cc, x) => {
      const neg = cc.b.binary(
        'SUB',
        cc.b.unary('EXP', cc.b.op('MINIMUM', [x, cc.b.constant(`${cc.name}/zero`, F32, [], [0])])[0]!),
        cc.b.constant(`${cc.name}/one`, F32, [], [1]),
      );
      return cc.b.binary(
        'ADD',
        cc.b.unary('RELU', x),
        cc.b.binary('MUL', neg, cc.b.constant(`${cc.name}/alpha`, F32, [], [alpha])),
        {},
        { name: cc.out() },
      );
    })(c);
  },
  Selu: composite((c, x) => {
    const alpha = c.attr.f('alpha', 1.67326319217681884765625);
    const gamma = c.attr.f('gamma', 1.05070102214813232421875);
    const neg = c.b.binary(
      'SUB',
      c.b.unary('EXP', c.b.op('MINIMUM', [x, c.b.constant(`${c.name}/zero`, F32, [], [0])])[0]!),
      c.b.constant(`${c.name}/one`, F32, [], [1]),
    );
    const sum = c.b.binary(
      'ADD',
      c.b.unary('RELU', x),
      c.b.binary('MUL', neg, c.b.constant(`${c.name}/alpha`, F32, [], [alpha])),
    );
    return c.b.binary('MUL', sum, c.b.constant(`${c.name}/gamma`, F32, [], [gamma]), {}, { name: c.out() });
  }),
  HardSigmoid: composite((c, x) =>
    minMax(c, scaleShift(c, x, c.attr.f('alpha', 0.2), c.attr.f('beta', 0.5), `${c.name}/affine`), 0, 1),
  ),
  Softplus: composite((c, x) =>
    c.b.unary('LOG', c.b.binary('ADD', c.b.unary('EXP', x), c.b.constant(`${c.name}/one`, F32, [], [1])), {
      name: c.out(),
    }),
  ),
  Softsign: composite((c, x) =>
    c.b.binary(
      'DIV',
      x,
      c.b.binary('ADD', c.b.unary('ABS', x), c.b.constant(`${c.name}/one`, F32, [], [1])),
      {},
      { name: c.out() },
    ),
  ),
  Reciprocal: composite((c, x) =>
    c.b.binary('DIV', c.b.constant(`${c.name}/one`, F32, [], [1]), x, {}, { name: c.out() }),
  ),
  Mish: composite((c, x) => {
    const sp = c.b.unary('LOG', c.b.binary('ADD', c.b.unary('EXP', x), c.b.constant(`${c.name}/one`, F32, [], [1])));
    return c.b.binary('MUL', x, c.b.unary('TANH', sp), {}, { name: c.out() });
  }),
  Clip: clip,
  PRelu: prelu,
  Softmax: softmax('SOFTMAX'),
  LogSoftmax: softmax('LOG_SOFTMAX'),
  ReduceMean: reduce('MEAN', 18),
  ReduceSum: reduce('SUM', 13),
  ReduceMax: reduce('REDUCE_MAX', 18),
  ReduceMin: reduce('REDUCE_MIN', 18),
  ReduceProd: reduce('REDUCE_PROD', 18),
  ReduceSumSquare: reduce('SUM', 18, (c, x) => c.b.unary('SQUARE', x)),
  ReduceL2: reduce(
    'SUM',
    18,
    (c, x) => c.b.unary('SQUARE', x),
    (c, y) => c.b.unary('SQRT', y, { name: c.out() }),
  ),
  ReduceL1: reduce('SUM', 18, (c, x) => c.b.unary('ABS', x)),
  ReduceLogSum: reduce('SUM', 18, undefined, (c, y) => c.b.unary('LOG', y, { name: c.out() })),
  ReduceLogSumExp: reduce(
    'SUM',
    18,
    (c, x) => c.b.unary('EXP', x),
    (c, y) => c.b.unary('LOG', y, { name: c.out() }),
  ),
  ArgMax: argMinMax('ARG_MAX'),
  ArgMin: argMinMax('ARG_MIN'),
  Reshape: (c) =>
    reshapeTo(
      c,
      reshapeTarget(c.shape(0), c.opset >= 5 ? c.ints(1) : c.attr.ints('shape')!, c.attr.i('allowzero', 0) === 1),
    ),
  Flatten: (c) => {
    const s = c.shape(0);
    const axis = flattenAxis(c.attr.i('axis', 1), s.length);
    return reshapeTo(c, [numElements(s.slice(0, axis)), numElements(s.slice(axis))]);
  },
  Squeeze: (c) => {
    const s = c.shape(0);
    const axes = (axesArg(c, 1, 13) ?? []).map((a) => normAxis(a, s.length));
    return reshapeTo(
      c,
      s.filter((d, i) => (axes.length ? !axes.includes(i) : d !== 1)),
    );
  },
  Unsqueeze: (c) => {
    const s = [...c.shape(0)];
    const axes0 = axesArg(c, 1, 13) ?? [];
    const r = s.length + axes0.length;
    for (const a of axes0.map((x) => normAxis(x, r)).sort((x, y) => x - y)) s.splice(a, 0, 1);
    return reshapeTo(c, s);
  },
  Transpose: transposeOp,
  Concat: concat,
  Split: split,
  Slice: slice,
  Gather: gather,
  Pad: pad,
  Resize: resize,
  Upsample: resize,
  DepthToSpace: depthSpace('DEPTH_TO_SPACE'),
  SpaceToDepth: depthSpace('SPACE_TO_DEPTH'),
  Cast: cast,
  Expand: expand,
  Tile: tile,
  Shape: shapeOp,
  Size: (c) => [constVal(makeConst('int64', [], [numElements(c.shape(0))]))],
};

/** Ops whose result is computed only when all inputs are constants (fold.ts); refused otherwise. */
export const CONST_ONLY = new Set(['Constant', 'ConstantOfShape', 'Range']);

export type { ConstVal };
