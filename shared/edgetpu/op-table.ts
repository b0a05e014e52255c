/**
 * The Edge TPU supported-operations table (docs/specs/edgetpu-compiler.md §3) as data. It drives the per-op checks (classify.ts), the report's
 * reasons and fixes, and the generated doc page (docs/edgetpu-ops.md). One row per TFLite builtin the compiler maps.
 *
 * - `minRuntime`: lowest Edge TPU runtime (`-m`) for which compiler 16 maps the op (10 = Coral's "All").
 * - `maxVersion`: highest TFLite op version compiler 16 maps; newer versions get "Operation version not supported".
 *   The versions above the int8/uint8 kernels add int16, hybrid or other features the Edge TPU does not run [I].
 * - `constInputs`: input positions that must be compile-time constants (weights, bias, shape-type params).
 * - `limits`: limitation ids (limits.ts) checked in order; a violation gives the "unspecified limitation" status.
 * - `source`: confidence tag of the spec row (D documented, V verified on real pairs, O observed, I/U inferred).
 */
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

export interface OpEntry {
  op: string;
  coral: string;
  minRuntime: number;
  maxVersion: number;
  constInputs: readonly number[];
  limits: readonly LimitId[];
  notes: string;
  source: 'D' | 'V' | 'O' | 'I' | 'U';
}

const row = (
  op: string,
  coral: string,
  minRuntime: number,
  maxVersion: number,
  constInputs: number[],
  limits: LimitId[],
  notes: string,
  source: OpEntry['source'] = 'D',
): OpEntry => ({ op, coral, minRuntime, maxVersion, constInputs, limits, notes, source });

