import type { Graph } from '../ir/graph.js';
import type { TensorStat } from './ranges.js';
import type { Pass, PassContext, PassOptions } from './passes/context.js';
import { floatFallback, emitOps, ioBoundaries } from './passes/boundary.js';
import { selectOps } from './passes/ops.js';
import { activationRanges, fixedScales, foldActivations, markWeights, sharedScales } from './passes/ranges.js';
import { retypeActivations } from './passes/retype.js';
import { freezeShapes } from './passes/shapes.js';
import { quantizeBiases, quantizeConstants, quantizeWeights } from './passes/weights.js';

/** Float graph + calibration statistics → int8 graph, in this order. */
export const PASSES: readonly Pass[] = [
  freezeShapes, // static shapes (drop −1 signatures)
  selectOps, // int8 rule per op; float fallback only if allowed
  markWeights, // constant weights/biases of CONV_2D, DEPTHWISE_CONV_2D, FULLY_CONNECTED
  activationRanges, // calibrated range per activation (minmax | percentile | mse)
  foldActivations, // fused RELU/RELU6/RELU_N1_TO_1 bound the output range
  fixedScales, // LOGISTIC, SOFTMAX, TANH, … fixed output parameters
  sharedScales, // same-scale groups (pooling, reshape, concatenation, …) → int8 parameters
  quantizeWeights, // symmetric int8, per channel for convolutions
  quantizeBiases, // int32, input scale × weight scale
  quantizeConstants, // other float constants: asymmetric int8
  floatFallback, // DEQUANTIZE/QUANTIZE around ops left in float
  retypeActivations, // activations → int8 with their parameters, int8 op versions
  ioBoundaries, // uint8 I/O through QUANTIZE at each end (or int8 I/O)
  emitOps, // final op order
];

/** Runs the passes on `g` (mutated in place); returns the warnings they raised. */
export function runPasses(
  g: Graph,
  stats: Map<number, TensorStat>,
  options: PassOptions,
  passes: readonly Pass[] = PASSES,
): string[] {
  const ctx: PassContext = {
    g,
    index: g.index(),
    stats,
    options,
    rules: new Map(),
    floatOps: new Set(),
    floatOutputs: new Set(),
    ranges: new Map(),
    fixed: new Map(),
    params: new Map(),
    weightTensors: new Set(),
    before: new Map(),
    after: new Map(),
    prologue: [],
    epilogue: [],
    warnings: [],
  };
  for (const pass of passes) pass.run(ctx);
  return ctx.warnings;
}
