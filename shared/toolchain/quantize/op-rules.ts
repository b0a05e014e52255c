/**
 * How each TFLite builtin is quantized under the int8 spec (tensorflow.org/lite/performance/quantization_spec), as
 * data: which input holds symmetric weights (and the per-channel axis), which holds the int32 bias, how the output
 * scale is chosen, and the op version the converter writes for int8 kernels (tensorflow/lite/tools/versioning).
 * The rules live in the op catalog (shared/toolchain/ops/catalog.ts, `quant`); this module derives the lookup tables.
 */
import { CUSTOM_OPS, OPS } from '../ops/catalog.js';
import type { OpRule } from '../ops/types.js';

export type { OpRule, OutputRule } from '../ops/types.js';

export const OP_RULES: Readonly<Record<string, OpRule>> = Object.fromEntries(
  Object.entries(OPS).flatMap(([op, spec]) => (spec.quant ? [[op, spec.quant]] : [])),
);

/**
 * Custom ops that TFLite runs in float on the CPU after the quantized part, with outputs that are float by definition
 * (TFLite_Detection_PostProcess: box corners, class indices, scores, count). They stay float without the float-fallback
 * option: their inputs are DEQUANTIZE'd, and outputs that only leave the model stay float32 (quantizing a class index
 * or a count to int8 would change it). The Edge TPU compiler leaves them on the CPU at the end of the model.
 */
export const FLOAT_TAIL_CUSTOM_OPS: ReadonlySet<string> = new Set(
  Object.entries(CUSTOM_OPS).flatMap(([code, spec]) => (spec.floatTail ? [code] : [])),
);

/** Version of the boundary ops Kiln inserts (QUANTIZE int8↔uint8 and float→int8; DEQUANTIZE int8→float). */
export const QUANTIZE_VERSION = 1;
export const DEQUANTIZE_VERSION = 2;

/** Output bounds of fused activations (ActivationFunctionType: 1 RELU, 2 RELU_N1_TO_1, 3 RELU6). */
export const FUSED_ACTIVATION_BOUNDS: Readonly<Record<number, readonly [number, number]>> = {
  1: [0, Infinity],
  2: [-1, 1],
  3: [0, 6],
};

/** Bounds of standalone activation ops (the op catalog's `bounds`). */
export const ACTIVATION_OP_BOUNDS: Readonly<Record<string, readonly [number, number]>> = Object.fromEntries(
  Object.entries(OPS).flatMap(([op, spec]) => (spec.bounds ? [[op, spec.bounds]] : [])),
);
