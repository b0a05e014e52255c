/**
 * ONNX's explicit quantization ops composed from float builtins, so scales and zero points may be constants or
 * computed at run time, per tensor or per axis:
 *   QuantizeLinear         y = saturate(ROUND(x / scale) + zp)      (TFLite's ROUND is half-to-even, like ONNX's)
 *   DequantizeLinear       y = (CAST(x) − zp) · scale
 *   DynamicQuantizeLinear  scale = (max(0, max x) − min(0, min x)) / 255, zp = saturate(ROUND(−min / scale))
 *   MatMulInteger / ConvInteger         (a − a_zp) ⊗ (b − b_zp) in int32
 *   QLinearMatMul / QLinearConv         saturate(ROUND(acc · a_scale·b_scale / y_scale) + y_zp)
 * saturate = MAXIMUM/MINIMUM to the integer type's range, then CAST. The integer products run in float32
 * (BATCH_MATMUL / CONV_2D: TFLite has no int32 matmul or convolution), which is exact while every partial sum stays
 * below 2^24: at most MAX_EXACT_TERMS products of 8-bit differences (|d| ≤ 255) per output; longer sums are refused.
 */

import type { DType } from '../../../ir/dtype.js';
import { normAxis } from '../../../ir/axis.js';
import { emitPad } from '../../emit.js';
import { tensorVal, type OnnxCtx } from '../context.js';
import { isSamePadding, noPads, windowOf } from '../geometry.js';
import { channelsLast, type Perm } from '../layout.js';
import { F32, ONNX_TO, castTo, type OnnxOpConverter } from './common.js';
import { NodeSteps } from './node-steps.js';

/** 255 · 255 · 258 < 2^24: sums of up to 258 products of 8-bit differences are exact in float32. */
export const MAX_EXACT_TERMS = 258;

const RANGE: Partial<Record<DType, [number, number]>> = { uint8: [0, 255], int8: [-128, 127] };

class Emit extends NodeSteps {
  /** Input i as float32 in physical layout `perm` (CAST when it is an integer tensor). */
  float(i: number, perm: Perm = null): number {
    const c = this.c;
    if (c.isConst(i)) return c.tensor(i, perm, F32);
    return castTo(c, c.tensor(i, perm), F32, this.fresh(`in${i}_f32`));
  }
  /**
   * A scale or zero point (input i: a scalar, or 1-D along logical `axis` of a rank-`rank` operand in layout `perm`)
   * as float32, shaped to broadcast against that operand.
   */
  param(i: number, axis: number, of: number[], perm: Perm): number {
    const rank = of.length;
    const c = this.c;
    const s = c.shape(i);
    const n = s.reduce((a, b) => a * b, 1);
    const v = this.float(i);
    if (s.length === 0 || n === 1) return s.length === 0 ? v : this.c.b.reshape(v, [], { name: this.fresh('scalar') });
    if (s.length !== 1) throw c.refuse(`a ${s.length}-D scale or zero point (blocked quantization)`);
    const a = normAxis(axis, rank);
    if (of[a] !== n) throw c.refuse(`${n} scales or zero points along axis ${a}, which has ${of[a]} elements`);
    const pa = perm ? perm.indexOf(a) : a;
    const shape = Array.from({ length: rank }, (_v, d) => (d === pa ? n : 1));
    return c.b.reshape(v, shape, { name: this.fresh('along_axis') });
  }
  /** ROUND, + zero point, clamp to the type's range, CAST. */
  saturate(x: number, zp: number | null, to: DType, name: string): number {
    const [lo, hi] = RANGE[to]!;
    let y = this.op('ROUND', [x]);
    if (zp !== null) y = this.bin('ADD', y, zp);
    y = this.op('MINIMUM', [this.op('MAXIMUM', [y, this.k(lo)]), this.k(hi)]);
    return castTo(this.c, y, to, name);
  }
}

/** The integer type a zero-point input gives (uint8 without one); refused for types TFLite cannot saturate to. */
function quantType(c: OnnxCtx, zpIdx: number): DType {
  const declared = c.attr.i('output_dtype', 0);
  const t = c.has(zpIdx) ? c.dtype(zpIdx) : declared ? (ONNX_TO[declared] ?? `ONNX type ${declared}`) : 'uint8';
  if (!RANGE[t as DType]) throw c.refuse(`quantization to ${t}`, 'Kiln composes uint8 and int8 quantization');
  return t as DType;
}

function noBlocks(c: OnnxCtx): void {
  if (c.attr.i('block_size', 0) !== 0) throw c.refuse('blocked quantization (block_size)');
}

