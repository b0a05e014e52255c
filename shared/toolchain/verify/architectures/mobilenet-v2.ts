import type { IrModel } from '../../ir/model.js';
import { QNet } from './qnet.js';

/** MobileNet v2 1.0 (Sandler et al. 2018, table 2): rows of [expansion t, channels c, repeats n, stride s]. */
export const MOBILENET_V2_ROWS: readonly [number, number, number, number][] = [
  [1, 16, 1, 1],
  [6, 24, 2, 2],
  [6, 32, 3, 2],
  [6, 64, 4, 2],
  [6, 96, 3, 1],
  [6, 160, 3, 2],
  [6, 320, 1, 1],
];

export function mobilenetV2(size = 224, classes = 1001): IrModel {
  const net = new QNet('mobilenet_v2');
  let y = net.conv(net.input([1, size, size, 3]), 32, 3, { stride: 2, activation: 'RELU6' });
  for (const [t, c, n, s] of MOBILENET_V2_ROWS) {
    for (let i = 0; i < n; i++) {
      const cin = net.shape(y)[3]!;
      const stride = i === 0 ? s : 1;
      let z = t === 1 ? y : net.conv(y, cin * t, 1, { activation: 'RELU6' });
      z = net.dw(z, 3, { stride });
      z = net.conv(z, c, 1, { activation: 'NONE' });
      y = stride === 1 && cin === c ? net.add(y, z) : z;
    }
  }
  y = net.conv(y, 1280, 1, { activation: 'RELU6' });
  y = net.gap(y);
  y = net.conv(y, classes, 1, { activation: 'NONE' });
  net.output(net.softmax(net.reshape(y, [1, classes])));
  return net.build();
}
