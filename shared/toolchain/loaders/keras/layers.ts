import { KilnError } from '../../../common/errors.js';
import type { ModelBuilder } from '../../ir/builder.js';
import { numElements } from '../../ir/graph.js';
import { Padding } from '../../tflite/schema.js';
import {
  emitActivation,
  emitAffine,
  emitBatchNorm,
  emitCast,
  emitConv2d,
  emitDense,
  emitDepthwise,
  emitPad,
  emitReshape,
  transpose,
  type ConvGeometry,
} from '../emit.js';
import { toFloat32, type HostTensor } from '../tensor.js';
import type { KLayer } from './config.js';
import { emitRecurrent } from './recurrent.js';

/** What a layer converter sees: the builder, the layer, its input tensors (IR ids) and its weights. */
export interface LayerCtx {
  b: ModelBuilder;
  layer: KLayer;
  cfg: Record<string, any>;
  name: string;
  inputs: number[];
  shape(i?: number): number[];
  weight(name: string, ...alternatives: string[]): HostTensor;
  maybeWeight(name: string): HostTensor | undefined;
}

export type LayerConverter = (c: LayerCtx) => number[];

const unsupported = (c: LayerCtx, why: string, hint?: string): KilnError =>
  new KilnError('E_UNSUPPORTED_OP', `layer ${c.name} (${c.layer.className}): ${why}`, hint ? { hint } : {});

const pair = (v: unknown, d = 1): [number, number] =>
  Array.isArray(v)
    ? [Number(v[0] ?? d), Number(v[1] ?? v[0] ?? d)]
    : v === undefined || v === null
      ? [d, d]
      : [Number(v), Number(v)];

function channelsLast(c: LayerCtx): void {
  const f = c.cfg['data_format'];
  if (f && f !== 'channels_last')
    throw unsupported(
      c,
      `data_format ${f}`,
      'Kiln converts channels_last (NHWC) models; re-save with data_format="channels_last"',
    );
}

function kerasPadding(c: LayerCtx): 'SAME' | 'VALID' {
  const p = String(c.cfg['padding'] ?? 'valid').toLowerCase();
  if (p === 'same') return 'SAME';
  if (p === 'valid') return 'VALID';
  throw unsupported(c, `padding "${p}"`);
}

const bias = (c: LayerCtx): Float32Array | null =>
  c.cfg['use_bias'] === false ? null : c.maybeWeight('bias') ? toFloat32(c.maybeWeight('bias')!) : null;

/** Runs `core` (naming its result `${name}` when there is no activation) then the layer's activation. */
function withActivation(c: LayerCtx, core: (name: string) => number): number[] {
  const act = c.cfg['activation'] ?? 'linear';
  if (act === 'linear') return [core(c.name)];
  return [emitActivation(c.b, core(`${c.name}/preact`), act, c.name)];
}

function geometry(c: LayerCtx): ConvGeometry {
  return { strides: pair(c.cfg['strides']), dilations: pair(c.cfg['dilation_rate']), padding: kerasPadding(c) };
}

function positiveAxis(c: LayerCtx, axis: number, rank: number): number {
  const a = axis < 0 ? axis + rank : axis;
  if (a < 0 || a >= rank) throw unsupported(c, `axis ${axis} out of range for rank ${rank}`);
  return a;
}

function nary(type: 'ADD' | 'SUB' | 'MUL' | 'MAXIMUM' | 'MINIMUM'): LayerConverter {
  return (c) => {
    if (c.inputs.length < 2) throw unsupported(c, 'needs at least two inputs');
    if (type === 'SUB' && c.inputs.length !== 2) throw unsupported(c, 'Subtract takes exactly two inputs');
    let y = c.inputs[0]!;
    c.inputs.slice(1).forEach((x, i) => {
      const last = i === c.inputs.length - 2;
      const out = last ? { name: c.name } : {};
      y =
        type === 'MAXIMUM' || type === 'MINIMUM'
          ? c.b.op(type, [y, x], {}, { outputs: [out] })[0]!
          : c.b.binary(type, y, x, {}, out);
    });
    return [y];
  };
}

function pool(type: 'MAX_POOL_2D' | 'AVERAGE_POOL_2D'): LayerConverter {
  return (c) => {
    channelsLast(c);
    const size = pair(c.cfg['pool_size'], 2);
    const strides = c.cfg['strides'] === null || c.cfg['strides'] === undefined ? size : pair(c.cfg['strides']);
    return [
      c.b.pool(type, c.inputs[0]!, { filter: size, stride: strides, padding: kerasPadding(c) }, { name: c.name }),
    ];
  };
}