export const quantizeLinear: OnnxOpConverter = (c) => {
  noBlocks(c);
  if (c.dtype(0) !== F32) throw c.refuse(`quantizes ${c.dtype(0)} values`, 'Kiln quantizes float32 tensors');
  const to = quantType(c, 2);
  const e = new Emit(c);
  const p = c.perm(0);
  const axis = c.attr.i('axis', 1);
  const x = c.tensor(0, p);
  const scaled = e.bin('DIV', x, e.param(1, axis, c.shape(0), p));
  const zp = c.has(2) ? e.param(2, axis, c.shape(0), p) : null;
  return [tensorVal(e.saturate(scaled, zp, to, c.out()), p)];
};

export const dequantizeLinear: OnnxOpConverter = (c) => {
  noBlocks(c);
  const from = c.dtype(0);
  if (!RANGE[from] && from !== 'int32')
    throw c.refuse(`dequantizes ${from} values`, 'Kiln composes dequantization of uint8, int8 and int32');
  const e = new Emit(c);
  const p = c.perm(0);
  const axis = c.attr.i('axis', 1);
  let x = e.float(0, p);
  if (c.has(2)) x = e.bin('SUB', x, e.param(2, axis, c.shape(0), p));
  return [tensorVal(e.bin('MUL', x, e.param(1, axis, c.shape(0), p), c.out()), p)];
};

export const dynamicQuantizeLinear: OnnxOpConverter = (c) => {
  if (c.dtype(0) !== F32) throw c.refuse(`quantizes ${c.dtype(0)} values`, 'Kiln quantizes float32 tensors');
  const e = new Emit(c);
  const p = c.perm(0);
  const r = c.rank(0);
  const x = c.tensor(0, p);
  const all = (type: string): number =>
    c.b.op(
      type,
      [
        x,
        c.b.constant(
          e.fresh('axes'),
          'int32',
          [r],
          Array.from({ length: r }, (_v, i) => i),
        ),
      ],
      { keepDims: false },
      { outputs: [{ name: e.fresh(type.toLowerCase()), shape: [], dtype: F32 }] },
    )[0]!;
  const lo = e.op('MINIMUM', [all('REDUCE_MIN'), e.k(0)]);
  const hi = e.op('MAXIMUM', [all('REDUCE_MAX'), e.k(0)]);
  const scale = e.bin('DIV', e.bin('SUB', hi, lo), e.k(255), c.out(1));
  // zero point: saturate(round(0 − min / scale)), kept in float for y
  const zpF = e.op('ROUND', [
    e.op('MINIMUM', [e.op('MAXIMUM', [e.bin('SUB', e.k(0), e.bin('DIV', lo, scale)), e.k(0)]), e.k(255)]),
  ]);
  const zp = castTo(c, zpF, 'uint8', c.out(2));
  const y = e.saturate(e.bin('DIV', x, scale), zpF, 'uint8', c.out(0));
  return [tensorVal(y, p), tensorVal(scale), tensorVal(zp)];
};

/** Input i minus its zero point (input zpIdx, along logical `axis` when 1-D), as float32 in layout `perm`. */
function centered(e: Emit, i: number, zpIdx: number, axis: number, perm: Perm): number {
  const c = e.c;
  if (c.dtype(i) !== 'uint8' && c.dtype(i) !== 'int8')
    throw c.refuse(`input ${i} is ${c.dtype(i)}`, 'Kiln composes integer matmuls and convolutions of uint8/int8');
  const x = e.float(i, perm);
  return c.has(zpIdx) ? e.bin('SUB', x, e.param(zpIdx, axis, c.shape(i), perm)) : x;
}

function exactTerms(c: OnnxCtx, terms: number): void {
  if (terms > MAX_EXACT_TERMS)
    throw c.refuse(
      `sums of ${terms} integer products per output`,
      `TFLite has no int32 matmul or convolution; Kiln computes them in float32, exact up to ${MAX_EXACT_TERMS} products`,
    );
}

/** (a − a_zp) × (b − b_zp), exact integers held in float32. a_zp may run along a's rows, b_zp along b's columns. */
function intMatmul(e: Emit, a: number, aZp: number, b: number, bZp: number): number {
  const c = e.c;
  const sa = c.shape(a);
  const sb = c.shape(b);
  if (sa.length < 2 || sb.length < 2) throw c.refuse('1-D operands');
  exactTerms(c, sa[sa.length - 1]!);
  const x = centered(e, a, aZp, sa.length - 2, null);
  const y = centered(e, b, bZp, sb.length - 1, null);
  const batch = sa.length >= sb.length ? sa.slice(0, -2) : sb.slice(0, -2);
  const shape = [...batch, sa[sa.length - 2]!, sb[sb.length - 1]!];
  return c.b.op(
    'BATCH_MATMUL',
    [x, y],
    { adjX: false, adjY: false },
    { outputs: [{ name: e.fresh('acc'), shape, dtype: F32 }] },
  )[0]!;
}

