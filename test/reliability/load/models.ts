import { ModelBuilder } from '../../../shared/toolchain/ir/builder.js';
import { toTflite } from '../../../shared/toolchain/ir/to-tflite.js';
import { writeTflite } from '../../../shared/toolchain/tflite/writer.js';
import { rng } from '../../../shared/common/rng.js';

/**
 * Models of mixed sizes for the load test: a conv → dense classifier whose dense layer grows with `i`, so uploads
 * range from a few KiB to about 2 MiB.
 */
const HIDDEN = [8, 64, 256, 1024, 2048];

export function loadModel(i: number): Uint8Array {
  const r = rng(100 + i);
  const rand = (n: number, s = 1) => Float32Array.from({ length: n }, () => (r() * 2 - 1) * s);
  const hidden = HIDDEN[i % HIDDEN.length]!;
  const b = new ModelBuilder();
  const x = b.input('image', [1, 8, 8, 3]);
  const c = b.conv2d(
    x,
    b.constant('conv/w', 'float32', [8, 3, 3, 3], rand(216, 0.3)),
    b.constant('conv/b', 'float32', [8], rand(8, 0.1)),
    {
      activation: 'RELU',
      stride: 2,
    },
  );
  const flat = b.reshape(c, [1, 128]);
  const h = b.fullyConnected(
    flat,
    b.constant('fc1/w', 'float32', [hidden, 128], rand(hidden * 128, 0.1)),
    b.constant('fc1/b', 'float32', [hidden], rand(hidden, 0.1)),
    { activation: 'RELU' },
  );
  const logits = b.fullyConnected(
    h,
    b.constant('fc2/w', 'float32', [4, hidden], rand(4 * hidden, 0.1)),
    b.constant('fc2/b', 'float32', [4], rand(4, 0.1)),
  );
  b.output(b.softmax(logits));
  return writeTflite(toTflite(b.build()));
}
