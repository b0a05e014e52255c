import { KilnError } from '../../../common/errors.js';
import type { ModelBuilder } from '../../ir/builder.js';
import type { DType } from '../../ir/dtype.js';
import { numElements } from '../../ir/graph.js';
import { MirrorPadMode, TensorType } from '../../tflite/schema.js';
import {
  emitActivation,
  emitBatchNorm,
  emitCast,
  emitConv2d,
  emitDense,
  emitDepthwise,
  emitReshape,
  type ConvGeometry,
} from '../emit.js';
import { toFloat32, type HostTensor } from '../tensor.js';
import { attr, type NodeJson } from './types.js';

/** What an op converter sees: the builder, the node, and its data inputs as IR tensors (constants included). */
export interface TfOpCtx {
  b: ModelBuilder;
  node: NodeJson;
  name: string;
  /** Number of data inputs. */
  n: number;
  x(i: number): number;
  isConst(i: number): boolean;
  /** Constant input i (throws, naming the node, when it is computed at run time). */
  host(i: number): HostTensor;
  ints(i: number): number[];
  shape(i: number): number[];
  dtype(i: number): DType;
}

export type TfOpConverter = (c: TfOpCtx) => number[];

const refuse = (c: TfOpCtx, why: string, hint?: string): KilnError =>
  new KilnError('E_UNSUPPORTED_OP', `node ${c.name} (${c.node.op}): ${why}`, hint ? { hint } : {});

function nhwc(c: TfOpCtx): void {
  const f = attr.str(c.node, 'data_format', 'NHWC');
  if (f !== 'NHWC' && f !== 'NWC')
    throw refuse(c, `data_format ${f}`, 'Kiln converts NHWC graphs; export the model channels-last');
}

function geometry(c: TfOpCtx): ConvGeometry {
  nhwc(c);
  const s = attr.ints(c.node, 'strides') ?? [1, 1, 1, 1];
  const d = attr.ints(c.node, 'dilations') ?? [1, 1, 1, 1];
  const p = attr.str(c.node, 'padding', 'VALID')!;
  if (s[0] !== 1 || s[3] !== 1) throw refuse(c, `strides [${s.join(',')}] over batch or channels`);
  let padding: ConvGeometry['padding'];
  if (p === 'SAME' || p === 'VALID') padding = p;
  else if (p === 'EXPLICIT') {
    const e = attr.ints(c.node, 'explicit_paddings') ?? [];
    padding = [e[2] ?? 0, e[3] ?? 0, e[4] ?? 0, e[5] ?? 0];
  } else throw refuse(c, `padding ${p}`);
  return { strides: [s[1]!, s[2]!], dilations: [d[1] ?? 1, d[2] ?? 1], padding };
}

const TF_ACTIVATIONS: Record<string, string> = {
  Relu: 'relu',
  Relu6: 'relu6',
  Elu: 'elu',
  Sigmoid: 'sigmoid',
  Tanh: 'tanh',
};

/** The fused_ops tail of _FusedConv2D / FusedDepthwiseConv2dNative / _FusedMatMul: BiasAdd or FusedBatchNorm, then an activation. */
function fused(c: TfOpCtx, core: (bias: Float32Array | null, name: string) => number): number[] {
  const ops = attr.strs(c.node, 'fused_ops') ?? [];
  const args = Array.from({ length: c.n - 2 }, (_v, i) => i + 2);
  let y: number;
  let rest = ops;
  const last = ops.length === 0 || (ops.length === 1 && (ops[0] === 'BiasAdd' || ops[0] === 'FusedBatchNorm'));
  const coreName = last ? c.name : `${c.name}/core`;
  if (ops[0] === 'BiasAdd') {
    y = core(toFloat32(c.host(args[0]!)), coreName);
    rest = ops.slice(1);
  } else if (ops[0] === 'FusedBatchNorm') {
    const [scale, offset, mean, variance] = args.slice(0, 4).map((i) => toFloat32(c.host(i)));
    y = core(null, `${c.name}/conv`);
    y = emitBatchNorm(
      c.b,
      y,
      { gamma: scale!, beta: offset!, mean: mean!, variance: variance!, epsilon: attr.float(c.node, 'epsilon', 1e-3)! },
      rest.length > 1 ? `${c.name}/bn` : c.name,
    );
    rest = ops.slice(1);
  } else {
    y = core(null, coreName);
  }
  if (rest.length > 1) throw refuse(c, `fused ops ${ops.join('+')}`);
  if (rest.length === 1) {
    const a = rest[0]!;
    if (TF_ACTIVATIONS[a]) return [emitActivation(c.b, y, TF_ACTIVATIONS[a], c.name)];
    if (a === 'LeakyRelu')
      return [c.b.unary('LEAKY_RELU', y, { name: c.name }, { alpha: attr.float(c.node, 'leakyrelu_alpha', 0.2) })];
    if (a === 'Prelu') return c.b.op('PRELU', [y, c.x(args[1]!)], {}, { outputs: [{ name: c.name }] });
    throw refuse(c, `fused activation ${a}`);
  }
  return [y];
}

