import type { IrModel } from '../../ir/model.js';
import { QNet } from './qnet.js';

/** VGG16 (Simonyan & Zisserman 2014, configuration D): 3×3 conv widths, 0 = 2×2 max pool. */
const CONFIG_D: readonly number[] = [64, 64, 0, 128, 128, 0, 256, 256, 256, 0, 512, 512, 512, 0, 512, 512, 512, 0];

export function vgg16(size = 224, classes = 1000): IrModel {
  const net = new QNet('vgg16');
  let y = net.input([1, size, size, 3]);
  for (const c of CONFIG_D) y = c === 0 ? net.maxPool(y, 2, 2) : net.conv(y, c, 3);
  y = net.flatten(y);
  y = net.fc(y, 4096, 'RELU');
  y = net.fc(y, 4096, 'RELU');
  y = net.fc(y, classes);
  net.output(net.softmax(y));
  return net.build();
}
