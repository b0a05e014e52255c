/** Neural-network ONNX ops: convolutions, pools, normalizations, Gemm/MatMul, softmax, LRN, PRelu. */

import { numElements } from '../../../ir/graph.js';
import { normAxis } from '../../../ir/axis.js';
import { broadcastShapes } from '../../../ir/shape-inference.js';
import { emitBatchNorm, emitPad, emitSlice } from '../../emit.js';
import { tensorVal, type OnnxCtx, type Value } from '../context.js';
import { isSamePadding, noPads, windowOf, type Window } from '../geometry.js';
import { applyPerm, channelsLast, norm, permuteValues, type Perm } from '../layout.js';
import { excludePadAveragePool } from './avgpool.js';
import { F32, floatOnly, need4d, one, operands, unary, type OnnxOpConverter } from './common.js';

/** Runs a 2-D op on an NCHW-style input: 1-D (rank 3) inputs become [N, 1, W, C]. Returns the NHWC result, re-ranked. */
export function spatial2d(c: OnnxCtx, f: (x: number, hw: [number, number], one: boolean) => number): Value[] {
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
export const as2d = (w: Window, is1d: boolean): Window =>
  is1d
    ? {
        kernel: [1, w.kernel[0]!],
        strides: [1, w.strides[0]!],
        dilations: [1, w.dilations[0]!],
        pads: [[0, 0], w.pads[0]!],
      }
    : w;

export function conv(c: OnnxCtx): Value[] {
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
export function runtimeConv(c: OnnxCtx): Value[] {
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

export function pool(type: 'MAX_POOL_2D' | 'AVERAGE_POOL_2D'): OnnxOpConverter {
  return (c) => {
    floatOnly(c);
    // MaxPool's Indices output is computed by pool-indices.ts, which hands this only the values
    if (c.node.output.length > 1 && c.node.output[1])
      throw c.refuse('the Indices output', 'TFLite max pooling does not return indices');
    const dil = c.attr.ints('dilations');
    if (dil && dil.some((d) => d !== 1)) {
      const st = c.attr.ints('strides') ?? dil.map(() => 1);
      const taps = (c.attr.ints('kernel_shape') ?? []).reduce((a, b) => a * b, 1);
      if (type !== 'MAX_POOL_2D' || (dil.some((d, i) => st[i]! % d !== 0) && (taps > MAX_TAPS || ceilMode(c))))
        throw c.refuse(
          'dilated pooling',
          `TFLite pools have no dilation; Kiln converts dilated max pooling whose strides are multiples of the dilations, or with up to ${MAX_TAPS} window taps and ceil_mode=0`,
        );
      if (dil.some((d, i) => st[i]! % d !== 0)) return spatial2d(c, (x, hw, is1d) => tapMaxPool(c, x, hw, is1d));
      return spatial2d(c, (x, hw, is1d) => dilatedMaxPool(c, x, hw, is1d));
    }
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
      if (type === 'AVERAGE_POOL_2D' && !includePad) return excludePadAveragePool(c, x, win, hw, name);
      if (type === 'AVERAGE_POOL_2D' && c.attr.i('ceil_mode', 0) === 1)
        throw c.refuse(
          'ceil_mode=1 average pooling that counts the padding (count_include_pad=1) in the average',
          'Export with ceil_mode=0 or count_include_pad=0',
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

/** Window taps up to which a dilated max pool becomes a MAXIMUM over shifted strided views. */
const MAX_TAPS = 64;

const ceilMode = (c: OnnxCtx): boolean => c.attr.i('ceil_mode', 0) === 1;

/** The (−∞-)padded input of a max pool, and its shape. */
function maxPoolPadded(c: OnnxCtx, x: number, win: { pads: number[][] }): { padded: number; ps: number[] } {
  const s = c.b.g.tensor(x).shape;
  const pads = [[0, 0], win.pads[0]!, win.pads[1]!, [0, 0]];
  const ps = s.map((d, i) => d + pads[i]![0]! + pads[i]![1]!);
  if (pads.every(([a, b]) => !a && !b)) return { padded: x, ps };
  const padded = c.b.op(
    'PADV2',
    [
      x,
      c.b.constant(`${c.name}/paddings`, 'int32', [4, 2], pads.flat()),
      c.b.constant(`${c.name}/pad_value`, F32, [], [-3.4028234663852886e38]),
    ],
    {},
    { outputs: [{ name: `${c.name}/pad`, shape: ps, dtype: F32 }] },
  )[0]!;
  return { padded, ps };
}

/**
 * Dilated max pooling with any strides (ceil_mode=0): the maximum over the window's taps, each tap the input shifted
 * by (i·dh, j·dw) and read with the pool's strides (STRIDED_SLICE), combined with MAXIMUM.
 */
function tapMaxPool(c: OnnxCtx, x: number, hw: [number, number], is1d: boolean): number {
  const win = as2d(windowOf(c, is1d ? [hw[1]] : hw, c.attr.ints('kernel_shape')!, false), is1d);
  const { padded, ps } = maxPoolPadded(c, x, win);
  const [kh, kw] = win.kernel as [number, number];
  const [dh, dw] = win.dilations as [number, number];
  const [sh, sw] = win.strides as [number, number];
  const oh = Math.floor((ps[1]! - (kh - 1) * dh - 1) / sh) + 1;
  const ow = Math.floor((ps[2]! - (kw - 1) * dw - 1) / sw) + 1;
  const shape = [ps[0]!, oh, ow, ps[3]!];
  const k = (what: string, v: number[]): number => c.b.constant(`${c.name}/${what}`, 'int32', [4], v);
  const strides = k('tap_strides', [1, sh, sw, 1]);
  let y: number | undefined;
  for (let i = 0; i < kh; i++)
    for (let j = 0; j < kw; j++) {
      const b = [0, i * dh, j * dw, 0];
      const e = [ps[0]!, i * dh + (oh - 1) * sh + 1, j * dw + (ow - 1) * sw + 1, ps[3]!];
      const last = i === kh - 1 && j === kw - 1;
      const tap = c.b.op(
        'STRIDED_SLICE',
        [padded, k(`tap${i}_${j}_begin`, b), k(`tap${i}_${j}_end`, e), strides],
        { beginMask: 0, endMask: 0, shrinkAxisMask: 0 },
        { outputs: [{ name: `${c.name}/tap${i}_${j}`, shape, dtype: F32 }] },
      )[0]!;
      const name = last ? (is1d ? `${c.name}/pool2d` : c.out()) : `${c.name}/max${i}_${j}`;
      y = y === undefined ? tap : c.b.op('MAXIMUM', [y, tap], {}, { outputs: [{ name, shape, dtype: F32 }] })[0]!;
    }
  return y!;
}

/**
 * Dilated max pooling with strides that are multiples of the dilations: every window reads only the positions
 * 0, d, 2d, … of the padded input, so those are picked (STRIDED_SLICE by d) and pooled with a dense window of the
 * same size and the stride divided by d.
 */
function dilatedMaxPool(c: OnnxCtx, x: number, hw: [number, number], is1d: boolean): number {
  const win = as2d(
    windowOf(c, is1d ? [hw[1]] : hw, c.attr.ints('kernel_shape')!, c.attr.i('ceil_mode', 0) === 1),
    is1d,
  );
  const { padded, ps } = maxPoolPadded(c, x, win);
  const [dh, dw] = win.dilations as [number, number];
  const picked = [ps[0]!, Math.ceil(ps[1]! / dh), Math.ceil(ps[2]! / dw), ps[3]!];
  const k = (what: string, v: number[]): number => c.b.constant(`${c.name}/${what}`, 'int32', [4], v);
  const sub = c.b.op(
    'STRIDED_SLICE',
    [padded, k('begin', [0, 0, 0, 0]), k('end', ps), k('strides', [1, dh, dw, 1])],
    { beginMask: 0, endMask: 0, shrinkAxisMask: 0 },
    { outputs: [{ name: `${c.name}/dilation_taps`, shape: picked, dtype: F32 }] },
  )[0]!;
  return c.b.pool(
    'MAX_POOL_2D',
    sub,
    {
      filter: win.kernel as [number, number],
      stride: [win.strides[0]! / dh, win.strides[1]! / dw],
      padding: 'VALID',
    },
    { name: is1d ? `${c.name}/pool2d` : c.out() },
  );
}

export function globalPool(type: 'MEAN' | 'REDUCE_MAX'): OnnxOpConverter {
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

export function batchNorm(c: OnnxCtx): Value[] {
  floatOnly(c);
  if (c.opset < 7 && c.attr.i('is_test', 0) === 0 && c.node.output.length > 1)
    throw c.refuse('batch normalization in training mode', 'Export the model in eval mode (model.eval())');
  const r = c.rank(0);
  const p = r >= 3 ? channelsLast(r) : null;
  const x = c.tensor(0, p);
  if (c.attr.i('training_mode', 0) === 1) return trainingBatchNorm(c, x, p);
  if ([1, 2, 3, 4].some((i) => !c.isConst(i))) return [tensorVal(runtimeBatchNorm(c, x), p)];
  const [scale, bias, mean, variance] = [1, 2, 3, 4].map((i) => Float32Array.from(c.const(i).v));
  const y = emitBatchNorm(
    c.b,
    x,
    { gamma: scale!, beta: bias!, mean: mean!, variance: variance!, epsilon: c.attr.f('epsilon', 1e-5) },
    c.out(),
  );
  return [tensorVal(y, p)];
}

/**
 * Batch normalization in training mode (opset 14+): normalized by the batch's own per-channel mean and (population)
 * variance, MEAN over every axis but the channels (the last of `x`'s layout); the second and third outputs are the
 * running statistics, input · momentum + batch · (1 − momentum).
 */
function trainingBatchNorm(c: OnnxCtx, x: number, p: Perm): Value[] {
  const b = c.b;
  const n = (what: string): string => `${c.name}/${what}`;
  const r = c.rank(0);
  const axes = b.constant(
    n('axes'),
    'int32',
    [r - 1],
    Array.from({ length: r - 1 }, (_v, i) => i),
  );
  const mean = (t: number, name: string): number =>
    b.op('MEAN', [t, axes], { keepDims: false }, { outputs: [{ name, shape: [c.shape(0)[1]!], dtype: F32 }] })[0]!;
  const [scale, bias, runMean, runVar] = [1, 2, 3, 4].map((i) => {
    floatOnly(c, i);
    return c.tensor(i, null);
  });
  const batchMean = mean(x, n('batch_mean'));
  const centered = b.binary('SUB', x, batchMean, {}, { name: n('centered') });
  const batchVar = mean(b.binary('MUL', centered, centered, {}, { name: n('squares') }), n('batch_var'));
  const eps = b.constant(n('epsilon'), F32, [], [c.attr.f('epsilon', 1e-5)]);
  const inv = b.unary('RSQRT', b.binary('ADD', batchVar, eps, {}, { name: n('var_eps') }), { name: n('inv_std') });
  const gain = b.binary('MUL', inv, scale!, {}, { name: n('gain') });
  const y = b.binary('ADD', b.binary('MUL', centered, gain, {}, { name: n('scaled') }), bias!, {}, { name: c.out() });
  const momentum = c.attr.f('momentum', 0.9);
  const k = (v: number, what: string): number => b.constant(n(what), F32, [], [v]);
  const running = (input: number, batch: number, i: number): number =>
    b.binary(
      'ADD',
      b.binary('MUL', input, k(momentum, `momentum${i}`), {}, { name: n(`kept${i}`) }),
      b.binary('MUL', batch, k(1 - momentum, `rest${i}`), {}, { name: n(`new${i}`) }),
      {},
      { name: c.out(i) },
    );
  const outs = [tensorVal(y, p)];
  if (c.node.output[1]) outs.push(tensorVal(running(runMean!, batchMean, 1)));
  if (c.node.output[2]) outs.push(tensorVal(running(runVar!, batchVar, 2)));
  return outs;
}

/**
 * Batch normalization whose scale, bias, mean or variance come at run time: (x − mean) · rsqrt(var + ε) · scale + bias
 * in the graph, the [C] operands broadcast along the channels, which are the last axis of `x`'s layout.
 */
function runtimeBatchNorm(c: OnnxCtx, x: number): number {
  const [scale, bias, mean, variance] = [1, 2, 3, 4].map((i) => {
    floatOnly(c, i);
    return c.tensor(i, null);
  });
  const eps = c.b.constant(`${c.name}/epsilon`, F32, [], [c.attr.f('epsilon', 1e-5)]);
  const inv = c.b.unary('RSQRT', c.b.binary('ADD', variance!, eps, {}, { name: `${c.name}/var_eps` }), {
    name: `${c.name}/inv_std`,
  });
  const centered = c.b.binary('SUB', x, mean!, {}, { name: `${c.name}/centered` });
  const scaled = c.b.binary(
    'MUL',
    centered,
    c.b.binary('MUL', inv, scale!, {}, { name: `${c.name}/gain` }),
    {},
    {
      name: `${c.name}/scaled`,
    },
  );
  return c.b.binary('ADD', scaled, bias!, {}, { name: c.out() });
}

/**
 * The shared part of instance and layer normalization over `axisList` (kept as 1s): the centered input
 * `d = x − mean`, the mean, and `inv = 1/√(var + ε)` with ε from the `epsilon` attribute.
 */
function normalizeOver(c: OnnxCtx, x: number, axisList: number[]): { d: number; mean: number; inv: number } {
  const axes = c.b.constant(`${c.name}/axes`, 'int32', [axisList.length], axisList);
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
  return { d, mean, inv };
}

export function instanceNorm(c: OnnxCtx): Value[] {
  floatOnly(c);
  const r = c.rank(0);
  const cl = channelsLast(r);
  const x = c.tensor(0, cl);
  const { d, inv } = normalizeOver(
    c,
    x,
    Array.from({ length: r - 2 }, (_v, i) => i + 1),
  );
  const n = c.b.binary('MUL', d, inv);
  // scale and bias [C] (constants or computed at run time) broadcast along the channels, the last axis here
  const [scale, bias] = [1, 2].map((i) => {
    if (!c.isConst(i)) floatOnly(c, i);
    return c.tensor(i, null, F32);
  });
  const y = c.b.binary('ADD', c.b.binary('MUL', n, scale!), bias!, {}, { name: c.out() });
  return [tensorVal(y, cl)];
}

export function gemm(c: OnnxCtx): Value[] {
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
export function gemmC(c: OnnxCtx, beta: number, n: number): number {
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
export function scaledBiasVec(c: OnnxCtx, beta: number, n: number): Float32Array | null {
  if (!c.isConst(2)) return null;
  const C = c.const(2);
  const count = numElements(C.shape);
  if (count === 1) return new Float32Array(n).fill(C.v[0]! * beta);
  if (count === n && C.shape[C.shape.length - 1] === n) return Float32Array.from(C.v, (x) => x * beta);
  return null;
}

export function matmul(c: OnnxCtx): Value[] {
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

export function softmax(type: 'SOFTMAX' | 'LOG_SOFTMAX'): OnnxOpConverter {
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

export function lrn(c: OnnxCtx): Value[] {
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

export function prelu(c: OnnxCtx): Value[] {
  floatOnly(c);
  if (c.isConst(1) && numElements(c.shape(1)) === 1) return unary('LEAKY_RELU', () => ({ alpha: c.const(1).v[0]! }))(c);
  if (c.rank(0) > 4) return preluMerged(c);
  const { ids, perm, shape } = operands(c, [0, 1]);
  return [tensorVal(one(c, 'PRELU', ids, {}, applyPerm(shape, perm), F32), perm)];
}

/**
 * PRelu over more than 4 dimensions (TFLite PRELU takes up to 4): neighbouring dimensions along which the slope does
 * not vary are merged into one, the op runs on the 4-D view, and the result is reshaped back.
 */
function preluMerged(c: OnnxCtx): Value[] {
  const s = c.shape(0);
  const r = s.length;
  const slope = c.isConst(1) ? c.const(1) : undefined;
  if (!slope)
    throw c.refuse(`a rank-${r} input with a slope computed at run time`, 'TFLite PRELU takes up to 4-D tensors');
  const ss = [...new Array<number>(r - slope.shape.length).fill(1), ...slope.shape];
  // groups of dimensions: a run of dimensions where the slope is 1 merges with the one before it
  const groups: number[][] = [];
  for (let i = 0; i < r; i++) {
    const last = groups[groups.length - 1];
    if (last && ss[i] === 1 && last.every((k) => ss[k] === 1)) last.push(i);
    else groups.push([i]);
  }
  if (groups.length > 4)
    throw c.refuse(
      `a rank-${r} input whose slope varies along more than 4 dimensions`,
      'TFLite PRELU takes up to 4-D tensors',
    );
  const xs = groups.map((g) => g.reduce((n, k) => n * s[k]!, 1));
  const as = groups.map((g) => g.reduce((n, k) => n * ss[k]!, 1));
  const x = c.b.reshape(c.tensor(0, null), xs, { name: `${c.name}/merged` });
  const a = c.b.constant(`${c.name}/slope`, F32, as, Float32Array.from(slope.v));
  const y = c.b.op('PRELU', [x, a], {}, { outputs: [{ name: `${c.name}/prelu`, shape: xs, dtype: F32 }] })[0]!;
  return [tensorVal(c.b.reshape(y, s, { name: c.out() }))];
}

export function layerNorm(c: OnnxCtx): Value[] {
  floatOnly(c);
  const r = c.rank(0);
  const axis = normAxis(c.attr.i('axis', -1), r);
  const x = c.tensor(0, null);
  const { d, mean, inv } = normalizeOver(
    c,
    x,
    Array.from({ length: r - axis }, (_v, i) => axis + i),
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

/** ONNX ConvTranspose weights [in][out][kh][kw] with dh − 1 / dw − 1 zeros between taps (a dilated kernel). */
function dilateKernel(
  w: Float32Array,
  [cin, cout, kh, kw]: [number, number, number, number],
  dh: number,
  dw: number,
): Float32Array {
  const kh2 = (kh - 1) * dh + 1;
  const kw2 = (kw - 1) * dw + 1;
  const out = new Float32Array(cin * cout * kh2 * kw2);
  for (let p = 0; p < cin * cout; p++)
    for (let y = 0; y < kh; y++)
      for (let x = 0; x < kw; x++) out[(p * kh2 + y * dh) * kw2 + x * dw] = w[(p * kh + y) * kw + x]!;
  return out;
}

/** Weights computed at run time ([in][out][kh][kw], or [in][out][k] for 1-D) as TFLite's [out][kh][kw][in]. */
function runTimeKernel(c: OnnxCtx, is1d: boolean, shape: [number, number, number, number]): number {
  if (!is1d) return c.tensor(1, [1, 2, 3, 0]);
  return c.b.reshape(c.tensor(1, [1, 2, 0]), shape, { name: `${c.name}/kernel_2d` });
}

/**
 * The same for weights computed at run time, already [out][kh][kw][in]: along each dilated axis, a PAD of d − 1 zero
 * rows after every tap (a reshape gives each tap its own row), then a SLICE dropping the zeros after the last tap.
 */
export function dilateAtRunTime(
  c: OnnxCtx,
  w: number,
  [cout, kh, kw, cin]: [number, number, number, number],
  dh: number,
  dw: number,
): number {
  const b = c.b;
  const spread = (x: number, rows: number, tap: number, d: number, shape: number[], axis: 1 | 2, tag: string) => {
    if (d === 1) return x;
    const one = b.reshape(x, [rows, 1, tap], { name: `${c.name}/${tag}_taps` });
    const padded = emitPad(
      b,
      one,
      [
        [0, 0],
        [0, d - 1],
        [0, 0],
      ],
      `${c.name}/${tag}_zeros`,
    );
    const wide = [...shape];
    wide[axis] = shape[axis]! * d;
    const flat = b.reshape(padded, wide, { name: `${c.name}/${tag}_spread` });
    const size = [...shape];
    size[axis] = (shape[axis]! - 1) * d + 1;
    return emitSlice(b, flat, [0, 0, 0, 0], size, `${c.name}/${tag}_dilated`);
  };
  const kh2 = (kh - 1) * dh + 1;
  const h = spread(w, cout * kh, kw * cin, dh, [cout, kh, kw, cin], 1, 'kernel_h');
  return spread(h, cout * kh2 * kw, cin, dw, [cout, kh2, kw, cin], 2, 'kernel_w');
}

export function convTranspose(c: OnnxCtx): Value[] {
  need4d(c, 'ConvTranspose');
  if (c.has(2) && !c.isConst(2)) throw c.refuse('a bias computed at run time');
  floatOnly(c);
  if (c.attr.i('group', 1) !== 1) throw c.refuse('grouped transposed convolution');
  const dil = c.attr.ints('dilations');
  const dilated = !!dil && dil.some((d) => d !== 1);
  const ws = c.shape(1);
  const bias = c.has(2) ? Float32Array.from(c.const(2).v) : null;
  return spatial2d(c, (x, hw, is1d) => {
    const given = (is1d ? [ws[0]!, ws[1]!, 1, ws[2]!] : ws) as [number, number, number, number];
    // A dilated kernel is the kernel with d − 1 zeros between its taps: TRANSPOSE_CONV then needs no dilation.
    const [dh, dw] = dilated ? (is1d ? [1, dil![0]!] : [dil![0]!, dil![1]!]) : [1, 1];
    const wshape = [given[0], given[1], (given[2] - 1) * dh + 1, (given[3] - 1) * dw + 1];
    const wvals = dilated && c.isConst(1) ? dilateKernel(Float32Array.from(c.const(1).v), given, dh, dw) : null;
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
          permuteValues(wvals ?? Float32Array.from(c.const(1).v), wshape, [1, 2, 3, 0]),
        )
      : dilateAtRunTime(
          c,
          runTimeKernel(c, is1d, [cout, given[2], given[3], cin]),
          [cout, given[2], given[3], cin],
          dh,
          dw,
        );
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
      y = emitSlice(c.b, y, [0, pads[0]![0]!, pads[1]![0]!, 0], [s4[0]!, oh, ow, cout], `${c.name}/cropped`);
    }
    const name = is1d ? `${c.name}/deconv2d` : c.out();
    if (bias) return c.b.binary('ADD', y, c.b.constant(`${c.name}/bias`, F32, [cout], bias), {}, { name });
    return c.b.reshape(y, [s4[0]!, oh, ow, cout], { name });
  });
}
