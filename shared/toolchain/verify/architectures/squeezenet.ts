import type { IrModel } from '../../ir/model.js';
import { QNet } from './qnet.js';

/** SqueezeNet v1.0 (Iandola et al. 2016, table 1): fire modules [squeeze 1×1, expand 1×1 = expand 3×3]. */
const FIRES: readonly [number, number][] = [
  [16, 64],
  [16, 64],
  [32, 128],
  [32, 128],
  [48, 192],
  [48, 192],
  [64, 256],
  [64, 256],
];
/** Max pools come after conv1, fire4 and fire8 (indices into FIRES after which to pool). */
const POOL_AFTER = new Set([2, 6]);

export function squeezenet(size = 224, classes = 1000): IrModel {
  const net = new QNet('squeezenet');
  let y = net.conv(net.input([1, size, size, 3]), 96, 7, { stride: 2, padding: 'VALID' });
  y = net.maxPool(y, 3, 2);
  FIRES.forEach(([s, e], i) => {
    const sq = net.conv(y, s, 1);
    y = net.concat([net.conv(sq, e, 1), net.conv(sq, e, 3)]);
    if (POOL_AFTER.has(i)) y = net.maxPool(y, 3, 2);
  });
  y = net.conv(y, classes, 1);
  y = net.gap(y);
  net.output(net.softmax(net.reshape(y, [1, classes])));
  return net.build();
}
