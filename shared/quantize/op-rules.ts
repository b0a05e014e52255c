/**
 * How each TFLite builtin is quantized under the int8 spec (tensorflow.org/lite/performance/quantization_spec), as
 * data: which input holds symmetric weights (and the per-channel axis), which holds the int32 bias, how the output
 * scale is chosen, and the op version the converter writes for int8 kernels (tensorflow/lite/tools/versioning).
 */

export type OutputRule =
  /** From the output's calibrated range. */
  | { kind: 'free' }
  /** Every float input and output share one scale/zero point (TFLite: restrict_same_input_output_scale). */
  | { kind: 'same' }
  /** Fixed by the int8 kernel. */
  | { kind: 'fixed'; scale: number; zeroPoint: number };

export interface OpRule {
  version: number;
  output: OutputRule;
  /** Input index of constant weights quantized symmetric int8; axis null = per tensor. */
  weights?: { input: number; axis: number | null };
  /** Input index of the bias (int32, scale = input scale × weight scale, quantized_dimension 0). */
  bias?: number;
}

const FREE: OutputRule = { kind: 'free' };
const SAME: OutputRule = { kind: 'same' };
const fixed = (scale: number, zeroPoint: number): OutputRule => ({ kind: 'fixed', scale, zeroPoint });

export const OP_RULES: Readonly<Record<string, OpRule>> = {
  CONV_2D: { version: 3, output: FREE, weights: { input: 1, axis: 0 }, bias: 2 },
  DEPTHWISE_CONV_2D: { version: 3, output: FREE, weights: { input: 1, axis: 3 }, bias: 2 },
  FULLY_CONNECTED: { version: 4, output: FREE, weights: { input: 1, axis: null }, bias: 2 },
  ADD: { version: 2, output: FREE },
  SUB: { version: 2, output: FREE },
  MUL: { version: 2, output: FREE },
  MEAN: { version: 2, output: FREE },
  RELU: { version: 2, output: FREE },
  RELU6: { version: 2, output: FREE },
  RELU_N1_TO_1: { version: 2, output: FREE },
  LEAKY_RELU: { version: 2, output: FREE },
  // int8 PRELU is version 1 (the Edge TPU maps it from runtime 13); alpha is quantized as a constant operand.
  PRELU: { version: 1, output: FREE },
  HARD_SWISH: { version: 1, output: FREE },
  SQUARED_DIFFERENCE: { version: 1, output: FREE },
  AVERAGE_POOL_2D: { version: 2, output: SAME },
  MAX_POOL_2D: { version: 2, output: SAME },
  CONCATENATION: { version: 2, output: SAME },
  RESHAPE: { version: 1, output: SAME },
  SQUEEZE: { version: 1, output: SAME },
  EXPAND_DIMS: { version: 1, output: SAME },
  TRANSPOSE: { version: 2, output: SAME },
  PAD: { version: 2, output: SAME },
  PADV2: { version: 2, output: SAME },
  SPACE_TO_DEPTH: { version: 2, output: SAME },
  DEPTH_TO_SPACE: { version: 2, output: SAME },
  RESIZE_BILINEAR: { version: 2, output: SAME },
  RESIZE_NEAREST_NEIGHBOR: { version: 2, output: SAME },
  STRIDED_SLICE: { version: 2, output: SAME },
  SLICE: { version: 2, output: SAME },
  SPLIT: { version: 2, output: SAME },
  SPLIT_V: { version: 2, output: SAME },
  PACK: { version: 2, output: SAME },
  UNPACK: { version: 2, output: SAME },
  GATHER: { version: 2, output: SAME },
  // int8 params keep version 1 (tensorflow/lite/tools/versioning: only int16/string/bool params raise it).
  GATHER_ND: { version: 1, output: SAME },
  MAXIMUM: { version: 2, output: SAME },
  MINIMUM: { version: 2, output: SAME },
  BATCH_TO_SPACE_ND: { version: 2, output: SAME },
  SPACE_TO_BATCH_ND: { version: 2, output: SAME },
  // Integer outputs (class indices): only the input is quantized, with its own range.
  ARG_MAX: { version: 2, output: FREE },
  ARG_MIN: { version: 2, output: FREE },
  // bool outputs: the int8 comparison kernels rescale each input from its own parameters.
  EQUAL: { version: 2, output: FREE },
  NOT_EQUAL: { version: 2, output: FREE },
  GREATER: { version: 2, output: FREE },
  GREATER_EQUAL: { version: 2, output: FREE },
  LESS: { version: 2, output: FREE },
  LESS_EQUAL: { version: 2, output: FREE },
  // Values keep the input's parameters (output 1, the int32 indices, is not quantized).
  TOPK_V2: { version: 2, output: SAME },
  LOGISTIC: { version: 2, output: fixed(1 / 256, -128) },
  SOFTMAX: { version: 2, output: fixed(1 / 256, -128) },
  TANH: { version: 2, output: fixed(1 / 128, 0) },
  L2_NORMALIZATION: { version: 2, output: fixed(1 / 128, 0) },
  LOG_SOFTMAX: { version: 2, output: fixed(16 / 256, 127) },
};

/**
 * Custom ops that TFLite runs in float on the CPU after the quantized part, with outputs that are float by definition
 * (TFLite_Detection_PostProcess: box corners, class indices, scores, count). They stay float without the float-fallback
 * option: their inputs are DEQUANTIZE'd, and outputs that only leave the model stay float32 (quantizing a class index
 * or a count to int8 would change it). The Edge TPU compiler leaves them on the CPU at the end of the model.
 */
export const FLOAT_TAIL_CUSTOM_OPS: ReadonlySet<string> = new Set(['TFLite_Detection_PostProcess']);

/** Version of the boundary ops Kiln inserts (QUANTIZE int8↔uint8 and float→int8; DEQUANTIZE int8→float). */
export const QUANTIZE_VERSION = 1;
export const DEQUANTIZE_VERSION = 2;

/** Output bounds of fused activations (ActivationFunctionType: 1 RELU, 2 RELU_N1_TO_1, 3 RELU6). */
export const FUSED_ACTIVATION_BOUNDS: Readonly<Record<number, readonly [number, number]>> = {
  1: [0, Infinity],
  2: [-1, 1],
  3: [0, 6],
};

/** Bounds of standalone activation ops. */
export const ACTIVATION_OP_BOUNDS: Readonly<Record<string, readonly [number, number]>> = {
  RELU: [0, Infinity],
  RELU6: [0, 6],
  RELU_N1_TO_1: [-1, 1],
};
