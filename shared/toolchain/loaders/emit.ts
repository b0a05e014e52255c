import { KilnError } from '../../common/errors.js';
import type { PaddingName } from '../ir/builder.js';
import { ModelBuilder } from '../ir/builder.js';
import { numElements } from '../ir/graph.js';
import { TensorType } from '../tflite/schema.js';
import { toFloat32, type HostTensor } from './tensor.js';

/**
 * Emission helpers shared by the Keras and GraphDef front ends: TensorFlow layouts (HWIO kernels, [in, out] dense
 * weights) become TFLite layouts (OHWI, [1, kh, kw, C·M], [out, in]); activations and batch normalization become
 * plain ops that the rewrite passes then fuse.
 */

/** Permutes a row-major tensor: out[i_perm] = in[i]. */
export function transpose(
  data: Float32Array,
  shape: number[],
  perm: number[],
): { data: Float32Array; shape: number[] } {
  const outShape = perm.map((p) => shape[p]!);
  const rank = shape.length;
  const inStrides = new Array<number>(rank);
  let s = 1;
  for (let i = rank - 1; i >= 0; i--) {
    inStrides[i] = s;
    s *= shape[i]!;
  }
  const out = new Float32Array(data.length);
  const idx = new Array<number>(rank).fill(0);
  const permStrides = perm.map((p) => inStrides[p]!);
  for (let o = 0; o < out.length; o++) {
    let src = 0;
    for (let d = 0; d < rank; d++) src += idx[d]! * permStrides[d]!;
    out[o] = data[src]!;
    for (let d = rank - 1; d >= 0; d--) {
      if (++idx[d]! < outShape[d]!) break;
      idx[d] = 0;
    }
  }
  return { data: out, shape: outShape };
}

export interface ConvGeometry {
  strides: [number, number];
  dilations: [number, number];
  /** 'SAME' / 'VALID', or explicit [top, bottom, left, right] pads (emitted as a PAD then VALID). */
  padding: PaddingName | [number, number, number, number];
}

function padFor(b: ModelBuilder, x: number, g: ConvGeometry, name: string): { x: number; padding: PaddingName } {
  if (typeof g.padding === 'string') return { x, padding: g.padding };
  const [t, bo, l, r] = g.padding;
  if (t === 0 && bo === 0 && l === 0 && r === 0) return { x, padding: 'VALID' };
  return {
    x: emitPad(
      b,
      x,
      [
        [0, 0],
        [t, bo],
        [l, r],
        [0, 0],
      ],
      `${name}/pad`,
    ),
    padding: 'VALID',
  };
}

export function emitPad(b: ModelBuilder, x: number, pads: number[][], name: string): number {
  const p = b.constant(`${name}/paddings`, 'int32', [pads.length, 2], pads.flat());
  return b.op('PAD', [x, p], {}, { outputs: [{ name }] })[0]!;
}

/** SLICE of `x` at constant `begin` (its own constants `${name}/begin` and `${name}/size`); the output is `size`. */
export function emitSlice(b: ModelBuilder, x: number, begin: number[], size: number[], name: string): number {
  const r = begin.length;
  return b.op(
    'SLICE',
    [x, b.constant(`${name}/begin`, 'int32', [r], begin), b.constant(`${name}/size`, 'int32', [r], size)],
    {},
    { outputs: [{ name, shape: size, dtype: b.g.tensor(x).dtype }] },
  )[0]!;
}

const zeros = (n: number): Float32Array => new Float32Array(n);

