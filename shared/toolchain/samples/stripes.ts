import { ModelBuilder } from '../ir/builder.js';
import { toTflite } from '../ir/to-tflite.js';
import { writeTflite } from '../tflite/writer.js';

/**
 * The sample model `npm start` builds: a float CNN Kiln makes itself that tells horizontal stripes, vertical stripes
 * and flat images apart. Its weights are designed, not random: Sobel edge filters (conv 3×3, stride 2, ReLU), a
 * global average pool, and a fully connected layer that adds the edge energy per orientation, with a bias that wins
 * for flat images. Input `image` float32[1,32,32,3] in [−1, 1]; output `probabilities` float32[1,3].
 */
export const STRIPES_CLASSES = ['horizontal', 'vertical', 'flat'] as const;
export const STRIPES_SIZE = 32;
export const STRIPES_FILE = 'kiln-sample-stripes.tflite';

/** kiln.json for the sample: two compile targets and a short calibration. */
export const STRIPES_CONFIG = {
  compile: { targets: [{ name: 'default' }, { name: 'runtime13', minRuntimeVersion: 13 }] },
  quantize: { samples: 32, debugSamples: 4 },
};

const SOBEL_Y = [-1, -2, -1, 0, 0, 0, 1, 2, 1];
const SOBEL_X = [-1, 0, 1, -2, 0, 2, -1, 0, 1];

export function stripesModel(): Uint8Array {
  const b = new ModelBuilder();
  const x = b.input('image', [1, STRIPES_SIZE, STRIPES_SIZE, 3]);
  const kernels = [SOBEL_Y, SOBEL_Y.map((v) => -v), SOBEL_X, SOBEL_X.map((v) => -v)];
  // filter layout [out, kh, kw, in]: each kernel applied to the channel mean
  const filter = new Float32Array(4 * 9 * 3);
  kernels.forEach((k, o) => k.forEach((v, i) => filter.fill(v / 3, (o * 9 + i) * 3, (o * 9 + i) * 3 + 3)));
  const edges = b.conv2d(
    x,
    b.constant('edges/weights', 'float32', [4, 3, 3, 3], filter),
    b.constant('edges/bias', 'float32', [4], new Float32Array(4)),
    { stride: 2, padding: 'VALID', activation: 'RELU' },
  );
  const side = (STRIPES_SIZE - 3) / 2 + 1;
  const pooled = b.pool('AVERAGE_POOL_2D', edges, { filter: Math.floor(side), padding: 'VALID' });
  const flat = b.reshape(pooled, [1, 4]);
  const logits = b.fullyConnected(
    flat,
    b.constant('classify/weights', 'float32', [3, 4], Float32Array.from([2, 2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0])),
    b.constant('classify/bias', 'float32', [3], Float32Array.from([0, 0, 1.5])),
  );
  b.output(b.softmax(logits, 1, { name: 'probabilities' }));
  return writeTflite(toTflite(b.build('Kiln sample: stripes classifier (designed Sobel-filter CNN)')));
}

/** A test image of one class: stripes 2 pixels wide in ±amplitude, or a flat gray level; NHWC float32. */
export function stripesImage(kind: (typeof STRIPES_CLASSES)[number], amplitude = 1, period = 4): Float32Array {
  const n = STRIPES_SIZE;
  const out = new Float32Array(n * n * 3);
  for (let y = 0; y < n; y++)
    for (let x = 0; x < n; x++) {
      const t = kind === 'horizontal' ? y : x;
      const v = kind === 'flat' ? amplitude * 0.3 : Math.floor(t / (period / 2)) % 2 === 0 ? amplitude : -amplitude;
      out.fill(v, (y * n + x) * 3, (y * n + x) * 3 + 3);
    }
  return out;
}
