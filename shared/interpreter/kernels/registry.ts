import type { Op } from '../../ir/types.js';
import type { Kernel, KernelEntry } from '../kernel.js';
import * as act from './activations.js';
import { conv2d } from './conv.js';
import { depthwiseConv2d } from './depthwise.js';
import { detectionPostProcess } from './detection-postprocess.js';
import * as ew from './elementwise.js';
import { fullyConnected } from './fully-connected.js';
import { l2Normalization } from './l2-normalization.js';
import { unidirectionalSequenceLstm } from './lstm.js';
import { averagePool, l2Pool, maxPool } from './pool.js';
import { cast, dequantize, quantize } from './quantize.js';
import * as red from './reduce.js';
import { resizeBilinear, resizeNearestNeighbor } from './resize.js';
import * as sh from './shape.js';
import { softmax } from './softmax.js';
import { topkV2 } from './topk.js';
import { transposeConv } from './transpose-conv.js';

const e = (maxVersion: number, prepare: Kernel): KernelEntry => ({ maxVersion, prepare });

/**
 * Every builtin op the interpreter runs, with the highest TFLite op version it implements. Later versions of an op
 * mostly add tensor types; the kernels refuse types they do not handle with a clear error.
 */
export const BUILTIN_KERNELS: Readonly<Record<string, KernelEntry>> = {
  ABS: e(2, act.abs),
  ADD: e(4, ew.add),
  ARG_MAX: e(3, red.argMax),
  ARG_MIN: e(3, red.argMin),
  AVERAGE_POOL_2D: e(3, averagePool),
  BATCH_TO_SPACE_ND: e(3, sh.batchToSpaceNd),
  CAST: e(3, cast),
  CONCATENATION: e(3, sh.concatenation),
  CONV_2D: e(4, conv2d),
  DEPTHWISE_CONV_2D: e(6, depthwiseConv2d),
  DEPTH_TO_SPACE: e(2, sh.depthToSpace),
  DEQUANTIZE: e(5, dequantize),
  DIV: e(2, ew.div),
  EQUAL: e(3, ew.equal),
  EXP: e(1, act.exp),
  EXPAND_DIMS: e(2, sh.expandDims),
  FLOOR_DIV: e(3, ew.floorDiv),
  FLOOR_MOD: e(2, ew.floorMod),
  FULLY_CONNECTED: e(9, fullyConnected),
  GATHER: e(5, sh.gather),
  GATHER_ND: e(4, sh.gatherNd),
  GREATER: e(2, ew.greater),
  GREATER_EQUAL: e(2, ew.greaterEqual),
  HARD_SWISH: e(1, act.hardSwish),
  L2_NORMALIZATION: e(2, l2Normalization),
  L2_POOL_2D: e(1, l2Pool),
  LEAKY_RELU: e(2, act.leakyRelu),
  LESS: e(2, ew.less),
  LESS_EQUAL: e(2, ew.lessEqual),
  LOG: e(1, act.log),
  LOGISTIC: e(3, act.logistic),
  MAXIMUM: e(4, ew.maximum),
  MAX_POOL_2D: e(3, maxPool),
  MEAN: e(3, red.mean),
  MINIMUM: e(4, ew.minimum),
  MIRROR_PAD: e(2, sh.mirrorPad),
  MUL: e(5, ew.mul),
  NEG: e(2, act.neg),
  NOT_EQUAL: e(2, ew.notEqual),
  PACK: e(3, sh.pack),
  PAD: e(4, sh.pad),
  PADV2: e(4, sh.pad),
  PRELU: e(1, act.prelu),
  QUANTIZE: e(3, quantize),
  REDUCE_MAX: e(3, red.reduceMax),
  REDUCE_MIN: e(3, red.reduceMin),
  REDUCE_PROD: e(2, red.reduceProd),
  RELU: e(3, act.relu),
  RELU6: e(3, act.relu6),
  RELU_N1_TO_1: e(2, act.reluN1To1),
  RESHAPE: e(2, sh.reshape),
  RESIZE_BILINEAR: e(4, resizeBilinear),
  RESIZE_NEAREST_NEIGHBOR: e(4, resizeNearestNeighbor),
  RSQRT: e(1, act.rsqrt),
  SHAPE: e(1, sh.shapeOp),
  SLICE: e(5, sh.slice),
  SOFTMAX: e(3, softmax),
  SPACE_TO_BATCH_ND: e(3, sh.spaceToBatchNd),
  SPACE_TO_DEPTH: e(2, sh.spaceToDepth),
  SPLIT: e(4, sh.split),
  SPLIT_V: e(2, sh.splitV),
  SQRT: e(1, act.sqrt),
  SQUARE: e(1, act.square),
  SQUARED_DIFFERENCE: e(2, ew.squaredDifference),
  SQUEEZE: e(2, sh.squeeze),
  STRIDED_SLICE: e(6, sh.stridedSlice),
  SUB: e(5, ew.sub),
  SUM: e(2, red.sum),
  TANH: e(3, act.tanh),
  TILE: e(3, sh.tile),
  TOPK_V2: e(2, topkV2),
  TRANSPOSE: e(6, sh.transpose),
  TRANSPOSE_CONV: e(3, transposeConv),
  UNIDIRECTIONAL_SEQUENCE_LSTM: e(3, unidirectionalSequenceLstm),
  UNPACK: e(4, sh.unpack),
};

export const CUSTOM_KERNELS: Readonly<Record<string, KernelEntry>> = {
  TFLite_Detection_PostProcess: e(1, detectionPostProcess),
};

export function kernelFor(op: Op): KernelEntry | undefined {
  if (op.type === 'CUSTOM') return op.customCode ? CUSTOM_KERNELS[op.customCode] : undefined;
  return BUILTIN_KERNELS[op.type];
}

/** Names of every op the interpreter runs (custom ops as CUSTOM:<code>). */
export function supportedOps(): string[] {
  return [...Object.keys(BUILTIN_KERNELS), ...Object.keys(CUSTOM_KERNELS).map((c) => `CUSTOM:${c}`)].sort();
}