function globalPool(type: 'MEAN' | 'REDUCE_MAX', axes: number[]): LayerConverter {
  return (c) => {
    channelsLast(c);
    const ax = c.b.constant(`${c.name}/axes`, 'int32', [axes.length], axes);
    return c.b.op(type, [c.inputs[0]!, ax], { keepDims: Boolean(c.cfg['keepdims']) }, { outputs: [{ name: c.name }] });
  };
}

const identity: LayerConverter = (c) => [c.inputs[0]!];

function reluLayer(c: LayerCtx): number[] {
  const max = c.cfg['max_value'];
  const slope = Number(c.cfg['negative_slope'] ?? 0);
  const threshold = Number(c.cfg['threshold'] ?? 0);
  const x = c.inputs[0]!;
  if (threshold !== 0) throw unsupported(c, `threshold ${threshold}`);
  if (slope === 0 && (max === null || max === undefined)) return [c.b.unary('RELU', x, { name: c.name })];
  if (slope === 0 && Number(max) === 6) return [c.b.unary('RELU6', x, { name: c.name })];
  if (slope === 0) {
    const r = c.b.unary('RELU', x);
    return c.b.op(
      'MINIMUM',
      [r, c.b.constant(`${c.name}/max`, 'float32', [], [Number(max)])],
      {},
      { outputs: [{ name: c.name }] },
    );
  }
  if (max === null || max === undefined) return [c.b.unary('LEAKY_RELU', x, { name: c.name }, { alpha: slope })];
  throw unsupported(c, `negative_slope ${slope} with max_value ${max}`);
}

function zeroPadding(c: LayerCtx): number[] {
  channelsLast(c);
  const p = c.cfg['padding'];
  let pads: [[number, number], [number, number]];
  if (typeof p === 'number')
    pads = [
      [p, p],
      [p, p],
    ];
  else if (Array.isArray(p) && typeof p[0] === 'number')
    pads = [
      [p[0], p[0]],
      [p[1], p[1]],
    ];
  else if (Array.isArray(p) && Array.isArray(p[0]))
    pads = [
      [p[0][0], p[0][1]],
      [p[1][0], p[1][1]],
    ];
  else throw unsupported(c, `padding ${JSON.stringify(p)}`);
  return [emitPad(c.b, c.inputs[0]!, [[0, 0], pads[0], pads[1], [0, 0]], c.name)];
}

function cropping(c: LayerCtx): number[] {
  const p = c.cfg['cropping'];
  let cr: [[number, number], [number, number]];
  if (typeof p === 'number')
    cr = [
      [p, p],
      [p, p],
    ];
  else if (Array.isArray(p) && typeof p[0] === 'number')
    cr = [
      [p[0], p[0]],
      [p[1], p[1]],
    ];
  else
    cr = [
      [p[0][0], p[0][1]],
      [p[1][0], p[1][1]],
    ];
  const [n, h, w, ch] = c.shape() as [number, number, number, number];
  const begin = c.b.constant(`${c.name}/begin`, 'int32', [4], [0, cr[0][0], cr[1][0], 0]);
  const size = c.b.constant(`${c.name}/size`, 'int32', [4], [n, h - cr[0][0] - cr[0][1], w - cr[1][0] - cr[1][1], ch]);
  return c.b.op('SLICE', [c.inputs[0]!, begin, size], {}, { outputs: [{ name: c.name }] });
}

function conv1d(c: LayerCtx): number[] {
  channelsLast(c);
  const [n, steps, ch] = c.shape() as [number, number, number];
  const k = c.weight('kernel');
  const [kw, cin, cout] = k.shape as [number, number, number];
  const stride = pair(c.cfg['strides'])[0];
  const dil = pair(c.cfg['dilation_rate'])[0];
  const pad = String(c.cfg['padding'] ?? 'valid');
  let x = emitReshape(c.b, c.inputs[0]!, [n, 1, steps, ch], `${c.name}/as2d`);
  let padding: ConvGeometry['padding'] = pad === 'same' ? 'SAME' : 'VALID';
  if (pad === 'causal') padding = [0, 0, (kw - 1) * dil, 0];
  const kernel: HostTensor = { dtype: 'float32', shape: [1, kw, cin, cout], data: k.data };
  return withActivation(c, (name) => {
    x = emitConv2d(c.b, x, kernel, bias(c), { strides: [1, stride], dilations: [1, dil], padding }, `${name}/conv2d`);
    const s = c.b.g.tensor(x).shape;
    return emitReshape(c.b, x, [s[0]!, s[2]!, s[3]!], name);
  });
}

