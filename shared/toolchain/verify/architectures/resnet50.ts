import type { IrModel } from '../../ir/model.js';
import { QNet } from './qnet.js';

/** ResNet-50 v1 (He et al. 2015, table 1): bottleneck stages [blocks, width]; output channels 4 × width. */
const STAGES: readonly [number, number][] = [
  [3, 64],
  [4, 128],
  [6, 256],
  [3, 512],
];

export function resnet50(size = 299, classes = 1000): IrModel {
  const net = new QNet('resnet50_v1');
  let y = net.conv(net.input([1, size, size, 3]), 64, 7, { stride: 2 });
  y = net.maxPool(y, 3, 2, 'SAME');
  STAGES.forEach(([blocks, w], s) => {
    for (let i = 0; i < blocks; i++) {
      const stride = i === 0 && s > 0 ? 2 : 1;
      const short = i === 0 ? net.conv(y, 4 * w, 1, { stride, activation: 'NONE' }) : y;
      let z = net.conv(y, w, 1, { stride });
      z = net.conv(z, w, 3);
      z = net.conv(z, 4 * w, 1, { activation: 'NONE' });
      y = net.add(short, z, 'RELU');
    }
  });
  y = net.gap(y);
  y = net.fc(net.flatten(y), classes);
  net.output(net.softmax(y));
  return net.build();
}
