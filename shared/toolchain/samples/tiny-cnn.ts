import { ModelBuilder } from '../ir/builder.js';
import { toTflite } from '../ir/to-tflite.js';
import { writeTflite } from '../tflite/writer.js';
import { rng } from '../../common/rng.js';

/** A small float CNN (conv → relu → fully connected → softmax) made in code, for tests that must run anywhere. */
export function tinyCnnTflite(seed = 1): Uint8Array {
  const r = rng(seed);
  const rand = (n: number) => Float32Array.from({ length: n }, () => r() * 2 - 1);
  const b = new ModelBuilder();
  const x = b.input('image', [1, 6, 6, 2]);
  const y = b.conv2d(
    x,
    b.constant('conv/weights', 'float32', [4, 3, 3, 2], rand(72)),
    b.constant('conv/bias', 'float32', [4], rand(4)),
    { activation: 'RELU', stride: 2 },
  );
  const flat = b.reshape(y, [1, 36]);
  const logits = b.fullyConnected(
    flat,
    b.constant('dense/weights', 'float32', [3, 36], rand(108)),
    b.constant('dense/bias', 'float32', [3], rand(3)),
  );
  b.output(b.softmax(logits));
  return writeTflite(toTflite(b.build()));
}
