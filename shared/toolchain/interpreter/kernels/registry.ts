import type { Op } from '../../ir/types.js';
import { CUSTOM_OPS, OPS } from '../../ops/catalog.js';
import type { Kernel, KernelEntry } from '../kernel.js';
import * as act from './activations.js';
import { batchMatmul } from './batch-matmul.js';
import { conv2d } from './conv.js';
import { depthwiseConv2d } from './depthwise.js';
import { detectionPostProcess } from './detection-postprocess.js';
import * as ew from './elementwise.js';
import { fullyConnected } from './fully-connected.js';
import { l2Normalization } from './l2-normalization.js';
import { unidirectionalSequenceLstm } from './lstm.js';
import { nonMaxSuppressionV4 } from './non-max-suppression.js';
import { oneHot } from './one-hot.js';
import { averagePool, l2Pool, maxPool } from './pool.js';
import { cast, dequantize, quantize } from './quantize.js';
import * as red from './reduce.js';
import { resizeBilinear, resizeNearestNeighbor } from './resize.js';
import * as sh from './shape.js';
import { selectV2 } from './select.js';
import { logSoftmax, softmax } from './softmax.js';
import { topkV2 } from './topk.js';
import { reverseSequence } from './reverse-sequence.js';
import { scatterNd } from './scatter-nd.js';
import { where } from './where.js';
import { broadcastTo, fill } from './fill-broadcast.js';
import { cumsum } from './cumsum.js';
import { range } from './range.js';
import { localResponseNormalization } from './lrn.js';
import { transposeConv } from './transpose-conv.js';

/**
 * The kernel of every builtin op the interpreter runs. The highest TFLite op version each implements is the op
 * catalog's `kernel` (shared/toolchain/ops/catalog.ts); test/ops/catalog.test.ts checks that the two name the same ops. Later
 * versions of an op mostly add tensor types; the kernels refuse types they do not handle with a clear error.
 */
