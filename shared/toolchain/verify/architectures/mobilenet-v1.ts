import type { IrModel } from '../../ir/model.js';
import { QNet } from './qnet.js';

/** MobileNet v1 1.0 (Howard et al. 2017, table 1): a 3×3 conv, 13 depthwise-separable blocks, global pool, 1×1 conv classifier. */
export const MOBILENET_V1_BLOCKS: readonly [number, number][] = [
  [64, 1],
  [128, 2],
  [128, 1],
  [256, 2],
  [256, 1],
  [512, 2],
  [512, 1],
  [512, 1],
  [512, 1],
  [512, 1],
  [512, 1],
  [1024, 2],
  [1024, 1],
];

/** The MobileNet v1 feature extractor (shared with SSD): returns the net and the tensors after blocks 11 and 13. */
export function mobilenetV1Body(net: QNet, x: number): { c11: number; c13: number } {
  let y = net.conv(x, 32, 3, { stride: 2, activation: 'RELU6' });
  let c11 = y;
  MOBILENET_V1_BLOCKS.forEach(([cout, stride], i) => {
    y = net.dw(y, 3, { stride });
    y = net.conv(y, cout, 1, { activation: 'RELU6' });
    if (i === 10) c11 = y;
  });
  return { c11, c13: y };
}

export function mobilenetV1(size = 224, classes = 1001): IrModel {
  const net = new QNet('mobilenet_v1');
  const x = net.input([1, size, size, 3]);
  const { c13 } = mobilenetV1Body(net, x);
  let y = net.avgPool(c13, size / 32, 1);
  y = net.conv(y, classes, 1, { activation: 'NONE' });
  y = net.reshape(y, [1, classes]);
  net.output(net.softmax(y));
  return net.build();
}