function elementwise(type: string): TfOpConverter {
  return (c) => {
    if ((type === 'DIV' || type === 'POW') && c.dtype(0) !== 'float32') throw refuse(c, `${type} on ${c.dtype(0)}`);
    return c.b.op(type, [c.x(0), c.x(1)], {}, { outputs: [{ name: c.name }] });
  };
}

function binaryFused(type: 'ADD' | 'SUB' | 'MUL' | 'DIV'): TfOpConverter {
  return (c) => {
    if (type === 'DIV' && c.dtype(0) !== 'float32') throw refuse(c, `integer division`);
    return [c.b.binary(type, c.x(0), c.x(1), {}, { name: c.name })];
  };
}

/** TF comparison → the TFLite builtin of the same name (bool output, broadcasting). */
const comparison =
  (type: string): TfOpConverter =>
  (c) =>
    c.b.op(type, [c.x(0), c.x(1)], {}, { outputs: [{ name: c.name }] });

const unary =
  (type: string): TfOpConverter =>
  (c) => [c.b.unary(type, c.x(0), { name: c.name })];

function reduce(type: string): TfOpConverter {
  return (c) => {
    const rank = c.shape(0).length;
    const axes = c.ints(1).map((a) => (a < 0 ? a + rank : a));
    const ax = c.b.constant(`${c.name}/axes`, 'int32', [axes.length], axes);
    return c.b.op(type, [c.x(0), ax], { keepDims: attr.bool(c.node, 'keep_dims') }, { outputs: [{ name: c.name }] });
  };
}

function pool(type: 'MAX_POOL_2D' | 'AVERAGE_POOL_2D'): TfOpConverter {
  return (c) => {
    const g = geometry(c);
    const k = attr.ints(c.node, 'ksize') ?? [];
    if (k[0] !== 1 || k[3] !== 1) throw refuse(c, `pooling window [${k.join(',')}] over batch or channels`);
    if (typeof g.padding !== 'string') throw refuse(c, 'explicit pooling pads');
    return [
      c.b.pool(type, c.x(0), { filter: [k[1]!, k[2]!], stride: g.strides, padding: g.padding }, { name: c.name }),
    ];
  };
}

function resize(type: 'RESIZE_BILINEAR' | 'RESIZE_NEAREST_NEIGHBOR'): TfOpConverter {
  return (c) => {
    const size = c.b.constant(`${c.name}/size`, 'int32', [2], c.ints(1));
    return c.b.op(
      type,
      [c.x(0), size],
      { alignCorners: attr.bool(c.node, 'align_corners'), halfPixelCenters: attr.bool(c.node, 'half_pixel_centers') },
      { outputs: [{ name: c.name }] },
    );
  };
}

function staticReshape(c: TfOpCtx, shape: number[]): number[] {
  return [emitReshape(c.b, c.x(0), shape, c.name)];
}

const identity: TfOpConverter = (c) => [c.x(0)];

function concat(valuesFrom: number, valuesTo: number, axisAt: number): TfOpConverter {
  return (c) => {
    const xs = Array.from({ length: valuesTo - valuesFrom }, (_v, i) => c.x(valuesFrom + i));
    const rank = c.shape(valuesFrom).length;
    let axis = c.ints(axisAt)[0]!;
    if (axis < 0) axis += rank;
    if (xs.length === 1) return [xs[0]!];
    return [c.b.concat(xs, axis, { name: c.name })];
  };
}

