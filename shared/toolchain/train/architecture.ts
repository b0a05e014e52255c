/**
 * Edge TPU-friendly CNN candidates for no-code training, sized by the data: blocks of 3×3 Conv2D (no bias) → batch
 * norm → ReLU, each block ending in a 2×2 max pool, until the feature map is about 7 pixels across; then a ReLU
 * dense layer and a softmax classifier. Only ops the Edge TPU maps once batch norm is folded into the convolutions at
 * export (CONV_2D, MAX_POOL_2D, RESHAPE, FULLY_CONNECTED, SOFTMAX); no dropout.
 */
import * as tf from '@tensorflow/tfjs';
import { batchNormalization } from './kernels/batch-norm-layer.js';

export interface Architecture {
  name: string;
  /** Filters of each block's convolutions. */
  blocks: number[];
  /** 3×3 convolutions per block. */
  convsPerBlock: number;
  dense: number;
}

/** Candidates from the smallest to the largest for images of `shape` and `samples` training images. */
export function candidateArchitectures(shape: readonly [number, number, number], samples: number): Architecture[] {
  const [h, w] = shape;
  let pools = 0;
  for (let s = Math.min(h, w); s >= 12 && pools < 5; s = Math.floor(s / 2)) pools++;
  pools = Math.max(1, pools);
  // Small datasets get narrow nets (fewer weights to fit).
  const base = samples < 2000 ? 8 : samples < 20000 ? 16 : 32;
  const widths = (f: number): number[] => Array.from({ length: pools }, (_, i) => Math.min(256, f << i));
  const dense = samples < 2000 ? 32 : 128;
  return [
    { name: `c${base}x1`, blocks: widths(base), convsPerBlock: 1, dense },
    { name: `c${base}x2`, blocks: widths(base), convsPerBlock: 2, dense },
    { name: `c${base * 2}x2`, blocks: widths(base * 2), convsPerBlock: 2, dense: dense * 2 },
  ];
}

export function buildModel(a: Architecture, shape: readonly [number, number, number], classes: number): tf.Sequential {
  const m = tf.sequential();
  let first = true;
  for (const filters of a.blocks) {
    for (let i = 0; i < a.convsPerBlock; i++) {
      m.add(
        tf.layers.conv2d({
          ...(first ? { inputShape: [...shape] } : {}),
          filters,
          kernelSize: 3,
          padding: 'same',
          useBias: false,
          kernelInitializer: 'heNormal',
        }),
      );
      first = false;
      m.add(batchNormalization({ momentum: 0.9 }));
      m.add(tf.layers.reLU());
    }
    m.add(tf.layers.maxPooling2d({ poolSize: 2, strides: 2 }));
  }
  m.add(tf.layers.flatten());
  m.add(tf.layers.dense({ units: a.dense, activation: 'relu', kernelInitializer: 'heNormal' }));
  m.add(tf.layers.dense({ units: classes, activation: 'softmax' }));
  return m;
}