/** Keras layer classes → IR. Every class not listed here is refused by name. */
export const KERAS_LAYERS: Record<string, LayerConverter> = {
  Conv2D: (c) => {
    channelsLast(c);
    if (Number(c.cfg['groups'] ?? 1) !== 1)
      throw unsupported(c, `groups=${c.cfg['groups']}`, 'Grouped convolutions have no TFLite builtin');
    return withActivation(c, (name) => emitConv2d(c.b, c.inputs[0]!, c.weight('kernel'), bias(c), geometry(c), name));
  },
  Conv1D: conv1d,
  DepthwiseConv2D: (c) => {
    channelsLast(c);
    return withActivation(c, (name) =>
      emitDepthwise(c.b, c.inputs[0]!, c.weight('depthwise_kernel', 'kernel'), bias(c), geometry(c), name),
    );
  },
  SeparableConv2D: (c) => {
    channelsLast(c);
    const dw = emitDepthwise(c.b, c.inputs[0]!, c.weight('depthwise_kernel'), null, geometry(c), `${c.name}/depthwise`);
    return withActivation(c, (name) =>
      emitConv2d(
        c.b,
        dw,
        c.weight('pointwise_kernel'),
        bias(c),
        { strides: [1, 1], dilations: [1, 1], padding: 'VALID' },
        name,
      ),
    );
  },
  Conv2DTranspose: (c) => {
    channelsLast(c);
    const k = c.weight('kernel'); // [kh, kw, out, in]
    const [kh, kw, cout] = k.shape as [number, number, number, number];
    const [sh, sw] = pair(c.cfg['strides']);
    const [n, h, w] = c.shape() as [number, number, number, number];
    const same = kerasPadding(c) === 'SAME';
    if (c.cfg['output_padding']) throw unsupported(c, 'output_padding');
    const oh = same ? h * sh : (h - 1) * sh + kh;
    const ow = same ? w * sw : (w - 1) * sw + kw;
    const wt = transpose(toFloat32(k), k.shape, [2, 0, 1, 3]);
    return withActivation(c, (name) => {
      const outShape = c.b.constant(`${name}/output_shape`, 'int32', [4], [n, oh, ow, cout]);
      const wid = c.b.constant(`${name}/kernel`, 'float32', wt.shape, wt.data);
      const bid = c.b.constant(`${name}/bias`, 'float32', [cout], bias(c) ?? new Float32Array(cout));
      return c.b.op(
        'TRANSPOSE_CONV',
        [outShape, wid, c.inputs[0]!, bid],
        { padding: same ? Padding.SAME : Padding.VALID, strideH: sh, strideW: sw },
        { version: 3, outputs: [{ name }] },
      )[0]!;
    });
  },
  Dense: (c) => withActivation(c, (name) => emitDense(c.b, c.inputs[0]!, c.weight('kernel'), bias(c), name)),
  BatchNormalization: (c) => {
    const rank = c.shape().length;
    const axis = c.cfg['axis'];
    const a = Array.isArray(axis) ? axis : [axis ?? -1];
    if (a.length !== 1 || positiveAxis(c, Number(a[0]), rank) !== rank - 1)
      throw unsupported(
        c,
        `normalizes axis ${JSON.stringify(axis)}`,
        'Kiln folds batch normalization over the channel (last) axis',
      );
    const g = c.cfg['scale'] === false ? null : toFloat32(c.weight('gamma'));
    const be = c.cfg['center'] === false ? null : toFloat32(c.weight('beta'));
    return [
      emitBatchNorm(
        c.b,
        c.inputs[0]!,
        {
          gamma: g,
          beta: be,
          mean: toFloat32(c.weight('moving_mean')),
          variance: toFloat32(c.weight('moving_variance')),
          epsilon: Number(c.cfg['epsilon'] ?? 1e-3),
        },
        c.name,
      ),
    ];
  },
  Activation: (c) => {
    const y = emitActivation(c.b, c.inputs[0]!, c.cfg['activation'], c.name);
    return [y];
  },
  ReLU: reluLayer,
  LeakyReLU: (c) => [
    c.b.unary(
      'LEAKY_RELU',
      c.inputs[0]!,
      { name: c.name },
      { alpha: Number(c.cfg['negative_slope'] ?? c.cfg['alpha'] ?? 0.3) },
    ),
  ],
  ELU: (c) => {
    if (Number(c.cfg['alpha'] ?? 1) !== 1) throw unsupported(c, `alpha ${c.cfg['alpha']}`);
    return [c.b.unary('ELU', c.inputs[0]!, { name: c.name })];
  },
  PReLU: (c) => {
    const a = c.weight('alpha');
    const alpha = c.b.constant(`${c.name}/alpha`, 'float32', a.shape, toFloat32(a));
    return c.b.op('PRELU', [c.inputs[0]!, alpha], {}, { outputs: [{ name: c.name }] });
  },
  Softmax: (c) => {
    const axis = c.cfg['axis'] ?? -1;
    if (positiveAxis(c, Number(Array.isArray(axis) ? axis[0] : axis), c.shape().length) !== c.shape().length - 1)
      throw unsupported(c, `softmax over axis ${axis}`);
    return [c.b.softmax(c.inputs[0]!, 1, { name: c.name })];
  },
  MaxPooling2D: pool('MAX_POOL_2D'),
  AveragePooling2D: pool('AVERAGE_POOL_2D'),
  GlobalAveragePooling2D: globalPool('MEAN', [1, 2]),
  GlobalMaxPooling2D: globalPool('REDUCE_MAX', [1, 2]),
  GlobalAveragePooling1D: globalPool('MEAN', [1]),
  GlobalMaxPooling1D: globalPool('REDUCE_MAX', [1]),
  Add: nary('ADD'),
  Subtract: nary('SUB'),
  Multiply: nary('MUL'),
  Maximum: nary('MAXIMUM'),
  Minimum: nary('MINIMUM'),
  Average: (c) => {
    const sum = nary('ADD')({ ...c, name: `${c.name}/sum` })[0]!;
    return [
      c.b.binary(
        'MUL',
        sum,
        c.b.constant(`${c.name}/scale`, 'float32', [], [1 / c.inputs.length]),
        {},
        { name: c.name },
      ),
    ];
  },
  Concatenate: (c) => {
    const axis = positiveAxis(c, Number(c.cfg['axis'] ?? -1), c.shape().length);
    return [c.b.concat(c.inputs, axis, { name: c.name })];
  },
  Flatten: (c) => {
    channelsLast(c);
    const s = c.shape();
    return [emitReshape(c.b, c.inputs[0]!, [s[0]!, numElements(s.slice(1))], c.name)];
  },
  Reshape: (c) => [
    emitReshape(c.b, c.inputs[0]!, [c.shape()[0]!, ...(c.cfg['target_shape'] as number[]).map(Number)], c.name),
  ],
  Permute: (c) => {
    const dims = (c.cfg['dims'] as number[]).map(Number);
    const perm = c.b.constant(`${c.name}/perm`, 'int32', [dims.length + 1], [0, ...dims]);
    return c.b.op('TRANSPOSE', [c.inputs[0]!, perm], {}, { outputs: [{ name: c.name }] });
  },
  ZeroPadding2D: zeroPadding,
  Cropping2D: cropping,
  UpSampling2D: (c) => {
    channelsLast(c);
    const [sh, sw] = pair(c.cfg['size'], 2);
    const [, h, w] = c.shape();
    const size = c.b.constant(`${c.name}/size`, 'int32', [2], [h! * sh, w! * sw]);
    const interp = String(c.cfg['interpolation'] ?? 'nearest');
    if (interp !== 'nearest' && interp !== 'bilinear') throw unsupported(c, `interpolation ${interp}`);
    const type = interp === 'nearest' ? 'RESIZE_NEAREST_NEIGHBOR' : 'RESIZE_BILINEAR';
    return c.b.op(
      type,
      [c.inputs[0]!, size],
      { alignCorners: false, halfPixelCenters: interp === 'bilinear' },
      { outputs: [{ name: c.name }] },
    );
  },
  Rescaling: (c) => {
    const s = Number(c.cfg['scale'] ?? 1);
    const o = Number(c.cfg['offset'] ?? 0);
    const ch = c.shape().at(-1)!;
    return [
      emitAffine(
        c.b,
        c.inputs[0]!,
        s === 1 ? null : new Float32Array(ch).fill(s),
        o === 0 ? null : new Float32Array(ch).fill(o),
        c.name,
      ),
    ];
  },
  Embedding: (c) => {
    const e = c.weight('embeddings');
    const table = c.b.constant(`${c.name}/embeddings`, 'float32', e.shape, toFloat32(e));
    const idx = emitCast(c.b, c.inputs[0]!, 'int32', `${c.name}/indices`);
    return c.b.op('GATHER', [table, idx], { axis: 0 }, { outputs: [{ name: c.name }] });
  },
  GRU: (c) => emitRecurrent(c, 'GRU'),
  SimpleRNN: (c) => emitRecurrent(c, 'SimpleRNN'),
  LSTM: (c) => emitRecurrent(c, 'LSTM'),
  Dropout: identity,
  SpatialDropout1D: identity,
  SpatialDropout2D: identity,
  GaussianNoise: identity,
  GaussianDropout: identity,
  AlphaDropout: identity,
  ActivityRegularization: identity,
};
