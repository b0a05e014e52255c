/** ONNX ops that move or re-type data: reshape, concat, transpose, pad, resize, gather, slice, split, expand, tile, cast, … */

import { numElements } from '../../../ir/graph.js';
import { normAxis } from '../../../ir/axis.js';
import { broadcastShapes } from '../../../ir/shape-inference.js';
import { MirrorPadMode } from '../../../tflite/schema.js';
import { constVal, tensorVal, transpose, type OnnxCtx, type Value } from '../context.js';
import { sliceParams } from '../fold.js';
import { applyPerm, channelsLast, inversePerm, norm, permuteValues } from '../layout.js';
import { makeConst, ONNX_TYPE_NAMES } from '../tensor.js';
import { F32, ONNX_TO, castTo, dropAxes, floatOnly, one, operands, type OnnxOpConverter } from './common.js';
import { binaryWithConst } from './flat-binary.js';
import { resizeByTables, resizeModeOf } from './resize-convert.js';
import { runtimeScaleResize } from './resize-runtime.js';
import { GATHER_PAD_MODES, runtimeGatherPad } from './runtime-pad.js';

export function reshapeTo(c: OnnxCtx, shape: number[]): Value[] {
  if (c.value(0).kind === 'const') return [constVal({ ...c.const(0), shape })];
  return [tensorVal(c.b.reshape(c.tensor(0, null), shape, { name: c.out() }))];
}

/**
 * Squeeze / Unsqueeze with axes computed at run time: only unit dimensions move, so the result is the input reshaped
 * to the output shape the model declares (refused when the model declares none, or one that is not the input's
 * dimensions with unit dimensions dropped or added).
 */
export function runtimeAxesReshape(c: OnnxCtx): Value[] {
  const out = c.declared();
  const big = (s: number[]): string => s.filter((d) => d !== 1).join(',');
  if (!out || big(out) !== big(c.shape(0)))
    throw c.refuse(
      'input 1 (axes) is computed at run time and the model declares no output shape that fixes them',
      'Give the axes as a constant',
    );
  return reshapeTo(c, out);
}

/**
 * Reshape to a shape computed at run time: RESHAPE with the shape tensor (int32; a 0 copies the input's dimension
 * unless allowzero, via SELECT_V2). The model must declare the output's fixed shape, which the IR records.
 */
export function runtimeReshape(c: OnnxCtx): Value[] {
  const out = c.declared();
  const k = c.shape(1)[0];
  if (!out || k === undefined || c.rank(1) !== 1)
    throw c.refuse(
      'input 1 (shape) is computed at run time and the model declares no fixed output shape',
      'Fix the input shapes (--inputs) so that shape computations fold away',
    );
  let s = c.tensor(1);
  if (c.dtype(1) !== 'int32') s = castTo(c, s, 'int32', `${c.name}/shape32`);
  if (c.attr.i('allowzero', 0) === 0) {
    const inShape = c.shape(0);
    const copy = Array.from({ length: k }, (_v, i) => inShape[i] ?? 0);
    const zero = c.b.op(
      'EQUAL',
      [s, c.b.constant(`${c.name}/zero`, 'int32', [], [0])],
      {},
      {
        outputs: [{ name: `${c.name}/copies`, shape: [k], dtype: 'bool' }],
      },
    )[0]!;
    s = c.b.op(
      'SELECT_V2',
      [zero, c.b.constant(`${c.name}/input_dims`, 'int32', [k], copy), s],
      {},
      {
        outputs: [{ name: `${c.name}/shape`, shape: [k], dtype: 'int32' }],
      },
    )[0]!;
  }
  const x = c.tensor(0, null);
  return [tensorVal(one(c, 'RESHAPE', [x, s], {}, out, c.dtype(0)))];
}

export function concat(c: OnnxCtx): Value[] {
  const idx = Array.from({ length: c.n }, (_v, i) => i).filter((i) => c.has(i) && numElements(c.shape(i)) > 0);
  const r = c.rank(idx[0]!);
  const axis = normAxis(c.attr.i('axis', 0), r);
  if (idx.length === 1) return [c.value(idx[0]!)];
  const { ids, perm } = operands(c, idx);
  const pa = perm ? perm.indexOf(axis) : axis;
  return [tensorVal(c.b.concat(ids, pa, { name: c.out() }), perm)];
}