/** TensorFlow op → TFLite builtins. Every op not listed here is refused by name before conversion starts. */
export const TF_OPS: Record<string, TfOpConverter> = {
  Identity: identity,
  Snapshot: identity,
  StopGradient: identity,
  PreventGradient: identity,
  EnsureShape: identity,
  CheckNumerics: identity,
  PlaceholderWithDefault: identity,
  IdentityN: (c) => Array.from({ length: c.n }, (_v, i) => c.x(i)),
  Conv2D: (c) => [emitConv2d(c.b, c.x(0), c.host(1), null, geometry(c), c.name)],
  _FusedConv2D: (c) => fused(c, (bias, name) => emitConv2d(c.b, c.x(0), c.host(1), bias, geometry(c), name)),
  DepthwiseConv2dNative: (c) => [emitDepthwise(c.b, c.x(0), c.host(1), null, geometry(c), c.name)],
  FusedDepthwiseConv2dNative: (c) =>
    fused(c, (bias, name) => emitDepthwise(c.b, c.x(0), c.host(1), bias, geometry(c), name)),
  MatMul: (c) => {
    if (attr.bool(c.node, 'transpose_a')) throw refuse(c, 'transpose_a');
    if (!c.isConst(1))
      throw refuse(
        c,
        'both operands are computed at run time',
        'Only matrix products with a constant weight matrix map to FULLY_CONNECTED',
      );
    return [emitDense(c.b, c.x(0), c.host(1), null, c.name, attr.bool(c.node, 'transpose_b'))];
  },
  _FusedMatMul: (c) => {
    if (attr.bool(c.node, 'transpose_a')) throw refuse(c, 'transpose_a');
    return fused(c, (bias, name) => emitDense(c.b, c.x(0), c.host(1), bias, name, attr.bool(c.node, 'transpose_b')));
  },
  BiasAdd: (c) => {
    nhwc(c);
    return [c.b.binary('ADD', c.x(0), c.x(1), {}, { name: c.name })];
  },
  Add: binaryFused('ADD'),
  AddV2: binaryFused('ADD'),
  Sub: binaryFused('SUB'),
  Mul: binaryFused('MUL'),
  RealDiv: binaryFused('DIV'),
  Div: binaryFused('DIV'),
  AddN: (c) => {
    let y = c.x(0);
    for (let i = 1; i < c.n; i++) y = c.b.binary('ADD', y, c.x(i), {}, i === c.n - 1 ? { name: c.name } : {});
    return [y];
  },
  Maximum: elementwise('MAXIMUM'),
  Minimum: elementwise('MINIMUM'),
  SquaredDifference: elementwise('SQUARED_DIFFERENCE'),
  Pow: elementwise('POW'),
  FloorDiv: elementwise('FLOOR_DIV'),
  FloorMod: elementwise('FLOOR_MOD'),
  Relu: unary('RELU'),
  Relu6: unary('RELU6'),
  Elu: unary('ELU'),
  Sigmoid: unary('LOGISTIC'),
  Tanh: unary('TANH'),
  Exp: unary('EXP'),
  Log: unary('LOG'),
  Sqrt: unary('SQRT'),
  Rsqrt: unary('RSQRT'),
  Neg: unary('NEG'),
  Abs: unary('ABS'),
  Square: unary('SQUARE'),
  Floor: unary('FLOOR'),
  Ceil: unary('CEIL'),
  Sin: unary('SIN'),
  Cos: unary('COS'),
  LeakyRelu: (c) => [c.b.unary('LEAKY_RELU', c.x(0), { name: c.name }, { alpha: attr.float(c.node, 'alpha', 0.2) })],
  Prelu: (c) => c.b.op('PRELU', [c.x(0), c.x(1)], {}, { outputs: [{ name: c.name }] }),
  Softmax: (c) => [c.b.softmax(c.x(0), 1, { name: c.name })],
  LogSoftmax: (c) => c.b.op('LOG_SOFTMAX', [c.x(0)], {}, { outputs: [{ name: c.name }] }),
  MaxPool: pool('MAX_POOL_2D'),
  AvgPool: pool('AVERAGE_POOL_2D'),
  Mean: reduce('MEAN'),
  Sum: reduce('SUM'),
  Max: reduce('REDUCE_MAX'),
  Min: reduce('REDUCE_MIN'),
  Prod: reduce('REDUCE_PROD'),
  Reshape: (c) => staticReshape(c, c.ints(1)),
  Squeeze: (c) => {
    const s = c.shape(0);
    const dims = (attr.ints(c.node, 'squeeze_dims') ?? []).map((d) => (d < 0 ? d + s.length : d));
    return staticReshape(
      c,
      s.filter((d, i) => (dims.length ? !dims.includes(i) : d !== 1)),
    );
  },
  ExpandDims: (c) => {
    const s = [...c.shape(0)];
    let a = c.ints(1)[0]!;
    if (a < 0) a += s.length + 1;
    s.splice(a, 0, 1);
    return staticReshape(c, s);
  },
  Flatten: (c) => staticReshape(c, [c.shape(0)[0]!, numElements(c.shape(0).slice(1))]),
  ConcatV2: (c) => concat(0, c.n - 1, c.n - 1)(c),
  Concat: (c) => concat(1, c.n, 0)(c),
  Pad: (c) =>
    c.b.op(
      'PAD',
      [c.x(0), c.b.constant(`${c.name}/paddings`, 'int32', c.host(1).shape, c.ints(1))],
      {},
      { outputs: [{ name: c.name }] },
    ),
  PadV2: (c) =>
    c.b.op(
      'PADV2',
      [c.x(0), c.b.constant(`${c.name}/paddings`, 'int32', c.host(1).shape, c.ints(1)), c.x(2)],
      {},
      { outputs: [{ name: c.name }] },
    ),
  MirrorPad: (c) => {
    const mode = attr.str(c.node, 'mode', 'REFLECT') === 'SYMMETRIC' ? MirrorPadMode.SYMMETRIC : MirrorPadMode.REFLECT;
    return c.b.op(
      'MIRROR_PAD',
      [c.x(0), c.b.constant(`${c.name}/paddings`, 'int32', c.host(1).shape, c.ints(1))],
      { mode },
      { outputs: [{ name: c.name }] },
    );
  },
  ResizeBilinear: resize('RESIZE_BILINEAR'),
  ResizeNearestNeighbor: resize('RESIZE_NEAREST_NEIGHBOR'),
  Transpose: (c) =>
    c.b.op(
      'TRANSPOSE',
      [c.x(0), c.b.constant(`${c.name}/perm`, 'int32', [c.shape(0).length], c.ints(1))],
      {},
      { outputs: [{ name: c.name }] },
    ),
  FusedBatchNorm: batchNorm,
  FusedBatchNormV2: batchNorm,
  FusedBatchNormV3: batchNorm,
  Cast: (c) => {
    const to = attr.type(c.node, 'DstT');
    const target = to === 'DT_FLOAT' ? 'float32' : to === 'DT_INT32' ? 'int32' : undefined;
    if (!target) throw refuse(c, `cast to ${to}`);
    return [emitCast(c.b, c.x(0), target, c.name)];
  },
  Shape: (c) => [c.b.constant(c.name, 'int32', [c.shape(0).length], c.shape(0))],
  Size: (c) => [c.b.constant(c.name, 'int32', [], [numElements(c.shape(0))])],
  Rank: (c) => [c.b.constant(c.name, 'int32', [], [c.shape(0).length])],
  Fill: (c) => {
    const dims = c.ints(0);
    const v = c.host(1);
    const n = numElements(dims);
    return [
      v.dtype === 'int32'
        ? c.b.constant(c.name, 'int32', dims, new Int32Array(n).fill(c.ints(1)[0]!))
        : c.b.constant(c.name, 'float32', dims, new Float32Array(n).fill(toFloat32(v)[0]!)),
    ];
  },
  ZerosLike: (c) => [
    c.b.constant(
      c.name,
      c.dtype(0) === 'int32' ? 'int32' : 'float32',
      c.shape(0),
      new Float32Array(numElements(c.shape(0))),
    ),
  ],
  OnesLike: (c) => [
    c.b.constant(
      c.name,
      c.dtype(0) === 'int32' ? 'int32' : 'float32',
      c.shape(0),
      new Float32Array(numElements(c.shape(0))).fill(1),
    ),
  ],
  Pack: (c) => {
    const xs = Array.from({ length: c.n }, (_v, i) => c.x(i));
    const axis = attr.int(c.node, 'axis', 0)!;
    return c.b.op(
      'PACK',
      xs,
      { valuesCount: xs.length, axis: axis < 0 ? axis + c.shape(0).length + 1 : axis },
      { outputs: [{ name: c.name }] },
    );
  },
  Unpack: (c) => {
    const axis = attr.int(c.node, 'axis', 0)!;
    const rank = c.shape(0).length;
    const num = attr.int(c.node, 'num', c.shape(0)[axis < 0 ? axis + rank : axis])!;
    return c.b.op(
      'UNPACK',
      [c.x(0)],
      { num, axis: axis < 0 ? axis + rank : axis },
      { outputs: Array.from({ length: num }, (_v, i) => ({ name: i === 0 ? c.name : `${c.name}:${i}` })) },
    );
  },
  StridedSlice: (c) => {
    if (attr.int(c.node, 'ellipsis_mask', 0) || attr.int(c.node, 'new_axis_mask', 0))
      throw refuse(c, 'ellipsis or new-axis masks');
    const k = (i: number): number =>
      c.b.constant(`${c.name}/${['begin', 'end', 'strides'][i - 1]}`, 'int32', [c.ints(i).length], c.ints(i));
    return c.b.op(
      'STRIDED_SLICE',
      [c.x(0), k(1), k(2), k(3)],
      {
        beginMask: attr.int(c.node, 'begin_mask', 0),
        endMask: attr.int(c.node, 'end_mask', 0),
        shrinkAxisMask: attr.int(c.node, 'shrink_axis_mask', 0),
      },
      { outputs: [{ name: c.name }] },
    );
  },
  Slice: (c) => {
    const begin = c.ints(1);
    const size = c.ints(2).map((s, i) => (s === -1 ? c.shape(0)[i]! - begin[i]! : s));
    return c.b.op(
      'SLICE',
      [
        c.x(0),
        c.b.constant(`${c.name}/begin`, 'int32', [begin.length], begin),
        c.b.constant(`${c.name}/size`, 'int32', [size.length], size),
      ],
      {},
      { outputs: [{ name: c.name }] },
    );
  },
  Split: (c) => {
    const num = attr.int(c.node, 'num_split', 1)!;
    const axis = c.b.constant(`${c.name}/axis`, 'int32', [], c.ints(0));
    return c.b.op(
      'SPLIT',
      [axis, c.x(1)],
      { numSplits: num },
      { outputs: Array.from({ length: num }, (_v, i) => ({ name: i === 0 ? c.name : `${c.name}:${i}` })) },
    );
  },
  SplitV: (c) => {
    const sizes = c.ints(1);
    const ins = [
      c.x(0),
      c.b.constant(`${c.name}/sizes`, 'int32', [sizes.length], sizes),
      c.b.constant(`${c.name}/axis`, 'int32', [], c.ints(2)),
    ];
    return c.b.op(
      'SPLIT_V',
      ins,
      { numSplits: sizes.length },
      { outputs: sizes.map((_s, i) => ({ name: i === 0 ? c.name : `${c.name}:${i}` })) },
    );
  },
  Tile: (c) =>
    c.b.op(
      'TILE',
      [c.x(0), c.b.constant(`${c.name}/multiples`, 'int32', [c.ints(1).length], c.ints(1))],
      {},
      { outputs: [{ name: c.name }] },
    ),
  GatherV2: (c) => {
    const idx = c.dtype(1) === 'int32' ? c.x(1) : emitCast(c.b, c.x(1), 'int32', `${c.name}/indices`);
    return c.b.op('GATHER', [c.x(0), idx], { axis: c.ints(2)[0]! }, { outputs: [{ name: c.name }] });
  },
  GatherNd: (c) => {
    const idx = c.dtype(1) === 'int32' ? c.x(1) : emitCast(c.b, c.x(1), 'int32', `${c.name}/indices`);
    return c.b.op('GATHER_ND', [c.x(0), idx], {}, { outputs: [{ name: c.name }] });
  },
  Equal: comparison('EQUAL'),
  NotEqual: comparison('NOT_EQUAL'),
  Greater: comparison('GREATER'),
  GreaterEqual: comparison('GREATER_EQUAL'),
  Less: comparison('LESS'),
  LessEqual: comparison('LESS_EQUAL'),
  TopKV2: (c) => {
    const k = c.b.constant(`${c.name}/k`, 'int32', [], [c.ints(1)[0]!]);
    return c.b.op('TOPK_V2', [c.x(0), k], {}, { outputs: [{ name: c.name }, { name: `${c.name}:1` }] });
  },
  ArgMax: (c) => {
    const axis = c.b.constant(`${c.name}/axis`, 'int32', [1], c.ints(1));
    return c.b.op('ARG_MAX', [c.x(0), axis], { outputType: TensorType.INT32 }, { outputs: [{ name: c.name }] });
  },
};

function batchNorm(c: TfOpCtx): number[] {
  nhwc(c);
  if (attr.bool(c.node, 'is_training'))
    throw refuse(c, 'batch normalization in training mode', 'Export the inference graph (is_training=False)');
  const [scale, offset, mean, variance] = [1, 2, 3, 4].map((i) => toFloat32(c.host(i)));
  return [
    emitBatchNorm(
      c.b,
      c.x(0),
      { gamma: scale!, beta: offset!, mean: mean!, variance: variance!, epsilon: attr.float(c.node, 'epsilon', 1e-3)! },
      c.name,
    ),
  ];
}
