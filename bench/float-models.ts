import { MOBILENET_V1_BLOCKS } from '../shared/toolchain/verify/architectures/mobilenet-v1.js';
import { randomConstants } from './random-weights.js';
import { ModelBuilder } from '../shared/toolchain/ir/builder.js';
import type { IrModel } from '../shared/toolchain/ir/model.js';

/**
 * Float MobileNet v1 (depth multiplier `alpha`, `size`×`size` input, 1001 classes, RELU6) with He-initialized random
 * weights: the float counterpart of mobilenet_v1_0.25_128_quant for the interpreter bench (the layer shapes are what
 * the speed depends on, not the weight values).
 */
export function mobileNetV1Float(alpha: number, size: number): IrModel {
  const b = new ModelBuilder();
  const { weights, bias } = randomConstants(b, 1001);
  const ch = (c: number): number => Math.max(8, Math.round(c * alpha));
  let x = b.input('image', [1, size, size, 3]);
  let c = ch(32);
  x = b.conv2d(x, weights('stem/w', [c, 3, 3, 3], 27), bias('stem/b', c), { stride: 2, activation: 'RELU6' });
  MOBILENET_V1_BLOCKS.forEach(([out, stride], i) => {
    x = b.depthwiseConv2d(x, weights(`b${i}/dw/w`, [1, 3, 3, c], 9), bias(`b${i}/dw/b`, c), {
      stride,
      activation: 'RELU6',
    });
    const o = ch(out);
    x = b.conv2d(x, weights(`b${i}/pw/w`, [o, 1, 1, c], c), bias(`b${i}/pw/b`, o), { activation: 'RELU6' });
    c = o;
  });
  const side = Math.ceil(size / 32);
  x = b.pool('AVERAGE_POOL_2D', x, { filter: side });
  x = b.conv2d(x, weights('logits/w', [1001, 1, 1, c], c), bias('logits/b', 1001));
  x = b.reshape(x, [1, 1001]);
  b.output(b.softmax(x));
  return b.build(`float MobileNet v1 ${alpha}/${size}, random weights`);
}