export function transposeOp(c: OnnxCtx): Value[] {
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

export function pad(c: OnnxCtx): Value[] {
  const mode = c.attr.s('mode', 'constant');
  const r = c.rank(0);
  if (c.opset >= 11 && !c.isConst(1)) return runtimePad(c, mode, r);
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

/**
 * Pad by amounts computed at run time: ONNX's [x1_begin, x2_begin, …, x1_end, …] become TFLite's [rank, 2] paddings
 * in the graph (RESHAPE to [2, rank], TRANSPOSE); the output shape is the declared one.
 */
function runtimePad(c: OnnxCtx, mode: string, r: number): Value[] {
  const out = c.declared();
  if (!out) throw c.refuse('input 1 (pads) is computed at run time and the model declares no output shape');
  if (GATHER_PAD_MODES.includes(mode)) return runtimeGatherPad(c, mode);
  if (c.has(3)) throw c.refuse('pads computed at run time for some axes only (input 3)');
  if (mode !== 'constant' && mode !== 'reflect')
    throw c.refuse(`${mode} padding by amounts computed at run time`, 'Give the pads as a constant');
  const pads = castTo(c, c.tensor(1, null), 'int32', `${c.name}/pads32`);
  const pairs = c.b.reshape(pads, [2, r], { name: `${c.name}/pads_2xr` });
  const pc = transpose(c.b, pairs, [1, 0], `${c.name}/paddings`);
  const x = c.tensor(0, null);
  if (mode === 'reflect')
    return [tensorVal(one(c, 'MIRROR_PAD', [x, pc], { mode: MirrorPadMode.REFLECT }, out, c.dtype(0)))];
  if (!c.has(2)) return [tensorVal(one(c, 'PAD', [x, pc], {}, out, c.dtype(0)))];
  const v = c.b.reshape(c.tensor(2, null, c.dtype(0)), [], { name: `${c.name}/value` });
  return [tensorVal(one(c, 'PADV2', [x, pc, v], {}, out, c.dtype(0)))];
}

/** Edge padding, axis by axis: the first and last slices repeated (TILE) and concatenated around the tensor. */
export function edgePad(c: OnnxCtx, x0: number, pads: number[][]): number {
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

export function resize(c: OnnxCtx): Value[] {
  floatOnly(c);
  if (c.rank(0) !== 4) throw c.refuse(`resizing a rank-${c.rank(0)} tensor`);
  const s = c.shape(0);
  let size: number[];
  const upsample = c.node.opType === 'Upsample';
  const scalesAt = upsample || c.opset === 10 ? 1 : 2;
  const bySizes = !upsample && c.opset >= 11 && c.has(3) && numElements(c.shape(3)) > 0;
  const from = upsample && c.opset < 9 ? -1 : bySizes ? 3 : scalesAt;
  const runtime = from >= 0 && !c.isConst(from);
  if (from < 0) size = s.map((d, i) => Math.floor(d * c.attr.floats('scales')![i]!));
  else if (runtime) size = runtimeResizeShape(c, from);
  else if (bySizes) size = c.ints(3);
  else size = s.map((d, i) => Math.floor(d * c.const(scalesAt).v[i]!));
  if (c.opset >= 18 && c.attr.ints('axes')) throw c.refuse('the axes attribute');
  if (size[0] !== s[0] || size[1] !== s[1]) throw c.refuse('resizing over batch or channels');
  // ONNX maps coordinates by the scale, TFLite by the ratio of sizes: they agree for scales computed at run time
  // only when those are whole upsampling factors (the declared size a multiple of the input's)
  const mode = c.attr.s('mode', 'nearest');
  const ctm = upsample || c.opset < 11 ? 'asymmetric' : c.attr.s('coordinate_transformation_mode', 'half_pixel');
  // Upsample and opset-10 Resize round nearest-neighbour coordinates down
  const nearestMode = upsample || c.opset < 11 ? 'floor' : c.attr.s('nearest_mode', 'round_prefer_floor');
  const cl = channelsLast(4);
  const x = c.tensor(0, cl);
  // ONNX maps coordinates by the scale, TFLite by the ratio of sizes: scales computed at run time that are not whole
  // upsampling factors (the declared size a multiple of the input's) are applied in the graph
  if (runtime && from !== 3 && (size[2]! % s[2]! !== 0 || size[3]! % s[3]! !== 0)) {
    const m = resizeModeOf(c, mode, ctm, nearestMode);
    const axes = [3, 2].map((i) => ({ axis: i === 3 ? 2 : 1, onnx: i, inSize: s[i]!, outSize: size[i]! }));
    return [tensorVal(runtimeScaleResize(c, x, from, axes, m, c.out()), cl)];
  }
  const sizeTensor = (): number =>
    runtime ? runtimeResizeSize(c, from, bySizes) : c.b.constant(`${c.name}/size`, 'int32', [2], [size[2]!, size[3]!]);
  const out = (type: string, fields: Record<string, unknown>): Value[] => [
    tensorVal(
      one(c, type, [x, sizeTensor()], fields, runtime ? applyPerm(size, cl) : undefined, runtime ? F32 : undefined),
      cl,
    ),
  ];
  const integerUp = size[2]! % s[2]! === 0 && size[3]! % s[3]! === 0;
  // the scale ONNX maps coordinates by: the given one, or the ratio of sizes (sizes given, or whole factors at run time)
  const scales =
    from < 0
      ? c.attr.floats('scales')!
      : bySizes || runtime
        ? size.map((d, i) => d / s[i]!)
        : Array.from(c.const(scalesAt).v);
  const tables = (): Value[] => [tensorVal(resizeByTables(c, x, s, size, scales, mode, ctm, nearestMode), cl)];
  // TFLite's resize kernels map coordinates by the ratio of sizes, ONNX by the scale
  if (scales[2] !== size[2]! / s[2]! || scales[3] !== size[3]! / s[3]!) return tables();
  if (mode === 'nearest') {
    if (ctm === 'asymmetric' && (nearestMode === 'floor' || upsample || c.opset < 11))
      return out('RESIZE_NEAREST_NEIGHBOR', { alignCorners: false, halfPixelCenters: false });
    if (
      (ctm === 'half_pixel' || ctm === 'pytorch_half_pixel') &&
      (nearestMode === 'round_prefer_ceil' || (integerUp && nearestMode === 'round_prefer_floor'))
    )
      return out('RESIZE_NEAREST_NEIGHBOR', { alignCorners: false, halfPixelCenters: true });
    if (ctm === 'align_corners' && nearestMode === 'round_prefer_ceil')
      return out('RESIZE_NEAREST_NEIGHBOR', { alignCorners: true, halfPixelCenters: false });
    return tables();
  }
  if (mode === 'linear' || mode === 'bilinear') {
    if (ctm === 'half_pixel' || (ctm === 'pytorch_half_pixel' && size[2]! > 1 && size[3]! > 1))
      return out('RESIZE_BILINEAR', { alignCorners: false, halfPixelCenters: true });
    if (ctm === 'align_corners') return out('RESIZE_BILINEAR', { alignCorners: true, halfPixelCenters: false });
    if (ctm === 'asymmetric') return out('RESIZE_BILINEAR', { alignCorners: false, halfPixelCenters: false });
    return tables();
  }
  return tables();
}

/** The output shape of a Resize whose scales or sizes come at run time: the one the model declares. */
function runtimeResizeShape(c: OnnxCtx, from: number): number[] {
  const out = c.declared();
  if (!out || c.shape(from)[0] !== 4)
    throw c.refuse(
      `input ${from} (${from === 3 ? 'sizes' : 'scales'}) is computed at run time and the model declares no output shape`,
      'Give the scales or sizes as a constant',
    );
  return out;
}

/**
 * The [height, width] size tensor of TFLite's resize ops, computed in the graph from the run-time input: sizes[2:4]
 * as int32, or floor(shape[2:4] · scales[2:4]).
 */
function runtimeResizeSize(c: OnnxCtx, from: number, bySizes: boolean): number {
  const v = c.tensor(from, null);
  const dtype = c.b.g.tensor(v).dtype;
  const hw = c.b.op(
    'SLICE',
    [v, c.b.constant(`${c.name}/hw_begin`, 'int32', [1], [2]), c.b.constant(`${c.name}/hw_size`, 'int32', [1], [2])],
    {},
    { outputs: [{ name: `${c.name}/hw`, shape: [2], dtype }] },
  )[0]!;
  if (bySizes) return castTo(c, hw, 'int32', `${c.name}/size`);
  if (dtype !== F32) throw c.refuse(`${dtype} scales`);
  const s = c.shape(0);
  const scaled = c.b.op(
    'MUL',
    [hw, c.b.constant(`${c.name}/in_hw`, F32, [2], [s[2]!, s[3]!])],
    { fusedActivationFunction: 0 },
    { outputs: [{ name: `${c.name}/scaled`, shape: [2], dtype: F32 }] },
  )[0]!;
  const floored = c.b.op(
    'FLOOR',
    [scaled],
    {},
    { outputs: [{ name: `${c.name}/floored`, shape: [2], dtype: F32 }] },
  )[0]!;
  return castTo(c, floored, 'int32', `${c.name}/size`);
}

/**
 * Indices computed at run time may count from the end (−d … d−1); TFLite's GATHER takes 0 … d−1: FLOOR_MOD by d, in
 * int32 (int64 indices cast first: Kiln's interpreter computes integer arithmetic in int32).
 */
function runtimeIndices(c: OnnxCtx, d: number): number {
  const idx = castTo(c, c.tensor(1, null), 'int32', `${c.name}/indices32`);
  return binaryWithConst(
    c,
    'FLOOR_MOD',
    idx,
    c.b.constant(`${c.name}/axis_size`, 'int32', [], [d]),
    'int32',
    `${c.name}/indices`,
  );
}

export function gather(c: OnnxCtx): Value[] {
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
    : runtimeIndices(c, d);
  const phys = c.b.g.tensor(x).shape;
  const shape = [...phys.slice(0, pa), ...c.shape(1), ...phys.slice(pa + 1)];
  const y = one(c, 'GATHER', [x, idx], { axis: pa }, shape, c.dtype(0));
  if (!keepLayout) return [tensorVal(y)];
  return [tensorVal(y, idxRank === 1 ? p : dropAxes(p, r, new Set([axis])))];
}

export function slice(c: OnnxCtx): Value[] {
  const s = c.shape(0);
  const r = s.length;
  if (c.opset >= 10 && [1, 2, 3, 4].some((i) => c.has(i) && !c.isConst(i))) return runtimeSlice(c, r);
  const prm =
    c.opset >= 10
      ? sliceParams(s, c.ints(1), c.ints(2), c.has(3) ? c.ints(3) : undefined, c.has(4) ? c.ints(4) : undefined)
      : sliceParams(s, c.attr.ints('starts')!, c.attr.ints('ends')!, c.attr.ints('axes'), undefined);
  // a slice that keeps everything is no op (NLL loss graphs slice their [N, 1, d1, …] tensors this way)
  if (s.every((d, i) => prm.start[i] === 0 && prm.step[i] === 1 && prm.count[i] === d)) return [c.value(0)];
  if (r > 5) throw c.refuse(`slicing a rank-${r} tensor`, "TFLite's STRIDED_SLICE takes up to 5 dimensions");
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

/** Slice bounds past this are clamped (TFLite's STRIDED_SLICE clamps them to the axis again). */
const SLICE_BIG = 2 ** 30;

/**
 * Slice with starts, ends, axes or steps computed at run time: STRIDED_SLICE over full-rank begin / end / strides
 * built in the graph. Each operand is clamped to ±2³⁰ (int64's "to the end" sentinels fit int32), cast to int32 and
 * scattered (SCATTER_ND) to its axes; axes not named keep begin 0, end 2³⁰ and stride 1. The output shape is the
 * declared one.
 */
function runtimeSlice(c: OnnxCtx, r: number): Value[] {
  const out = c.declared();
  const k = c.shape(1)[0];
  if (!out || k === undefined || c.rank(1) !== 1)
    throw c.refuse('starts/ends computed at run time and no declared output shape');
  const op = (type: string, ins: number[], shape: number[], name: string, fields: Record<string, unknown> = {}) =>
    c.b.op(type, ins, fields, { outputs: [{ name: `${c.name}/${name}`, shape, dtype: 'int32' }] })[0]!;
  const int32 = (i: number, name: string): number => {
    let v = c.tensor(i, null);
    const dt = c.b.g.tensor(v).dtype;
    if (dt !== 'int32' && dt !== 'int64') throw c.refuse(`${dt} slice bounds`);
    const lim = (type: string, x: number): number =>
      c.b.op(
        type,
        [v, c.b.constant(`${c.name}/${name}_${type}`, dt, [], [x])],
        {},
        {
          outputs: [{ name: `${c.name}/${name}_${type.toLowerCase()}`, shape: [k], dtype: dt }],
        },
      )[0]!;
    v = lim('MINIMUM', SLICE_BIG);
    v = lim('MAXIMUM', -SLICE_BIG);
    return castTo(c, v, 'int32', `${c.name}/${name}32`);
  };
  let axes = c.has(3)
    ? c.isConst(3)
      ? c.b.constant(
          `${c.name}/axes`,
          'int32',
          [k],
          c.ints(3).map((a) => normAxis(a, r)),
        )
      : op(
          'FLOOR_MOD',
          [castTo(c, c.tensor(3, null), 'int32', `${c.name}/axes32`), c.b.constant(`${c.name}/rank`, 'int32', [], [r])],
          [k],
          'axes_mod',
        )
    : c.b.constant(
        `${c.name}/axes`,
        'int32',
        [k],
        Array.from({ length: k }, (_v, i) => i),
      );
  axes = c.b.reshape(axes, [k, 1], { name: `${c.name}/axes_idx` });
  const full = c.b.constant(`${c.name}/full_shape`, 'int32', [1], [r]);
  // scatter (v − fill) to the axes, then + fill: the axes not named keep `fill`
  const scatter = (v: number, fill: number, name: string): number => {
    const f = c.b.constant(`${c.name}/${name}_fill`, 'int32', [], [fill]);
    const d = fill ? op('SUB', [v, f], [k], `${name}_less`, { fusedActivationFunction: 0 }) : v;
    const sc = op('SCATTER_ND', [axes, d, full], [r], `${name}_scattered`);
    return fill ? op('ADD', [sc, f], [r], name, { fusedActivationFunction: 0 }) : sc;
  };
  const begin = scatter(int32(1, 'starts'), 0, 'begin');
  const end = scatter(int32(2, 'ends'), SLICE_BIG, 'end');
  const strides = c.has(4)
    ? scatter(int32(4, 'steps'), 1, 'strides')
    : c.b.constant(`${c.name}/strides`, 'int32', [r], new Array<number>(r).fill(1));
  const y = one(
    c,
    'STRIDED_SLICE',
    [c.tensor(0, null), begin, end, strides],
    { beginMask: 0, endMask: 0, shrinkAxisMask: 0 },
    out,
    c.dtype(0),
  );
  return [tensorVal(y)];
}

export function split(c: OnnxCtx): Value[] {
  const r = c.rank(0);
  const axis = normAxis(c.attr.i('axis', 0), r);
  const d = c.shape(0)[axis]!;
  const count = c.node.output.length;
  if (c.opset >= 13 && c.has(1) && !c.isConst(1)) return runtimeSplit(c, axis, count);
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

/** Split sizes computed at run time: SPLIT_V takes them as a tensor; each output has the shape the model declares. */
function runtimeSplit(c: OnnxCtx, axis: number, count: number): Value[] {
  const shapes = Array.from({ length: count }, (_v, i) => c.declared(i));
  if (shapes.some((sh) => !sh))
    throw c.refuse('input 1 (split) is computed at run time and the model declares no shape for every output');
  const outs = c.b.op(
    'SPLIT_V',
    [
      c.tensor(0, null),
      castTo(c, c.tensor(1, null), 'int32', `${c.name}/sizes`),
      c.b.constant(`${c.name}/axis`, 'int32', [], [axis]),
    ],
    { numSplits: count },
    { outputs: shapes.map((shape, i) => ({ name: c.out(i), dtype: c.dtype(0), shape: shape! })) },
  );
  return outs.map((o) => tensorVal(o, null));
}

export function where(c: OnnxCtx): Value[] {
  const dtype = c.dtype(1) === 'float64' ? F32 : c.dtype(1);
  const { ids, perm, shape } = operands(c, [0, 1, 2], ['bool', dtype, dtype]);
  const fixed = ids.map((id, k) =>
    k === 0 ? id : c.b.g.tensor(id).dtype === dtype ? id : castTo(c, id, dtype, `${c.name}/cast${k}`),
  );
  return [tensorVal(one(c, 'SELECT_V2', fixed, {}, applyPerm(shape, perm), dtype), perm)];
}

export function expand(c: OnnxCtx): Value[] {
  if (!c.isConst(1)) return runtimeExpand(c);
  const target = broadcastShapes(c.shape(0), c.ints(1));
  const p = c.rank(0) === target.length ? c.perm(0) : null;
  const x = c.tensor(0, p);
  const phys = applyPerm(target, p);
  // BROADCAST_TO's builtin versions start at 2 (TFLite registers 2 and 3; version 1 was the Flex op's)
  const y = c.b.op(
    'BROADCAST_TO',
    [x, c.b.constant(`${c.name}/shape`, 'int32', [phys.length], phys)],
    {},
    { outputs: [{ name: c.out(), shape: phys, dtype: c.dtype(0) }], version: 2 },
  )[0]!;
  return [tensorVal(y, p)];
}

export function tile(c: OnnxCtx): Value[] {
  if (!c.isConst(1)) {
    // multiples computed at run time: TILE takes them as a tensor; the output shape is the declared one
    const out = c.declared();
    if (!out) throw c.refuse('input 1 (repeats) is computed at run time and the model declares no output shape');
    const reps = castTo(c, c.tensor(1, null), 'int32', `${c.name}/multiples`);
    return [tensorVal(one(c, 'TILE', [c.tensor(0, null), reps], {}, out, c.dtype(0)))];
  }
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

/**
 * Expand to a shape computed at run time: x · FILL(shape, 1), whose bidirectional broadcast is Expand's. The output
 * shape must be declared in the model (the result's size is fixed there); the runtime sizes the filled tensor from the
 * shape values it is given.
 */
function runtimeExpand(c: OnnxCtx): Value[] {
  const out = c.declared();
  const k = c.shape(1)[0];
  if (!out || k === undefined || k > out.length)
    throw c.refuse(
      'input 1 (shape) is computed at run time and the model declares no fixed output shape',
      'Fix the input shapes (--inputs) so that shape computations fold away',
    );
  const dtype = c.dtype(0);
  if (dtype !== F32 && dtype !== 'int32') throw c.refuse(`expanding ${dtype} to a run-time shape`);
  let shape = c.tensor(1);
  if (c.dtype(1) !== 'int32') shape = castTo(c, shape, 'int32', `${c.name}/shape32`);
  const ones = c.b.op(
    'FILL',
    [shape, c.b.constant(`${c.name}/one`, dtype, [], [1])],
    {},
    { outputs: [{ name: `${c.name}/ones`, shape: out.slice(out.length - k), dtype }] },
  )[0]!;
  return [tensorVal(one(c, 'MUL', [c.tensor(0), ones], {}, out, dtype))];
}

export function depthSpace(type: 'DEPTH_TO_SPACE' | 'SPACE_TO_DEPTH'): OnnxOpConverter {
  return (c) => {
    const mode = type === 'DEPTH_TO_SPACE' ? c.attr.s('mode', 'DCR') : 'DCR';
    if (mode !== 'DCR' && mode !== 'CRD') throw c.refuse(`${mode} mode`);
    const cl = channelsLast(4);
    const r = c.attr.i('blocksize', 1);
    let x = c.tensor(0, cl);
    if (mode === 'CRD') {
      // TFLite's DEPTH_TO_SPACE reads channels as DCR (block row, block column, channel): reorder the CRD channels
      const s = c.b.g.tensor(x).shape;
      const C = s[3]! / (r * r);
      const order = Array.from({ length: s[3]! }, (_v, k) => (k % C) * r * r + Math.floor(k / C));
      x = c.b.op(
        'GATHER',
        [x, c.b.constant(`${c.name}/dcr_order`, 'int32', [order.length], order)],
        { axis: 3, batchDims: 0 },
        { outputs: [{ name: `${c.name}/dcr`, shape: s, dtype: c.b.g.tensor(x).dtype }] },
      )[0]!;
    }
    return [tensorVal(one(c, type, [x], { blockSize: r }), cl)];
  };
}

export function cast(c: OnnxCtx): Value[] {
  const to = ONNX_TO[c.attr.i('to', 1)];
  if (!to) {
    const code = c.attr.i('to', 1);
    throw c.refuse(
      `cast to ${ONNX_TYPE_NAMES[code] ?? 'unknown type'} (ONNX type ${code}), which TFLite 2.9's CAST does not produce`,
      'Cast to float32 or an integer type instead',
    );
  }
  const p = c.perm(0);
  const x = c.tensor(0, p);
  if (c.dtype(0) === to) return [c.value(0)];
  return [tensorVal(castTo(c, x, to, c.out()), p)];
}

export const shapeOp: OnnxOpConverter = (c) => {
  const s = c.shape(0);
  const r = s.length;
  let start = c.attr.i('start', 0);
  let end = c.attr.i('end', r);
  if (start < 0) start += r;
  if (end < 0) end += r;
  const v = s.slice(Math.max(0, start), Math.min(r, end));
  return [constVal(makeConst('int64', [v.length], v))];
};

export const identity: OnnxOpConverter = (c) => [c.value(0)];

/**
 * Range over bounds computed at run time: TFLite's RANGE (float32 or int32; int64 bounds computed as int32 and cast
 * back), its length the one the model declares.
 */
export function range(c: OnnxCtx): Value[] {
  const out = c.declared();
  if (!out || out.length !== 1 || [0, 1, 2].some((i) => c.rank(i) !== 0))
    throw c.refuse('bounds computed at run time and no declared 1-D output shape');
  const dtype = c.dtype(0);
  if (dtype !== F32 && dtype !== 'int32' && dtype !== 'int64') throw c.refuse(`a ${dtype} range`);
  const at = dtype === 'int64' ? 'int32' : dtype;
  const bounds = [0, 1, 2].map((i) => castTo(c, c.tensor(i, null), at, `${c.name}/bound${i}`));
  const name = dtype === 'int64' ? `${c.name}/range32` : c.out();
  const y = c.b.op('RANGE', bounds, {}, { outputs: [{ name, shape: out, dtype: at }] })[0]!;
  return [tensorVal(dtype === 'int64' ? castTo(c, y, 'int64', c.out()) : y)];
}

/** ConstantOfShape with the shape computed at run time: FILL with the value, the declared output shape. */
export function constantOfShape(c: OnnxCtx): Value[] {
  const out = c.declared();
  if (!out) throw c.refuse('input 0 (shape) is computed at run time and the model declares no output shape');
  const t = c.attr.tensor('value');
  const dtype = !t || t.dtype === 'float64' || t.dtype === 'float16' ? F32 : t.dtype;
  if (![F32, 'int32', 'int64', 'bool'].includes(dtype)) throw c.refuse(`a ${dtype} fill value`);
  const shape = castTo(c, c.tensor(0, null), 'int32', `${c.name}/shape32`);
  const value = c.b.constant(`${c.name}/value`, dtype, [], [t ? t.v[0]! : 0]);
  return [tensorVal(one(c, 'FILL', [shape, value], {}, out, dtype))];
}