export const BUILTIN_KERNEL_FUNCTIONS: Readonly<Record<string, Kernel>> = {
  ABS: act.abs,
  ADD: ew.add,
  ARG_MAX: red.argMax,
  ARG_MIN: red.argMin,
  AVERAGE_POOL_2D: averagePool,
  BROADCAST_TO: broadcastTo,
  BATCH_MATMUL: batchMatmul,
  BATCH_TO_SPACE_ND: sh.batchToSpaceNd,
  CAST: cast,
  CEIL: act.ceil,
  CONCATENATION: sh.concatenation,
  CONV_2D: conv2d,
  COS: act.cos,
  CUMSUM: cumsum,
  DEPTHWISE_CONV_2D: depthwiseConv2d,
  DEPTH_TO_SPACE: sh.depthToSpace,
  DEQUANTIZE: dequantize,
  DIV: ew.div,
  ELU: act.elu,
  EQUAL: ew.equal,
  EXP: act.exp,
  EXPAND_DIMS: sh.expandDims,
  FILL: fill,
  FLOOR: act.floor,
  FLOOR_DIV: ew.floorDiv,
  FLOOR_MOD: ew.floorMod,
  FULLY_CONNECTED: fullyConnected,
  GATHER: sh.gather,
  GATHER_ND: sh.gatherNd,
  GELU: act.gelu,
  GREATER: ew.greater,
  GREATER_EQUAL: ew.greaterEqual,
  HARD_SWISH: act.hardSwish,
  L2_NORMALIZATION: l2Normalization,
  L2_POOL_2D: l2Pool,
  LEAKY_RELU: act.leakyRelu,
  LESS: ew.less,
  LESS_EQUAL: ew.lessEqual,
  LOCAL_RESPONSE_NORMALIZATION: localResponseNormalization,
  LOGICAL_AND: ew.logicalAnd,
  LOGICAL_NOT: act.logicalNot,
  LOGICAL_OR: ew.logicalOr,
  LOG: act.log,
  LOGISTIC: act.logistic,
  LOG_SOFTMAX: logSoftmax,
  MAXIMUM: ew.maximum,
  MAX_POOL_2D: maxPool,
  MEAN: red.mean,
  MINIMUM: ew.minimum,
  MIRROR_PAD: sh.mirrorPad,
  MUL: ew.mul,
  NEG: act.neg,
  NON_MAX_SUPPRESSION_V4: nonMaxSuppressionV4,
  NOT_EQUAL: ew.notEqual,
  POW: ew.pow,
  ONE_HOT: oneHot,
  PACK: sh.pack,
  PAD: sh.pad,
  PADV2: sh.pad,
  PRELU: act.prelu,
  QUANTIZE: quantize,
  REDUCE_MAX: red.reduceMax,
  REDUCE_MIN: red.reduceMin,
  REDUCE_PROD: red.reduceProd,
  RANGE: range,
  RELU: act.relu,
  RELU6: act.relu6,
  RELU_N1_TO_1: act.reluN1To1,
  RESHAPE: sh.reshape,
  RESIZE_BILINEAR: resizeBilinear,
  RESIZE_NEAREST_NEIGHBOR: resizeNearestNeighbor,
  ROUND: act.round,
  RSQRT: act.rsqrt,
  SELECT_V2: selectV2,
  SHAPE: sh.shapeOp,
  SIN: act.sin,
  SLICE: sh.slice,
  SOFTMAX: softmax,
  SPACE_TO_BATCH_ND: sh.spaceToBatchNd,
  SPACE_TO_DEPTH: sh.spaceToDepth,
  SPLIT: sh.split,
  SPLIT_V: sh.splitV,
  SQRT: act.sqrt,
  SQUARE: act.square,
  SQUARED_DIFFERENCE: ew.squaredDifference,
  SQUEEZE: sh.squeeze,
  STRIDED_SLICE: sh.stridedSlice,
  SUB: ew.sub,
  SUM: red.sum,
  TANH: act.tanh,
  TILE: sh.tile,
  TOPK_V2: topkV2,
  TRANSPOSE: sh.transpose,
  TRANSPOSE_CONV: transposeConv,
  UNIDIRECTIONAL_SEQUENCE_LSTM: unidirectionalSequenceLstm,
  UNPACK: sh.unpack,
  REVERSE_SEQUENCE: reverseSequence,
  SCATTER_ND: scatterNd,
  WHERE: where,
};

export const CUSTOM_KERNEL_FUNCTIONS: Readonly<Record<string, Kernel>> = {
  TFLite_Detection_PostProcess: detectionPostProcess,
};

/** Kernels joined with the catalog's versions: an op runs when it has both (the catalog test fails when one is missing). */
function join(
  fns: Readonly<Record<string, Kernel>>,
  specs: Readonly<Record<string, { kernel?: number }>>,
): Record<string, KernelEntry> {
  return Object.fromEntries(
    Object.entries(fns).flatMap(([op, prepare]) => {
      const maxVersion = specs[op]?.kernel;
      return maxVersion === undefined ? [] : [[op, { maxVersion, prepare }]];
    }),
  );
}

/** Every builtin op the interpreter runs, with the highest TFLite op version it implements. */
export const BUILTIN_KERNELS: Readonly<Record<string, KernelEntry>> = join(BUILTIN_KERNEL_FUNCTIONS, OPS);
export const CUSTOM_KERNELS: Readonly<Record<string, KernelEntry>> = join(CUSTOM_KERNEL_FUNCTIONS, CUSTOM_OPS);

export function kernelFor(op: Op): KernelEntry | undefined {
  if (op.type === 'CUSTOM') return op.customCode ? CUSTOM_KERNELS[op.customCode] : undefined;
  return BUILTIN_KERNELS[op.type];
}

/** Names of every op the interpreter runs (custom ops as CUSTOM:<code>). */
export function supportedOps(): string[] {
  return [...Object.keys(BUILTIN_KERNELS), ...Object.keys(CUSTOM_KERNELS).map((c) => `CUSTOM:${c}`)].sort();
}
