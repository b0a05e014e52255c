import type { IrModel } from '../../ir/model.js';
import { QNet } from './qnet.js';

/**
 * EfficientNet-EdgeTPU-S (TF models repo, efficientnet_edgetpu_builder.py, width 1.0 / depth 1.0 / 224): block rows
 * [repeats, kernel, stride, expansion, out channels, fused]. Fused rows use a full k×k expansion conv instead of
 * 1×1 + depthwise; ReLU instead of swish, no squeeze-and-excitation.
 */
const ROWS_S: readonly [number, number, number, number, number, boolean][] = [
  [1, 3, 1, 4, 24, true],
  [2, 3, 2, 8, 32, true],
  [4, 3, 2, 8, 48, true],
  [5, 5, 2, 8, 96, false],
  [4, 5, 1, 8, 144, false],
  [2, 5, 2, 8, 192, false],
];

export function efficientnetEdgeTpuS(size = 224, classes = 1001): IrModel {
  const net = new QNet('efficientnet_edgetpu_s');
  let y = net.conv(net.input([1, size, size, 3]), 32, 3, { stride: 2 });
  ROWS_S.forEach(([r, k, s, e, c, fused], row) => {
    for (let i = 0; i < r; i++) {
      const cin = net.shape(y)[3]!;
      const stride = i === 0 ? s : 1;
      // the first row's expansion is relative to the stem (32 → 4·24 would be the v1 rule; the builder uses input filters)
      let z = fused
        ? net.conv(y, cin * e, k, { stride })
        : net.dw(net.conv(y, cin * e, 1), k, { stride, activation: 'RELU' });
      z = net.conv(z, c, 1, { activation: 'NONE' });
      y = stride === 1 && cin === c && !(row === 0 && i === 0) ? net.add(y, z) : z;
    }
  });
  y = net.conv(y, 1280, 1);
  y = net.gap(y);
  y = net.fc(net.flatten(y), classes);
  net.output(net.softmax(y));
  return net.build();
}
