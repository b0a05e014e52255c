/** The op table: ONNX op name → converter (ops/common.ts, nn.ts, shape.ts, math.ts). */

import { numElements } from '../../ir/graph.js';
import { normAxis } from '../../ir/axis.js';
import { constVal, tensorVal } from './context.js';
import { flattenAxis, reshapeTarget } from './fold.js';
import { makeConst, type ConstVal } from './tensor.js';
import {
  F32,
  TT,
  axesArg,
  binary,
  castTo,
  compare,
  composite,
  minMax,
  one,
  scaleShift,
  unary,
  variadic,
  type OnnxOpConverter,
} from './ops/common.js';
import {
  argMinMax,
  clip,
  cumsum,
  hardmax,
  hyperbolic,
  inverseHyperbolic,
  isInf,
  isNaN,
  pow,
  reduce,
  shrink,
  sign,
  thresholdedRelu,
  trilu,
} from './ops/math.js';
import {
  batchNorm,
  conv,
  convTranspose,
  gemm,
  globalPool,
  instanceNorm,
  layerNorm,
  lrn,
  matmul,
  pool,
  prelu,
  softmax,
} from './ops/nn.js';
import {
  cast,
  concat,
  constantOfShape,
  depthSpace,
  expand,
  gather,
  identity,
  pad,
  range,
  reshapeTo,
  resize,
  runtimeAxesReshape,
  runtimeReshape,
  shapeOp,
  slice,
  split,
  tile,
  transposeOp,
  where,
} from './ops/shape.js';
import { conv3d, orVolume, pool3d } from './ops/volume.js';
import { convTranspose3d } from './ops/conv-transpose-3d.js';
import { negativeLogLikelihoodLoss, softmaxCrossEntropyLoss } from './ops/loss.js';
import { INVERSE_TRIG } from './ops/inverse-trig.js';
import { erf } from './ops/erf.js';
import { det, eyeLike } from './ops/matrix.js';
import { meanVarianceNormalization } from './ops/mvn.js';
import { bitShift } from './ops/bit-shift.js';
import { tfIdfVectorizer } from './ops/tfidf.js';
import { einsum } from './ops/einsum.js';
import { recurrent } from './ops/recurrent.js';
import {
  convInteger,
  dequantizeLinear,
  dynamicQuantizeLinear,
  matMulInteger,
  qLinearConv,
  qLinearMatMul,
  quantizeLinear,
} from './ops/quantize-linear.js';
import { gatherElements, gatherNd, scatterElements, scatterNd } from './ops/gather-scatter.js';
import { compress, nonZero, oneHot, reverseSequence, topK } from './ops/selection.js';
import { unique } from './ops/unique.js';
import { nonMaxSuppression } from './ops/nms.js';
import { NARROW, mod, widened } from './ops/widen.js';
import { dft, stft } from './ops/spectral.js';
import { melWeightMatrix } from './ops/mel.js';
import { maxUnpool } from './ops/unpool.js';
import { WINDOW_OPS } from './ops/window.js';
import { withMaxPoolIndices } from './ops/pool-indices.js';
import { gridSample } from './ops/grid-sample.js';
import { roiAlign } from './ops/roi-align.js';

export { operands, type OnnxOpConverter } from './ops/common.js';

