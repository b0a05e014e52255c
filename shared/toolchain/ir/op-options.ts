import { BuiltinOptions, fb } from '../tflite/schema.js';

type OptionsClass = new () => object;

/**
 * Which builtin options table each operator carries (TFLite schema). One table drives the builder, the loaders and
 * anything else that creates ops, so that a new op needs one line here.
 */
export const OP_OPTIONS: Readonly<Record<string, readonly [BuiltinOptions, OptionsClass]>> = {
  CONV_2D: [BuiltinOptions.Conv2DOptions, fb.Conv2DOptionsT],
  DEPTHWISE_CONV_2D: [BuiltinOptions.DepthwiseConv2DOptions, fb.DepthwiseConv2DOptionsT],
  TRANSPOSE_CONV: [BuiltinOptions.TransposeConvOptions, fb.TransposeConvOptionsT],
  AVERAGE_POOL_2D: [BuiltinOptions.Pool2DOptions, fb.Pool2DOptionsT],
  MAX_POOL_2D: [BuiltinOptions.Pool2DOptions, fb.Pool2DOptionsT],
  L2_POOL_2D: [BuiltinOptions.Pool2DOptions, fb.Pool2DOptionsT],
  FULLY_CONNECTED: [BuiltinOptions.FullyConnectedOptions, fb.FullyConnectedOptionsT],
  SOFTMAX: [BuiltinOptions.SoftmaxOptions, fb.SoftmaxOptionsT],
  LOG_SOFTMAX: [BuiltinOptions.LogSoftmaxOptions, fb.LogSoftmaxOptionsT],
  CONCATENATION: [BuiltinOptions.ConcatenationOptions, fb.ConcatenationOptionsT],
  ADD: [BuiltinOptions.AddOptions, fb.AddOptionsT],
  SUB: [BuiltinOptions.SubOptions, fb.SubOptionsT],
  MUL: [BuiltinOptions.MulOptions, fb.MulOptionsT],
  DIV: [BuiltinOptions.DivOptions, fb.DivOptionsT],
  L2_NORMALIZATION: [BuiltinOptions.L2NormOptions, fb.L2NormOptionsT],
  LOCAL_RESPONSE_NORMALIZATION: [
    BuiltinOptions.LocalResponseNormalizationOptions,
    fb.LocalResponseNormalizationOptionsT,
  ],
  RESIZE_BILINEAR: [BuiltinOptions.ResizeBilinearOptions, fb.ResizeBilinearOptionsT],
  RESIZE_NEAREST_NEIGHBOR: [BuiltinOptions.ResizeNearestNeighborOptions, fb.ResizeNearestNeighborOptionsT],
  RESHAPE: [BuiltinOptions.ReshapeOptions, fb.ReshapeOptionsT],
  SPACE_TO_DEPTH: [BuiltinOptions.SpaceToDepthOptions, fb.SpaceToDepthOptionsT],
  DEPTH_TO_SPACE: [BuiltinOptions.DepthToSpaceOptions, fb.DepthToSpaceOptionsT],
  PAD: [BuiltinOptions.PadOptions, fb.PadOptionsT],
  PADV2: [BuiltinOptions.PadV2Options, fb.PadV2OptionsT],
  MIRROR_PAD: [BuiltinOptions.MirrorPadOptions, fb.MirrorPadOptionsT],
  GATHER: [BuiltinOptions.GatherOptions, fb.GatherOptionsT],
  GATHER_ND: [BuiltinOptions.GatherNdOptions, fb.GatherNdOptionsT],
  BATCH_TO_SPACE_ND: [BuiltinOptions.BatchToSpaceNDOptions, fb.BatchToSpaceNDOptionsT],
  SPACE_TO_BATCH_ND: [BuiltinOptions.SpaceToBatchNDOptions, fb.SpaceToBatchNDOptionsT],
  TRANSPOSE: [BuiltinOptions.TransposeOptions, fb.TransposeOptionsT],
  MEAN: [BuiltinOptions.ReducerOptions, fb.ReducerOptionsT],
  SUM: [BuiltinOptions.ReducerOptions, fb.ReducerOptionsT],
  REDUCE_MAX: [BuiltinOptions.ReducerOptions, fb.ReducerOptionsT],
  REDUCE_MIN: [BuiltinOptions.ReducerOptions, fb.ReducerOptionsT],
  REDUCE_PROD: [BuiltinOptions.ReducerOptions, fb.ReducerOptionsT],
  SQUEEZE: [BuiltinOptions.SqueezeOptions, fb.SqueezeOptionsT],
  STRIDED_SLICE: [BuiltinOptions.StridedSliceOptions, fb.StridedSliceOptionsT],
  EXP: [BuiltinOptions.ExpOptions, fb.ExpOptionsT],
  SPLIT: [BuiltinOptions.SplitOptions, fb.SplitOptionsT],
  SPLIT_V: [BuiltinOptions.SplitVOptions, fb.SplitVOptionsT],
  CAST: [BuiltinOptions.CastOptions, fb.CastOptionsT],
  DEQUANTIZE: [BuiltinOptions.DequantizeOptions, fb.DequantizeOptionsT],
  QUANTIZE: [BuiltinOptions.QuantizeOptions, fb.QuantizeOptionsT],
  MAXIMUM: [BuiltinOptions.MaximumMinimumOptions, fb.MaximumMinimumOptionsT],
  MINIMUM: [BuiltinOptions.MaximumMinimumOptions, fb.MaximumMinimumOptionsT],
  ARG_MAX: [BuiltinOptions.ArgMaxOptions, fb.ArgMaxOptionsT],
  ARG_MIN: [BuiltinOptions.ArgMinOptions, fb.ArgMinOptionsT],
  SLICE: [BuiltinOptions.SliceOptions, fb.SliceOptionsT],
  TILE: [BuiltinOptions.TileOptions, fb.TileOptionsT],
  EXPAND_DIMS: [BuiltinOptions.ExpandDimsOptions, fb.ExpandDimsOptionsT],
  PACK: [BuiltinOptions.PackOptions, fb.PackOptionsT],
  UNPACK: [BuiltinOptions.UnpackOptions, fb.UnpackOptionsT],
  FLOOR_DIV: [BuiltinOptions.FloorDivOptions, fb.FloorDivOptionsT],
  FLOOR_MOD: [BuiltinOptions.FloorModOptions, fb.FloorModOptionsT],
  LEAKY_RELU: [BuiltinOptions.LeakyReluOptions, fb.LeakyReluOptionsT],
  SQUARED_DIFFERENCE: [BuiltinOptions.SquaredDifferenceOptions, fb.SquaredDifferenceOptionsT],
  HARD_SWISH: [BuiltinOptions.HardSwishOptions, fb.HardSwishOptionsT],
  ABS: [BuiltinOptions.AbsOptions, fb.AbsOptionsT],
  NEG: [BuiltinOptions.NegOptions, fb.NegOptionsT],
  POW: [BuiltinOptions.PowOptions, fb.PowOptionsT],
  SQUARE: [BuiltinOptions.SquareOptions, fb.SquareOptionsT],
  SHAPE: [BuiltinOptions.ShapeOptions, fb.ShapeOptionsT],
  LESS: [BuiltinOptions.LessOptions, fb.LessOptionsT],
  GREATER: [BuiltinOptions.GreaterOptions, fb.GreaterOptionsT],
  EQUAL: [BuiltinOptions.EqualOptions, fb.EqualOptionsT],
  TOPK_V2: [BuiltinOptions.TopKV2Options, fb.TopKV2OptionsT],
  NON_MAX_SUPPRESSION_V4: [BuiltinOptions.NonMaxSuppressionV4Options, fb.NonMaxSuppressionV4OptionsT],
  UNIDIRECTIONAL_SEQUENCE_LSTM: [
    BuiltinOptions.UnidirectionalSequenceLSTMOptions,
    fb.UnidirectionalSequenceLSTMOptionsT,
  ],
  GELU: [BuiltinOptions.GeluOptions, fb.GeluOptionsT],
  CUMSUM: [BuiltinOptions.CumsumOptions, fb.CumsumOptionsT],
  ONE_HOT: [BuiltinOptions.OneHotOptions, fb.OneHotOptionsT],
  BATCH_MATMUL: [BuiltinOptions.BatchMatMulOptions, fb.BatchMatMulOptionsT],
  REVERSE_SEQUENCE: [BuiltinOptions.ReverseSequenceOptions, fb.ReverseSequenceOptionsT],
};

/** A builtin options table for `type`, with the given fields set (others keep the schema defaults). */
export function makeOptions(
  type: string,
  fields: Record<string, unknown> = {},
): { options: object | null; optionsType: number } {
  const entry = OP_OPTIONS[type];
  if (!entry) {
    if (Object.keys(fields).length > 0) throw new Error(`${type} takes no builtin options`);
    return { options: null, optionsType: BuiltinOptions.NONE };
  }
  const options = Object.assign(new entry[1](), fields);
  for (const k of Object.keys(fields)) {
    if (!(k in new entry[1]())) throw new Error(`${type} options have no field ${k}`);
  }
  return { options, optionsType: entry[0] };
}