export const OP_TABLE: readonly OpEntry[] = [
  row('ADD', 'Add', 10, 2, [], [], '—'),
  row('AVERAGE_POOL_2D', 'AveragePool2d', 10, 2, [], ['noFusedActivation'], 'No fused activation.'),
  row(
    'CONCATENATION',
    'Concatenation',
    10,
    2,
    [],
    ['noFusedActivation', 'concatConstantInput'],
    'No fused activation. A constant input is allowed only as one of exactly 2 inputs and must be all zeros.',
  ),
  row('CONV_2D', 'Conv2d', 10, 3, [1, 2], ['equalDilation'], 'Dilation must be identical in x and y.'),
  row(
    'DEPTHWISE_CONV_2D',
    'DepthwiseConv2d',
    10,
    3,
    [1, 2],
    ['equalDilation', 'depthwiseDilationBefore13'],
    'Dilation identical in x and y; no dilation for runtime ≤ 12.',
    'U',
  ),
  row('EXPAND_DIMS', 'ExpandDims', 13, 1, [1], [], '—'),
  row(
    'FULLY_CONNECTED',
    'FullyConnected',
    10,
    5,
    [1, 2],
    ['fcDefaultWeights', 'fcOutputSize'],
    'Default weights format only (not shuffled); 1-D output; about 100,000 outputs is too big.',
  ),
  row('L2_NORMALIZATION', 'L2Normalization', 10, 2, [], [], '—'),
  row('LOGISTIC', 'Logistic', 10, 2, [], [], '—'),
  row(
    'UNIDIRECTIONAL_SEQUENCE_LSTM',
    'LSTM',
    14,
    3,
    [1, 2, 3, 4, 5, 6, 7, 8],
    [],
    'Unidirectional only; its variable state tensors are exempt from the data-type rule.',
    'V',
  ),
  row('MAXIMUM', 'Maximum', 10, 2, [], [], '—'),
  row('MAX_POOL_2D', 'MaxPool2d', 10, 2, [], ['noFusedActivation'], 'No fused activation.'),
  row(
    'MEAN',
    'Mean',
    10,
    2,
    [1],
    ['reduceAxes'],
    '≤12: over x and/or y only. 13+: never over batch; over z only when z is a multiple of 4.',
  ),
  row('MINIMUM', 'Minimum', 10, 2, [], [], '—'),
  row('MUL', 'Mul', 10, 3, [], [], '—'),
  row('PACK', 'Pack', 13, 2, [], ['notAlongBatch'], 'Not along the batch dimension.'),
  row('PAD', 'Pad', 10, 2, [1], ['padAxes'], '≤12: x/y padding only. 13+: no padding of the batch dimension.'),
  row('PRELU', 'PReLU', 13, 1, [1], ['preluAlpha'], 'Alpha must be 1-D (only the innermost dimension may be > 1).'),
  row(
    'QUANTIZE',
    'Quantize',
    13,
    2,
    [],
    ['quantizeFloatInput'],
    'Requantization between 8-bit types; float→int quantization of a graph input is not mapped.',
  ),
  row('REDUCE_MAX', 'ReduceMax', 14, 2, [1], ['notAlongBatch'], 'Not over the batch dimension.'),
  row('REDUCE_MIN', 'ReduceMin', 14, 2, [1], ['notAlongBatch'], 'Not over the batch dimension.'),
  row('RELU', 'ReLU', 10, 2, [], [], '—'),
  row('RELU6', 'ReLU6', 10, 2, [], [], '—'),
  row('RELU_N1_TO_1', 'ReLUN1To1', 10, 1, [], [], '—'),
  row(
    'RESHAPE',
    'Reshape',
    10,
    1,
    [1],
    [],
    'Some reshapes of large tensors may not map (threshold unknown, not checked).',
  ),
  row(
    'RESIZE_BILINEAR',
    'ResizeBilinear',
    10,
    3,
    [1],
    ['resizeScale'],
    'Not from a 1×1 input; output H·W ≤ 65,536 and upscale ≤ 8 (threshold inferred from real pairs).',
    'V',
  ),
  row('RESIZE_NEAREST_NEIGHBOR', 'ResizeNearestNeighbor', 10, 3, [1], ['resizeScale'], 'Same as ResizeBilinear.', 'V'),
  row('RSQRT', 'Rsqrt', 14, 2, [], [], '—'),
  row('SLICE', 'Slice', 10, 2, [1, 2], [], '—'),
  row('SOFTMAX', 'Softmax', 10, 2, [], ['softmaxSize'], '1-D input only, at most 16,000 elements.'),
  row('SPACE_TO_DEPTH', 'SpaceToDepth', 10, 2, [], [], '—'),
  row('SPLIT', 'Split', 10, 2, [0], ['notAlongBatch'], 'Not along batch.', 'U'),
  row(
    'SQUEEZE',
    'Squeeze',
    10,
    1,
    [],
    ['squeezeLeading'],
    '≤12: only leading 1s may be squeezed. 13+: no limitation.',
    'U',
  ),
  row(
    'STRIDED_SLICE',
    'StridedSlice',
    10,
    2,
    [1, 2, 3],
    ['stridedSliceMasks'],
    'All strides 1; ellipsis mask 0; new-axis mask 0.',
  ),
  row('SUB', 'Sub', 10, 2, [], [], '—'),
  row('SUM', 'Sum', 13, 2, [1], ['reduceAxes'], 'As Mean (13+ rules).'),
  row('SQUARED_DIFFERENCE', 'Squared-difference', 14, 2, [], [], '—'),
  row('TANH', 'Tanh', 10, 2, [], [], '—'),
  row('TRANSPOSE', 'Transpose', 14, 2, [1], [], 'Compiler 16 only.'),
  row('TRANSPOSE_CONV', 'TransposeConv', 13, 3, [0, 1, 3], [], 'Large layers may fail to map (threshold unknown).'),
  row(
    'TILE',
    'Tile',
    12,
    2,
    [1],
    ['tileSpatialBroadcast'],
    'Not in the published table; mapped in real models as a spatial broadcast [1,1,1,C]→[1,H,W,C].',
    'V',
  ),
];

export const OP_BY_NAME: ReadonlyMap<string, OpEntry> = new Map(OP_TABLE.map((e) => [e.op, e]));

/**
 * What to use instead of a CPU-only op (docs/specs/edgetpu-compiler.md §3 "frequently hit" list). Used in the report's `fix`.
 */
