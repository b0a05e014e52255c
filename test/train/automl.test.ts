import test from 'ava';
import { compileModel } from '../../shared/toolchain/edgetpu/compile-model.js';
import { toTfliteBytes } from '../../shared/toolchain/loaders/convert.js';
import { quantizeModel } from '../../shared/toolchain/quantize/quantize-model.js';
import { augmentBatch, seededRandom } from '../../shared/toolchain/train/augment.js';
import { accuracy, learningRateAt, trainAutoml, type ImageSplit } from '../../shared/toolchain/train/automl.js';
import { convertTrained } from '../../shared/toolchain/train/export.js';
import { quantizedAccuracy } from '../../shared/toolchain/train/score.js';

const SHAPE: [number, number, number] = [12, 10, 1];

/** Three classes a CNN can tell apart: a bright horizontal bar, a vertical bar, or a bright square, plus noise. */
function split(count: number, seed: number): ImageSplit {
  const rand = seededRandom(seed);
  const [H, W] = SHAPE;
  const images = new Float32Array(count * H * W);
  const labels = new Int32Array(count);
  for (let n = 0; n < count; n++) {
    const label = n % 3;
    labels[n] = label;
    const cy = 3 + Math.floor(rand() * (H - 6));
    const cx = 3 + Math.floor(rand() * (W - 6));
    for (let y = 0; y < H; y++)
      for (let x = 0; x < W; x++) {
        const on =
          label === 0
            ? Math.abs(y - cy) <= 0
            : label === 1
              ? Math.abs(x - cx) <= 0
              : Math.abs(y - cy) <= 1 && Math.abs(x - cx) <= 1;
        images[n * H * W + y * W + x] = (on ? 0.9 : 0.1) + rand() * 0.1;
      }
  }
  return { images, labels, count };
}

test('augmentation shifts with repeated edges and flips horizontally', (t) => {
  const src = Float32Array.from({ length: 6 }, (_, i) => i); // one 2×3 image: [0 1 2; 3 4 5]
  const flipped = augmentBatch(src, 1, [2, 3, 1], { maxShift: 0, flipHorizontal: true }, () => 0.25);
  t.deepEqual([...flipped], [2, 1, 0, 5, 4, 3]);
  // rand 1 → shift +1 down and +1 right: row 0 repeats, column 0 repeats.
  const shifted = augmentBatch(src, 1, [2, 3, 1], { maxShift: 1, flipHorizontal: false }, () => 0.999);
  t.deepEqual([...shifted], [0, 0, 1, 0, 0, 1]);
});

test('the learning rate warms up, peaks and decays by cosine', (t) => {
  t.true(learningRateAt(0, 1) < 0.2);
  t.is(learningRateAt(0.05, 1), 1);
  t.true(learningRateAt(0.5, 1) < 0.6 && learningRateAt(0.5, 1) > 0.4);
  t.true(learningRateAt(1, 1) < 0.03);
});

test('trainAutoml learns a small image task; the export quantizes and maps every op to the Edge TPU', async (t) => {
  const data = {
    shape: SHAPE,
    classNames: ['row', 'column', 'square'],
    train: split(240, 1),
    validation: split(60, 2),
  };
  const epochs: number[] = [];
  const r = await trainAutoml(data, {
    timeBudgetMs: 120_000,
    maxEpochs: 8,
    batchSize: 16,
    architecture: 'c8x1',
    onEpoch: (e) => epochs.push(e.epoch),
  });
  t.deepEqual(
    epochs,
    r.history.map((h) => h.epoch),
  );
  t.true(r.bestValAccuracy >= 0.9, `validation accuracy ${r.bestValAccuracy}`);
  t.is(accuracy(r.model, data.validation, SHAPE), r.bestValAccuracy, 'the best epoch’s weights are restored');

  const converted = await convertTrained(r.model);
  t.deepEqual(Object.keys(converted.ops).sort(), ['CONV_2D', 'FULLY_CONNECTED', 'MAX_POOL_2D', 'RESHAPE', 'SOFTMAX']);
  const per = SHAPE[0] * SHAPE[1] * SHAPE[2];
  const samples = Array.from({ length: 64 }, (_, i) => [data.train.images.slice(i * per, (i + 1) * per)]);
  const q = await quantizeModel(converted.model, { samples, sampleSource: 'training images', threads: 1 });
  const bytes = toTfliteBytes(q.model);
  const compiled = compileModel([{ path: 'trained.tflite', bytes }]);
  const m = compiled.models[0]!;
  t.true(m.totalOps > 0);
  t.is(m.cpuOps, 0, JSON.stringify(m.rows));
  t.is(m.tpuOps, m.totalOps);

  // The quantized model still classifies the validation images.
  const q8 = quantizedAccuracy(bytes, data.validation, per);
  t.true(q8 >= 0.85, `quantized accuracy ${q8}`);
});
