import type { IrModel } from '../../ir/model.js';
import type { ConvOpts } from './qnet.js';
import { QNet } from './qnet.js';

/** Inception v4 (Szegedy et al. 2016, figures 3–8, as in TF-slim): stem, 4×A, reduction A, 7×B, reduction B, 3×C. */
type K = number | [number, number];

export function inceptionV4(size = 299, classes = 1001): IrModel {
  const net = new QNet('inception_v4');
  const c = (x: number, n: number, k: K, o: ConvOpts = {}): number => net.conv(x, n, k, o);
  const v2 = { stride: 2, padding: 'VALID' as const };
  const chain = (x: number, layers: readonly [number, K][]): number => layers.reduce((y, [n, k]) => c(y, n, k), x);

  let y = c(net.input([1, size, size, 3]), 32, 3, v2);
  y = c(y, 32, 3, { padding: 'VALID' });
  y = c(y, 64, 3);
  y = net.concat([net.maxPool(y, 3, 2), c(y, 96, 3, v2)]);
  y = net.concat([
    c(c(y, 64, 1), 96, 3, { padding: 'VALID' }),
    c(
      chain(y, [
        [64, 1],
        [64, [1, 7]],
        [64, [7, 1]],
      ]),
      96,
      3,
      { padding: 'VALID' },
    ),
  ]);
  y = net.concat([c(y, 192, 3, v2), net.maxPool(y, 3, 2)]);

  const pooled = (x: number, n: number): number => c(net.avgPool(x, 3, 1, 'SAME'), n, 1);
  for (let i = 0; i < 4; i++) {
    y = net.concat([
      c(y, 96, 1),
      chain(y, [
        [64, 1],
        [96, 3],
      ]),
      chain(y, [
        [64, 1],
        [96, 3],
        [96, 3],
      ]),
      pooled(y, 96),
    ]);
  }
  y = net.concat([
    c(y, 384, 3, v2),
    c(
      chain(y, [
        [192, 1],
        [224, 3],
      ]),
      256,
      3,
      v2,
    ),
    net.maxPool(y, 3, 2),
  ]);
  for (let i = 0; i < 7; i++) {
    y = net.concat([
      c(y, 384, 1),
      chain(y, [
        [192, 1],
        [224, [1, 7]],
        [256, [7, 1]],
      ]),
      chain(y, [
        [192, 1],
        [192, [7, 1]],
        [224, [1, 7]],
        [224, [7, 1]],
        [256, [1, 7]],
      ]),
      pooled(y, 128),
    ]);
  }
  y = net.concat([
    c(c(y, 192, 1), 192, 3, v2),
    c(
      chain(y, [
        [256, 1],
        [256, [1, 7]],
        [320, [7, 1]],
      ]),
      320,
      3,
      v2,
    ),
    net.maxPool(y, 3, 2),
  ]);
  for (let i = 0; i < 3; i++) {
    const b1 = c(y, 384, 1);
    const b2 = chain(y, [
      [384, 1],
      [448, [3, 1]],
      [512, [1, 3]],
    ]);
    y = net.concat([
      c(y, 256, 1),
      c(b1, 256, [1, 3]),
      c(b1, 256, [3, 1]),
      c(b2, 256, [1, 3]),
      c(b2, 256, [3, 1]),
      pooled(y, 256),
    ]);
  }
  y = net.gap(y);
  y = net.fc(net.flatten(y), classes);
  net.output(net.softmax(y));
  return net.build();
}
