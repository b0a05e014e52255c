/**
 * What Kiln knows about one TFLite operator, as data. The catalog (catalog.ts) holds one OpSpec per op; the per-stage
 * tables (validation arity, shape inference, interpreter versions, quantization rules, Edge TPU support, parameter
 * sizes, MAC rules) are derived from it. This file imports nothing so that every layer can depend on it.
 */

/** Named shape rules of shared/toolchain/ir/shape-inference.ts (Record<ShapeRule, …> there: each name has exactly one rule). */
export type ShapeRule =
  | 'same'
  | 'binary'
  | 'compare'
  | 'conv'
  | 'depthwise'
  | 'transposeConv'
  | 'pool'
  | 'fullyConnected'
  | 'reshape'
  | 'squeeze'
  | 'expandDims'
  | 'concatenation'
  | 'pack'
  | 'unpack'
  | 'split'
  | 'splitV'
  | 'slice'
  | 'stridedSlice'
  | 'pad'
  | 'reduce'
  | 'resize'
  | 'spaceToDepth'
  | 'depthToSpace'
  | 'transpose'
  | 'tile'
  | 'gather'
  | 'gatherNd'
  | 'topkV2'
  | 'argMinMax'
  | 'batchToSpaceNd'
  | 'spaceToBatchNd'
  | 'shape';

export type OutputRule =
  /** From the output's calibrated range. */
  | { kind: 'free' }
  /** Every float input and output share one scale/zero point (TFLite: restrict_same_input_output_scale). */
  | { kind: 'same' }
  /** Fixed by the int8 kernel. */
  | { kind: 'fixed'; scale: number; zeroPoint: number };

/** How a builtin is quantized under the int8 spec (shared/toolchain/quantize/op-rules.ts). */
export interface OpRule {
  /** Op version the converter writes for int8 kernels (tensorflow/lite/tools/versioning). */
  version: number;
  output: OutputRule;
  /** Input index of constant weights quantized symmetric int8; axis null = per tensor. */
  weights?: { input: number; axis: number | null };
  /** Input index of the bias (int32, scale = input scale × weight scale, quantized_dimension 0). */
  bias?: number;
}

/** Limitation ids of the Edge TPU table; shared/toolchain/edgetpu/limits.ts checks each (Record<LimitId, Limit>). */
export type LimitId =
  | 'noFusedActivation'
  | 'concatConstantInput'
  | 'equalDilation'
  | 'depthwiseDilationBefore13'
  | 'fcDefaultWeights'
  | 'fcOutputSize'
  | 'reduceAxes'
  | 'notAlongBatch'
  | 'padAxes'
  | 'preluAlpha'
  | 'quantizeFloatInput'
  | 'resizeScale'
  | 'softmaxSize'
  | 'squeezeLeading'
  | 'stridedSliceMasks'
  | 'tileSpatialBroadcast';

/**
 * A row of the Edge TPU supported-operations table (spec §3).
 *
 * - `minRuntime`: lowest Edge TPU runtime (`-m`) for which compiler 16 maps the op (10 = Coral's "All").
 * - `maxVersion`: highest TFLite op version compiler 16 maps; newer versions get "Operation version not supported".
 *   The versions above the int8/uint8 kernels add int16, hybrid or other features the Edge TPU does not run [I].
 * - `constInputs`: input positions that must be compile-time constants (weights, bias, shape-type params).
 * - `limits`: limitation ids (limits.ts) checked in order; a violation gives the "unspecified limitation" status.
 * - `source`: confidence tag of the spec row (D documented, V verified on real pairs, O observed, I/U inferred).
 */
export interface EdgeTpuSupport {
  coral: string;
  minRuntime: number;
  maxVersion: number;
  constInputs: readonly number[];
  limits: readonly LimitId[];
  notes: string;
  source: 'D' | 'V' | 'O' | 'I' | 'U';
}

/** MAC rules of shared/toolchain/verify/latency/macs.ts (Record<MacRule, …> there). */
export type MacRule = 'conv' | 'depthwise' | 'fc' | 'transposeConv';

/** The front ends of shared/loaders, by the name of their op table. */
export type FrontEnd = 'tf' | 'keras' | 'onnx';

export interface OpSpec {
  /** Fewest inputs (present, not −1) and outputs the op needs, per TFLite's kernels; default [1, 1]. */
  arity?: readonly [minInputs: number, minOutputs: number];
  /** Shape rule that infers the op's outputs; none: builders must give output shapes explicitly. */
  shape?: ShapeRule;
  /** Highest TFLite op version the interpreter's kernel implements; none: the interpreter does not run the op. */
  kernel?: number;
  /** int8 quantization rule; none: the op stays float (or the model needs the float-fallback option). */
  quant?: OpRule;
  /** Output bounds of a standalone activation op (calibration clamps its range to them). */
  bounds?: readonly [number, number];
  /** Edge TPU support; none: the op runs on the CPU. */
  edgetpu?: EdgeTpuSupport;
  /** For a CPU-only op: what to use instead (the report's `fix`). */
  cpuAlternative?: string;
  /**
   * Highest op version the TFLite interpreter embedded in compiler 16 (a TFLite ~2.5 build, spec §2.1(6)) registers;
   * newer versions do not parse. Only ops whose 2.5 maxima we know carry it [I]; others are accepted at any version.
   */
  embeddedMaxVersion?: number;
  /**
   * How the Edge TPU stores the op's constant inputs (shared/toolchain/edgetpu/memory.ts): a weight layer (the input index and
   * whether output channels are its first or last axis), or 'data' (constant data operands, stored at raw size).
   * None: constant inputs are shape-type parameters folded into instructions.
   */
  params?: { weights: number; channelsAxis: 'first' | 'last' } | 'data';
  /** Work on the MAC array (shared/toolchain/verify/latency/macs.ts): rule, weights input, data input. None: elementwise. */
  macs?: { rule: MacRule; weights: number; data: number };
  /**
   * Source ops of each front end whose converter emits this op (keys of TF_OPS, KERAS_LAYERS, ONNX_OPS): the direct
   * translation and the ops of a lowering (ONNX Softplus → EXP, ADD, LOG). Activations fused into a layer's config
   * (Keras Dense(activation=…), TF _FusedConv2D) are listed under the activation only where the front end has a
   * standalone source op for them too (Keras Activation, the TF fused_ops tail).
   */
  from?: Partial<Record<FrontEnd, readonly string[]>>;
}

/** A custom op (op type CUSTOM, identified by its custom code). */
export interface CustomOpSpec {
  /** Highest version the interpreter's kernel implements. */
  kernel?: number;
  /**
   * TFLite runs it in float on the CPU after the quantized part, with outputs that are float by definition; it stays
   * float without the float-fallback option (shared/toolchain/quantize/op-rules.ts FLOAT_TAIL_CUSTOM_OPS).
   */
  floatTail?: boolean;
}
