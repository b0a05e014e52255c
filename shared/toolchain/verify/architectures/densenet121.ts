import type { IrModel } from '../../ir/model.js';
import { QNet } from './qnet.js';

/** DenseNet-121 (Huang et al. 2017): dense blocks of [6, 12, 24, 16] layers, growth rate 32, compression 0.5. */
const BLOCKS: readonly number[] = [6, 12, 24, 16];
const GROWTH = 32;

/**
 * Pre-activation BN → ReLU on a concatenation cannot fold into a conv; the converter emits it as MUL + ADD (fused
 * ReLU) with per-channel constants. The BN after each conv folds into that conv.
 */
function bnRelu(net: QNet, x: number): number {
  return net.scaleShift(x, 'RELU');
}

export function densenet121(size = 224, classes = 1000): IrModel {
  const net = new QNet('densenet121');
  let y = net.conv(net.input([1, size, size, 3]), 64, 7, { stride: 2 });
  y = net.maxPool(y, 3, 2, 'SAME');
  BLOCKS.forEach((layers, b) => {
    for (let i = 0; i < layers; i++) {
      let z = net.conv(bnRelu(net, y), 4 * GROWTH, 1);
      z = net.conv(z, GROWTH, 3, { activation: 'NONE' });
      y = net.concat([y, z]);
    }
    if (b < BLOCKS.length - 1) {
      y = net.conv(bnRelu(net, y), net.shape(y)[3]! / 2, 1, { activation: 'NONE' });
      y = net.avgPool(y, 2, 2);
    }
  });
  y = net.gap(bnRelu(net, y));
  y = net.fc(net.flatten(y), classes);
  net.output(net.softmax(y));
  return net.build();
}
