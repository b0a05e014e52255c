import type { DType } from './dtype.js';

/** Affine quantization: real = scale · (q − zeroPoint). Per-channel when scale has more than one entry. */
export interface Quantization {
  scale: number[];
  zeroPoint: number[];
  /** quantized_dimension: the channel axis for per-channel parameters. */
  axis: number;
  /** Calibrated float range, when the file records it. */
  min?: number[];
  max?: number[];
}

export interface Tensor {
  /** Index in graph.tensors. */
  readonly id: number;
  name: string;
  dtype: DType;
  shape: number[];
  /** −1 marks dynamic dimensions; absent when the shape is fully static. */
  shapeSignature?: number[];
  quant?: Quantization;
  /** Constant data as raw little-endian bytes. Absent for activations and graph inputs. */
  data?: Uint8Array;
  isVariable?: boolean;
  /** Fields Kiln does not model but keeps for a faithful write (e.g. sparsity, custom quantization details). */
  extra?: Record<string, unknown>;
}

/**
 * One operator. `type` is the TFLite builtin enum name (`CONV_2D`, `CUSTOM`, …). `options` is the builtin options
 * table exactly as the TFLite schema defines it (the flatc-generated `…OptionsT` object; field names in camelCase).
 */
export interface Op {
  readonly id: number;
  type: string;
  version: number;
  /** Tensor ids; −1 marks an omitted optional input. */
  inputs: number[];
  outputs: number[];
  options: object | null;
  /** BuiltinOptions union discriminant for `options` (0 = NONE). */
  optionsType: number;
  customCode?: string;
  customOptions?: Uint8Array;
  /** Fields Kiln does not model but keeps (intermediates, mutating_variable_inputs, builtin_options_2, ...). */
  extra?: Record<string, unknown>;
}