export const CPU_ONLY_ALTERNATIVES: Readonly<Record<string, string>> = {
  DEQUANTIZE:
    'drop it: convert with inference_output_type int8/uint8 so the model ends on a quantized tensor, and dequantize on the host',
  ARG_MAX:
    'run it on the host after the model (take the argmax of the quantized scores), or leave it as the very last op',
  ARG_MIN: 'run it on the host after the model, or leave it as the very last op',
  GATHER: 'use STRIDED_SLICE/SLICE for contiguous indices, or do the lookup on the host',
  GATHER_ND: 'use STRIDED_SLICE/SLICE, or do the lookup on the host',
  LEAKY_RELU: 'use RELU, RELU6 or PRELU (runtime 13+) instead of LeakyReLU',
  HARD_SWISH: 'use RELU6, or build x·ReLU6(x+3)/6 from ADD, RELU6 and MUL',
  ELU: 'use RELU or RELU6',
  EXP: 'avoid exp inside the network (e.g. use LOGISTIC/SOFTMAX, or move it to post-processing)',
  DIV: 'multiply by the constant reciprocal (MUL) instead of dividing',
  FLOOR_MOD: 'remove the modulo from the network or do it on the host',
  FLOOR_DIV: 'remove the integer division from the network or do it on the host',
  CAST: 'remove the type cast: keep the whole graph in int8/uint8',
  SPLIT_V: 'use SPLIT with equal parts, or STRIDED_SLICE per part',
  MIRROR_PAD: 'use PAD (zero padding), e.g. padding="same" convolutions',
  BATCH_TO_SPACE_ND:
    'use CONV_2D/DEPTHWISE_CONV_2D with a dilation rate instead of the SpaceToBatch/BatchToSpace pattern',
  SPACE_TO_BATCH_ND:
    'use CONV_2D/DEPTHWISE_CONV_2D with a dilation rate instead of the SpaceToBatch/BatchToSpace pattern',
  REVERSE_V2: 'reverse on the host, or flip the weights of the next layer instead',
  DEPTH_TO_SPACE: 'use TRANSPOSE_CONV or RESIZE_NEAREST_NEIGHBOR + CONV_2D for upsampling',
  LOG_SOFTMAX: 'use SOFTMAX and take the log on the host',
  POW: 'use MUL for small integer powers',
  SQRT: 'use RSQRT (runtime 14) and MUL',
  LOCAL_RESPONSE_NORMALIZATION: 'use batch normalization (folded into the convolution) instead of LRN',
  L2_POOL_2D: 'use AVERAGE_POOL_2D or MAX_POOL_2D',
  PADV2: 'use PAD (zero padding) with a zero point of the padded value',
  SQUARE: 'use MUL of the tensor with itself',
  CUSTOM:
    'run the custom op on the host after the Edge TPU part (e.g. detection post-processing stays on the CPU at the end)',
};

/**
 * Highest op versions the TFLite interpreter embedded in compiler 16 (a TFLite ~2.5 build, docs/specs/edgetpu-compiler.md §2.1(6)) registers.
 * A model using a newer version does not parse ("Didn't find op for builtin opcode …"). Only ops whose 2.5 maxima
 * we know are listed [I]; others are accepted at any version.
 */
export const EMBEDDED_TFLITE_MAX_VERSION: Readonly<Record<string, number>> = {
  ADD: 4,
  AVERAGE_POOL_2D: 3,
  CONCATENATION: 3,
  CONV_2D: 5,
  DEPTHWISE_CONV_2D: 6,
  DEQUANTIZE: 4,
  EXP: 1,
  FULLY_CONNECTED: 9,
  LOGISTIC: 3,
  MAX_POOL_2D: 3,
  MEAN: 3,
  MUL: 4,
  PAD: 2,
  QUANTIZE: 2,
  RELU: 2,
  RELU6: 2,
  RESHAPE: 1,
  RESIZE_BILINEAR: 3,
  RESIZE_NEAREST_NEIGHBOR: 3,
  REVERSE_V2: 2,
  RSQRT: 2,
  SOFTMAX: 3,
  SPLIT: 4,
  SQUEEZE: 1,
  TANH: 3,
  TRANSPOSE: 5,
  TRANSPOSE_CONV: 3,
};

/** Builtin codes above this are unknown to the embedded TFLite (later additions such as GELU) [I]. */
export const EMBEDDED_TFLITE_MAX_BUILTIN = 139;