/** CONV_2D from a TF/Keras HWIO kernel [kh, kw, in, out]. */
export function emitConv2d(
  b: ModelBuilder,
  x: number,
  kernel: HostTensor,
  bias: Float32Array | null,
  g: ConvGeometry,
  name: string,
): number {
  const [kh, kw, cin, cout] = kernel.shape as [number, number, number, number];
  const inC = b.g.tensor(x).shape[3]!;
  if (kernel.shape.length !== 4) throw new KilnError('E_SHAPE', `${name}: conv kernel of rank ${kernel.shape.length}`);
  if (cin !== inC) {
    throw new KilnError('E_UNSUPPORTED_OP', `${name}: grouped convolution (${inC} input channels, kernel for ${cin})`, {
      hint: 'Grouped convolutions have no TFLite builtin',
    });
  }
  const w = transpose(toFloat32(kernel), kernel.shape, [3, 0, 1, 2]);
  const wid = b.constant(`${name}/kernel`, 'float32', [cout, kh, kw, cin], w.data);
  const bid = b.constant(`${name}/bias`, 'float32', [cout], bias ?? zeros(cout));
  const p = padFor(b, x, g, name);
  return b.conv2d(p.x, wid, bid, { stride: g.strides, dilation: g.dilations, padding: p.padding }, { name });
}

/** DEPTHWISE_CONV_2D from a TF/Keras kernel [kh, kw, in, multiplier] (output channel c·M + m, as TF orders it). */
export function emitDepthwise(
  b: ModelBuilder,
  x: number,
  kernel: HostTensor,
  bias: Float32Array | null,
  g: ConvGeometry,
  name: string,
): number {
  const [kh, kw, cin, mult] = kernel.shape as [number, number, number, number];
  const cout = cin * mult;
  const wid = b.constant(`${name}/depthwise_kernel`, 'float32', [1, kh, kw, cout], toFloat32(kernel));
  const bid = b.constant(`${name}/bias`, 'float32', [cout], bias ?? zeros(cout));
  const p = padFor(b, x, g, name);
  return b.depthwiseConv2d(
    p.x,
    wid,
    bid,
    { stride: g.strides, dilation: g.dilations, padding: p.padding, depthMultiplier: mult },
    { name },
  );
}

/** FULLY_CONNECTED from a TF/Keras dense kernel [in, out] (transposed to [out, in]). */
export function emitDense(
  b: ModelBuilder,
  x: number,
  kernel: HostTensor,
  bias: Float32Array | null,
  name: string,
  transposed = false,
): number {
  const [a, c] = kernel.shape as [number, number];
  const [inner, units] = transposed ? [c, a] : [a, c];
  const w = transposed ? { data: toFloat32(kernel) } : transpose(toFloat32(kernel), kernel.shape, [1, 0]);
  const wid = b.constant(`${name}/kernel`, 'float32', [units, inner], w.data);
  const bid = b.constant(`${name}/bias`, 'float32', [units], bias ?? zeros(units));
  const shape = b.g.tensor(x).shape;
  const keep = shape.length > 2;
  return b.fullyConnected(x, wid, bid, { keepNumDims: keep }, { name });
}

/** x · scale + shift per channel (the last axis): batch normalization in inference form, or any affine map. */
export function emitAffine(
  b: ModelBuilder,
  x: number,
  scale: Float32Array | null,
  shift: Float32Array | null,
  name: string,
): number {
  let y = x;
  if (scale)
    y = b.binary(
      'MUL',
      y,
      b.constant(`${name}/scale`, 'float32', [scale.length], scale),
      {},
      { name: shift ? `${name}/mul` : name },
    );
  if (shift) y = b.binary('ADD', y, b.constant(`${name}/shift`, 'float32', [shift.length], shift), {}, { name });
  return y;
}

/** Batch normalization (inference): γ·(x − μ)/√(σ² + ε) + β, as a per-channel MUL then ADD. */
export function emitBatchNorm(
  b: ModelBuilder,
  x: number,
  p: {
    gamma: Float32Array | null;
    beta: Float32Array | null;
    mean: Float32Array;
    variance: Float32Array;
    epsilon: number;
  },
  name: string,
): number {
  const n = p.mean.length;
  const scale = new Float32Array(n);
  const shift = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const s = (p.gamma ? p.gamma[i]! : 1) / Math.sqrt(p.variance[i]! + p.epsilon);
    scale[i] = s;
    shift[i] = (p.beta ? p.beta[i]! : 0) - p.mean[i]! * s;
  }
  return emitAffine(b, x, scale, shift, name);
}

