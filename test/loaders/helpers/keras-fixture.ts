import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { rng } from '../../../shared/common/rng.js';

/**
 * A small Keras functional model written as a TF.js layers model (model.json + shards), made in code: conv + batch
 * norm + ReLU6, separable and depthwise convs, a residual add, padding, pooling, a dense softmax head. Weights are
 * stored float32, uint8- and uint16-affine-quantized and float16 so that every manifest encoding is exercised.
 */
type Layer = { class_name: string; name: string; config: Record<string, unknown>; inbound_nodes: unknown[] };

const L = (class_name: string, name: string, config: Record<string, unknown>, inputs: string[]): Layer => ({
  class_name,
  name,
  config: { name, trainable: true, ...config },
  inbound_nodes: inputs.length ? [inputs.map((i) => [i, 0, 0, {}])] : [],
});

export const FIXTURE_LAYERS: Layer[] = [
  L('InputLayer', 'image', { batch_input_shape: [null, 12, 12, 3], dtype: 'float32', sparse: false }, []),
  L(
    'Conv2D',
    'conv1',
    {
      filters: 8,
      kernel_size: [3, 3],
      strides: [2, 2],
      padding: 'same',
      activation: 'linear',
      use_bias: false,
      dilation_rate: [1, 1],
      data_format: 'channels_last',
    },
    ['image'],
  ),
  L('BatchNormalization', 'bn1', { axis: -1, epsilon: 0.001, center: true, scale: true, momentum: 0.99 }, ['conv1']),
  L('ReLU', 'relu1', { max_value: 6, negative_slope: 0, threshold: 0 }, ['bn1']),
  L(
    'DepthwiseConv2D',
    'dw',
    {
      kernel_size: [3, 3],
      strides: [1, 1],
      padding: 'same',
      depth_multiplier: 2,
      activation: 'relu',
      use_bias: true,
      data_format: 'channels_last',
    },
    ['relu1'],
  ),
  L(
    'SeparableConv2D',
    'sep',
    {
      filters: 8,
      kernel_size: [3, 3],
      strides: [1, 1],
      padding: 'same',
      depth_multiplier: 1,
      activation: 'linear',
      use_bias: true,
      data_format: 'channels_last',
    },
    ['dw'],
  ),
  L('BatchNormalization', 'bn2', { axis: 3, epsilon: 0.001, center: true, scale: false, momentum: 0.99 }, ['sep']),
  L('Add', 'add', {}, ['bn2', 'relu1']),
  L(
    'ZeroPadding2D',
    'pad',
    {
      padding: [
        [0, 1],
        [1, 0],
      ],
      data_format: 'channels_last',
    },
    ['add'],
  ),
  L('MaxPooling2D', 'pool', { pool_size: [2, 2], strides: [2, 2], padding: 'valid', data_format: 'channels_last' }, [
    'pad',
  ]),
  L(
    'Conv2D',
    'conv2',
    {
      filters: 6,
      kernel_size: [1, 1],
      strides: [1, 1],
      padding: 'valid',
      activation: 'tanh',
      use_bias: true,
      dilation_rate: [1, 1],
      data_format: 'channels_last',
    },
    ['pool'],
  ),
  L('GlobalAveragePooling2D', 'gap', { data_format: 'channels_last' }, ['conv2']),
  L('Dense', 'fc', { units: 5, activation: 'softmax', use_bias: true }, ['gap']),
];

export const FIXTURE_WEIGHTS: { name: string; shape: number[]; enc: 'float32' | 'uint8' | 'uint16' | 'float16' }[] = [
  { name: 'conv1/kernel', shape: [3, 3, 3, 8], enc: 'uint8' },
  { name: 'bn1/gamma', shape: [8], enc: 'float32' },
  { name: 'bn1/beta', shape: [8], enc: 'float32' },
  { name: 'bn1/moving_mean', shape: [8], enc: 'float16' },
  { name: 'bn1/moving_variance', shape: [8], enc: 'float32' },
  { name: 'dw/depthwise_kernel', shape: [3, 3, 8, 2], enc: 'uint16' },
  { name: 'dw/bias', shape: [16], enc: 'float32' },
  { name: 'sep/depthwise_kernel', shape: [3, 3, 16, 1], enc: 'uint8' },
  { name: 'sep/pointwise_kernel', shape: [1, 1, 16, 8], enc: 'float32' },
  { name: 'sep/bias', shape: [8], enc: 'float32' },
  { name: 'bn2/beta', shape: [8], enc: 'float32' },
  { name: 'bn2/moving_mean', shape: [8], enc: 'float32' },
  { name: 'bn2/moving_variance', shape: [8], enc: 'float32' },
  { name: 'conv2/kernel', shape: [1, 1, 8, 6], enc: 'float32' },
  { name: 'conv2/bias', shape: [6], enc: 'float32' },
  { name: 'fc/kernel', shape: [6, 5], enc: 'uint8' },
  { name: 'fc/bias', shape: [5], enc: 'float32' },
];