export const ONNX_OPS: Record<string, OnnxOpConverter> = {
  NegativeLogLikelihoodLoss: negativeLogLikelihoodLoss,
  SoftmaxCrossEntropyLoss: softmaxCrossEntropyLoss,
  ...INVERSE_TRIG,
  Erf: erf,
  EyeLike: eyeLike,
  Det: det,
  Einsum: einsum,
  MeanVarianceNormalization: meanVarianceNormalization,
  Celu: composite((c, x) => {
    // celu(x) = α·elu(x/α)
    const alpha = c.b.constant(`${c.name}/alpha`, F32, [], [c.attr.f('alpha', 1)]);
    const e = c.b.unary('ELU', c.b.binary('DIV', x, alpha, {}, { name: `${c.name}/scaled` }), {
      name: `${c.name}/elu`,
    });
    return c.b.binary('MUL', e, alpha, {}, { name: c.out() });
  }),
  Sign: sign,
  Shrink: shrink,
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
  ConvTranspose: orVolume(convTranspose, convTranspose3d),
  Mod: widened(widened(mod, 'int32'), 'int64', ['uint32']),
  NonMaxSuppression: nonMaxSuppression,
  Tan: composite((c, x) => c.b.binary('DIV', c.b.unary('SIN', x), c.b.unary('COS', x), {}, { name: c.out() })),
  Identity: identity,
  Dropout: (c) => {
    if (c.opset >= 12 && c.has(2) && (!c.isConst(2) || c.const(2).v[0]))
      throw c.refuse(
        'dropout in training mode (or with a training_mode flag given at run time): it drops elements at random',
        'Export the model in eval mode (model.eval())',
      );
    if (c.opset < 7 && c.attr.i('is_test', 0) === 0 && c.node.output.length > 1 && c.node.output[1])
      throw c.refuse('dropout in training mode (its mask output is used)');
    // In inference the mask (opset 12+: bool) keeps every element.
    const mask = c.node.output[1]
      ? [constVal({ dtype: 'bool', shape: c.shape(0), v: new Float32Array(numElements(c.shape(0))).fill(1) })]
      : [];
    return [c.value(0), ...mask];
  },
  Conv: orVolume(conv, conv3d),
  MaxPool: widened(
    withMaxPoolIndices(orVolume(pool('MAX_POOL_2D'), (c) => pool3d(c, 'MAX_POOL_2D'))),
    F32,
    NARROW,
    [0],
  ),
  AveragePool: orVolume(pool('AVERAGE_POOL_2D'), (c) => pool3d(c, 'AVERAGE_POOL_2D')),
  GlobalAveragePool: globalPool('MEAN'),
  GlobalMaxPool: globalPool('REDUCE_MAX'),
  BatchNormalization: batchNorm,
  InstanceNormalization: instanceNorm,
  LRN: lrn,
  Gemm: gemm,
  MatMul: matmul,
  Add: widened(binary('ADD'), 'int32'),
  Sub: widened(binary('SUB'), 'int32'),
  Mul: widened(binary('MUL'), 'int32'),
  Div: widened((c) => {
    if (c.dtype(0) !== F32) throw c.refuse(`division of ${c.dtype(0)}`, 'TFLite divides float32');
    return binary('DIV')(c);
  }, F32),
  // an int64 base computes in int32; a uint32 exponent in int64
  Pow: widened(widened(pow, 'int32', ['int64'], [0]), 'int64', ['uint32'], [1]),
  Max: widened(variadic('MAXIMUM'), 'int64', ['uint32']),
  Min: widened(variadic('MINIMUM'), 'int64', ['uint32']),
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
  BitShift: bitShift,
  TfIdfVectorizer: tfIdfVectorizer,
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
  Clip: widened(clip, F32),
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
    c.opset >= 5 && !c.isConst(1)
      ? runtimeReshape(c)
      : reshapeTo(
          c,
          reshapeTarget(c.shape(0), c.opset >= 5 ? c.ints(1) : c.attr.ints('shape')!, c.attr.i('allowzero', 0) === 1),
        ),
  Flatten: (c) => {
    const s = c.shape(0);
    const axis = flattenAxis(c.attr.i('axis', 1), s.length);
    return reshapeTo(c, [numElements(s.slice(0, axis)), numElements(s.slice(axis))]);
  },
  Squeeze: (c) => {
    if (c.opset >= 13 && c.has(1) && !c.isConst(1)) return runtimeAxesReshape(c);
    const s = c.shape(0);
    const axes = (axesArg(c, 1, 13) ?? []).map((a) => normAxis(a, s.length));
    return reshapeTo(
      c,
      s.filter((d, i) => (axes.length ? !axes.includes(i) : d !== 1)),
    );
  },
  Unsqueeze: (c) => {
    if (c.opset >= 13 && !c.isConst(1)) return runtimeAxesReshape(c);
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
  Range: range,
  ConstantOfShape: constantOfShape,
  Shape: shapeOp,
  RNN: recurrent('RNN'),
  GRU: recurrent('GRU'),
  LSTM: recurrent('LSTM'),
  QuantizeLinear: quantizeLinear,
  DequantizeLinear: dequantizeLinear,
  DynamicQuantizeLinear: dynamicQuantizeLinear,
  MatMulInteger: matMulInteger,
  QLinearMatMul: qLinearMatMul,
  ConvInteger: convInteger,
  QLinearConv: qLinearConv,
  Size: (c) => [constVal(makeConst('int64', [], [numElements(c.shape(0))]))],
  GatherND: gatherNd,
  GatherElements: gatherElements,
  ScatterND: scatterNd,
  ScatterElements: scatterElements,
  Scatter: scatterElements,
  OneHot: oneHot,
  TopK: topK,
  ReverseSequence: reverseSequence,
  NonZero: nonZero,
  Compress: compress,
  Unique: unique,
  DFT: dft,
  STFT: stft,
  MelWeightMatrix: melWeightMatrix,
  MaxUnpool: maxUnpool,
  ...WINDOW_OPS,
  GridSample: gridSample,
  RoiAlign: roiAlign,
};

/** Ops whose result is computed only when all inputs are constants (fold.ts); refused otherwise. */
export const CONST_ONLY = new Set(['Constant']);

export type { ConstVal };