/** Activation functions by their Keras names (TF op names map onto these too). */
export const ACTIVATIONS: Record<string, ((b: ModelBuilder, x: number, name: string) => number) | null> = {
  linear: null,
  relu: (b, x, name) => b.unary('RELU', x, { name }),
  relu6: (b, x, name) => b.unary('RELU6', x, { name }),
  sigmoid: (b, x, name) => b.unary('LOGISTIC', x, { name }),
  tanh: (b, x, name) => b.unary('TANH', x, { name }),
  elu: (b, x, name) => b.unary('ELU', x, { name }),
  softmax: (b, x, name) => b.softmax(x, 1, { name }),
  hard_swish: (b, x, name) => b.unary('HARD_SWISH', x, { name }),
  swish: (b, x, name) => b.binary('MUL', x, b.unary('LOGISTIC', x, { name: `${name}/sigmoid` }), {}, { name }),
  silu: (b, x, name) => b.binary('MUL', x, b.unary('LOGISTIC', x, { name: `${name}/sigmoid` }), {}, { name }),
  // Keras hard_sigmoid: clip(0.2·x + 0.5, 0, 1) (Keras 2 / tfjs). RELU_N1_TO_1 clips to [−1, 1]: (clip(0.4x+1−1)...) is
  // avoided; MAXIMUM/MINIMUM with constants say it directly.
  hard_sigmoid: (b, x, name) => {
    const y = b.binary(
      'ADD',
      b.binary('MUL', x, b.constant(`${name}/a`, 'float32', [], [0.2])),
      b.constant(`${name}/b`, 'float32', [], [0.5]),
    );
    const lo = b.op('MAXIMUM', [y, b.constant(`${name}/zero`, 'float32', [], [0])])[0]!;
    return b.op('MINIMUM', [lo, b.constant(`${name}/one`, 'float32', [], [1])], {}, { outputs: [{ name }] })[0]!;
  },
  softplus: (b, x, name) => {
    const e = b.unary('EXP', x);
    return b.unary('LOG', b.binary('ADD', e, b.constant(`${name}/one`, 'float32', [], [1])), { name });
  },
};

export function emitActivation(
  b: ModelBuilder,
  x: number,
  activation: string | null | undefined,
  name: string,
): number {
  const key = activation ?? 'linear';
  if (!(key in ACTIVATIONS)) {
    throw new KilnError('E_UNSUPPORTED_OP', `${name}: activation "${key}" is not supported`, {
      hint: `Supported activations: ${Object.keys(ACTIVATIONS).join(', ')}`,
    });
  }
  const f = ACTIVATIONS[key];
  return f ? f(b, x, name) : x;
}

/** CAST between IR dtypes. */
export function emitCast(b: ModelBuilder, x: number, to: 'float32' | 'int32', name: string): number {
  const from = b.g.tensor(x).dtype;
  if (from === to) return x;
  const tt = (d: string): number =>
    d === 'float32'
      ? TensorType.FLOAT32
      : d === 'int32'
        ? TensorType.INT32
        : d === 'bool'
          ? TensorType.BOOL
          : d === 'uint8'
            ? TensorType.UINT8
            : TensorType.INT64;
  return b.op(
    'CAST',
    [x],
    { inDataType: tt(from), outDataType: tt(to) },
    { outputs: [{ name, dtype: to, shape: b.g.tensor(x).shape }] },
  )[0]!;
}

export function emitReshape(b: ModelBuilder, x: number, shape: number[], name: string): number {
  const inShape = b.g.tensor(x).shape;
  const total = numElements(inShape);
  const known = shape.filter((d) => d !== -1).reduce((a, c) => a * c, 1);
  const resolved = shape.map((d) => (d === -1 ? total / known : d));
  if (numElements(resolved) !== total || resolved.some((d) => !Number.isInteger(d))) {
    throw new KilnError('E_SHAPE', `${name}: cannot reshape [${inShape.join(',')}] to [${shape.join(',')}]`);
  }
  return b.reshape(x, resolved, { name });
}
