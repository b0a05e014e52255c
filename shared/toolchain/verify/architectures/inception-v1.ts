import type { IrModel } from '../../ir/model.js';
import { QNet } from './qnet.js';

/** Inception v1 (GoogLeNet, Szegedy et al. 2014, as in TF-slim): per module [1×1, 3×3 reduce, 3×3, 3×3 reduce, 3×3, pool proj]. */
const MODULES: Record<string, readonly [number, number, number, number, number, number]> = {
  '3a': [64, 96, 128, 16, 32, 32],
  '3b': [128, 128, 192, 32, 96, 64],
  '4a': [192, 96, 208, 16, 48, 64],
  '4b': [160, 112, 224, 24, 64, 64],
  '4c': [128, 128, 256, 24, 64, 64],
  '4d': [112, 144, 288, 32, 64, 64],
  '4e': [256, 160, 320, 32, 128, 128],
  '5a': [256, 160, 320, 32, 128, 128],
  '5b': [384, 192, 384, 48, 128, 128],
};

function mixed(net: QNet, x: number, m: readonly number[]): number {
  const b0 = net.conv(x, m[0]!, 1);
  const b1 = net.conv(net.conv(x, m[1]!, 1), m[2]!, 3);
  const b2 = net.conv(net.conv(x, m[3]!, 1), m[4]!, 3);
  const b3 = net.conv(net.maxPool(x, 3, 1, 'SAME'), m[5]!, 1);
  return net.concat([b0, b1, b2, b3]);
}

export function inceptionV1(size = 224, classes = 1001): IrModel {
  const net = new QNet('inception_v1');
  let y = net.conv(net.input([1, size, size, 3]), 64, 7, { stride: 2 });
  y = net.maxPool(y, 3, 2, 'SAME');
  y = net.conv(y, 64, 1);
  y = net.conv(y, 192, 3);
  y = net.maxPool(y, 3, 2, 'SAME');
  for (const k of ['3a', '3b']) y = mixed(net, y, MODULES[k]!);
  y = net.maxPool(y, 3, 2, 'SAME');
  for (const k of ['4a', '4b', '4c', '4d', '4e']) y = mixed(net, y, MODULES[k]!);
  y = net.maxPool(y, 2, 2, 'SAME');
  for (const k of ['5a', '5b']) y = mixed(net, y, MODULES[k]!);
  y = net.gap(y);
  y = net.conv(y, classes, 1, { activation: 'NONE' });
  net.output(net.softmax(net.reshape(y, [1, classes])));
  return net.build();
}