function toHalf(v: number): number {
  const f = new Float32Array([v]);
  const x = new Uint32Array(f.buffer)[0]!;
  const sign = (x >>> 16) & 0x8000;
  const exp = ((x >>> 23) & 0xff) - 127 + 15;
  const mant = (x >>> 13) & 0x3ff;
  if (exp <= 0) return sign;
  if (exp >= 31) return sign | 0x7c00;
  return sign | (exp << 10) | mant;
}

/** Writes the fixture into `dir` (two weight groups, the second split over two shards). */
export function writeLayersFixture(dir: string, seed = 5): void {
  mkdirSync(dir, { recursive: true });
  const r = rng(seed);
  const groups: { paths: string[]; weights: unknown[] }[] = [];
  const bufs: Uint8Array[][] = [[], []];
  const specs: unknown[][] = [[], []];
  FIXTURE_WEIGHTS.forEach((w, i) => {
    const n = w.shape.reduce((a, b) => a * b, 1);
    const variance = w.name.includes('variance');
    const vals = Float32Array.from({ length: n }, () => (variance ? 0.5 + r() : r() * 2 - 1));
    const g = i < 8 ? 0 : 1;
    if (w.enc === 'float32') {
      bufs[g]!.push(new Uint8Array(vals.buffer));
      specs[g]!.push({ name: w.name, shape: w.shape, dtype: 'float32' });
    } else if (w.enc === 'float16') {
      bufs[g]!.push(new Uint8Array(Uint16Array.from(vals, toHalf).buffer));
      specs[g]!.push({ name: w.name, shape: w.shape, dtype: 'float32', quantization: { dtype: 'float16' } });
    } else {
      const levels = w.enc === 'uint8' ? 255 : 65535;
      const min = Math.min(...vals);
      const scale = (Math.max(...vals) - min) / levels;
      const q = Array.from(vals, (v) => Math.round((v - min) / scale));
      bufs[g]!.push(w.enc === 'uint8' ? Uint8Array.from(q) : new Uint8Array(Uint16Array.from(q).buffer));
      specs[g]!.push({ name: w.name, shape: w.shape, dtype: 'float32', quantization: { dtype: w.enc, scale, min } });
    }
  });
  const concat = (parts: Uint8Array[]): Uint8Array => {
    const out = new Uint8Array(parts.reduce((a, p) => a + p.length, 0));
    let o = 0;
    for (const p of parts) {
      out.set(p, o);
      o += p.length;
    }
    return out;
  };
  const g0 = concat(bufs[0]!);
  writeFileSync(join(dir, 'group1-shard1of1.bin'), g0);
  groups.push({ paths: ['group1-shard1of1.bin'], weights: specs[0]! });
  const g1 = concat(bufs[1]!);
  const half = Math.floor(g1.length / 2);
  writeFileSync(join(dir, 'group2-shard1of2.bin'), g1.subarray(0, half));
  writeFileSync(join(dir, 'group2-shard2of2.bin'), g1.subarray(half));
  groups.push({ paths: ['group2-shard1of2.bin', 'group2-shard2of2.bin'], weights: specs[1]! });
  const modelJson = {
    format: 'layers-model',
    generatedBy: 'kiln test fixture',
    modelTopology: {
      keras_version: '2.2.4',
      backend: 'tensorflow',
      model_config: {
        class_name: 'Model',
        config: {
          name: 'fixture',
          layers: FIXTURE_LAYERS,
          input_layers: [['image', 0, 0]],
          output_layers: [['fc', 0, 0]],
        },
      },
    },
    weightsManifest: groups,
  };
  writeFileSync(join(dir, 'model.json'), JSON.stringify(modelJson));
}