export const matMulInteger: OnnxOpConverter = (c) => {
  const e = new Emit(c);
  const acc = intMatmul(e, 0, 2, 1, 3);
  return [tensorVal(castTo(c, acc, 'int32', c.out()))];
};

/**
 * acc · (a_scale · b_scale / y_scale), rounded, shifted by y_zp and saturated. `scales` are input indices; `axes`
 * the axis of the (physical, rank-r) accumulator each runs along when it is 1-D.
 */
function requantize(
  e: Emit,
  acc: number,
  scales: [number, number, number],
  axes: [number, number, number],
  zpIdx: number,
): number {
  const c = e.c;
  const shape = c.b.g.tensor(acc).shape;
  const to = quantType(c, zpIdx);
  const [as, bs, ys] = scales.map((i, k) => e.param(i, axes[k]!, shape, null)) as [number, number, number];
  const mult = e.bin('DIV', e.bin('MUL', as, bs), ys);
  return e.saturate(e.bin('MUL', acc, mult), c.has(zpIdx) ? e.param(zpIdx, axes[2], shape, null) : null, to, c.out());
}

export const qLinearMatMul: OnnxOpConverter = (c) => {
  const e = new Emit(c);
  const acc = intMatmul(e, 0, 2, 3, 5);
  const r = c.b.g.tensor(acc).shape.length;
  return [tensorVal(requantize(e, acc, [1, 4, 6], [r - 2, r - 1, r - 1], 7))];
};

/**
 * The integer convolution (x − x_zp) ∗ (w − w_zp) of an NCHW input, in NHWC float32: CONV_2D with the (possibly
 * run-time) OIHW weights transposed to OHWI, zero padding after the zero point is taken off. Group 1 only.
 */
function intConv(e: Emit, xZp: number, w: number, wZp: number, bias: number | null): number {
  const c = e.c;
  if (c.rank(0) !== 4) throw c.refuse(`a ${c.rank(0) - 2}-D convolution`, 'Kiln composes 2-D integer convolutions');
  if (c.attr.i('group', 1) !== 1) throw c.refuse('grouped integer convolution (group > 1)');
  const [M, Cg, kh, kw] = c.shape(w) as [number, number, number, number];
  exactTerms(c, Cg * kh * kw);
  const cl = channelsLast(4);
  const x = centered(e, 0, xZp, 1, cl);
  // w − w_zp with w_zp per output channel (axis 0), then OIHW → OHWI
  const k = centered(e, w, wZp, 0, [0, 2, 3, 1]);
  const hw = c.shape(0).slice(2) as [number, number];
  const win = windowOf(c, hw, c.attr.ints('kernel_shape') ?? [kh, kw]);
  let xin = x;
  let padding: 'SAME' | 'VALID' = 'VALID';
  if (isSamePadding(win, hw) && !noPads(win)) padding = 'SAME';
  else if (!noPads(win)) xin = emitPad(c.b, x, [[0, 0], win.pads[0]!, win.pads[1]!, [0, 0]], e.fresh('pad'));
  const b = bias ?? c.b.constant(e.fresh('no_bias'), F32, [M], new Float32Array(M));
  return c.b.conv2d(
    xin,
    k,
    b,
    { stride: win.strides as [number, number], dilation: win.dilations as [number, number], padding },
    { name: e.fresh('acc') },
  );
}

export const convInteger: OnnxOpConverter = (c) => {
  const e = new Emit(c);
  const acc = intConv(e, 2, 1, 3, null);
  return [tensorVal(castTo(c, acc, 'int32', c.out()), channelsLast(4))];
};

export const qLinearConv: OnnxOpConverter = (c) => {
  const e = new Emit(c);
  let bias: number | null = null;
  if (c.has(8)) {
    // int32 bias in the accumulator's scale: exact in float32 only while the sum stays below 2^24
    if (!c.isConst(8)) throw c.refuse('a bias computed at run time', 'Give the int32 bias as an initializer');
    const v = c.const(8).v;
    const [, Cg, kh, kw] = c.shape(3) as [number, number, number, number];
    const most = Math.max(0, ...Array.from(v, Math.abs));
    if (most + Cg * kh * kw * 255 * 255 >= 2 ** 24)
      throw c.refuse(`a bias of magnitude ${most}, past float32's exact integers with the products`);
    bias = c.tensor(8, null, F32);
  }
  const acc = intConv(e, 2, 3, 5, bias);
  // NHWC: per-channel weight scales run along the last axis
  return [tensorVal(requantize(e, acc, [1, 4, 6], [3, 3, 3], 7), channelsLast(4))];
};
