import test from 'ava';
import { ModelBuilder } from '../../shared/toolchain/ir/builder.js';
import { nonMaxSuppression } from '../../shared/toolchain/interpreter/kernels/non-max-suppression.js';
import { rng } from '../helpers/models.js';
import { expectSameAsTflite } from './oracle-compare.js';

/**
 * NON_MAX_SUPPRESSION_V4 in Kiln's interpreter against the TFLite runtime: random boxes (some flipped, some of zero
 * area), scores with many ties (so the heap order matters), thresholds as constants or as inputs.
 */

function model(n: number, maxOut: number, iou: number | 'input', score: number | 'input') {
  const b = new ModelBuilder();
  const boxes = b.input('boxes', [n, 4], 'float32');
  const scores = b.input('scores', [n], 'float32');
  const it = iou === 'input' ? b.input('iou', [], 'float32') : b.constant('iou', 'float32', [], [iou]);
  const st = score === 'input' ? b.input('score', [], 'float32') : b.constant('score', 'float32', [], [score]);
  const [sel, count] = b.op(
    'NON_MAX_SUPPRESSION_V4',
    [boxes, scores, b.constant('max', 'int32', [], [maxOut]), it, st],
    {},
    {
      outputs: [
        { name: 'selected', shape: [maxOut], dtype: 'int32' },
        { name: 'count', shape: [], dtype: 'int32' },
      ],
    },
  );
  b.output(sel!);
  b.output(count!);
  return b.build();
}

/** Boxes on a coarse grid (overlaps and exact duplicates are common), a few flipped or degenerate. */
function boxesAndScores(n: number, seed: number, levels: number): [Float32Array, Float32Array] {
  const r = rng(seed);
  const boxes = new Float32Array(4 * n);
  for (let i = 0; i < n; i++) {
    const y = Math.floor(r() * 6) / 4;
    const x = Math.floor(r() * 6) / 4;
    const h = Math.floor(r() * 4) / 4;
    const w = Math.floor(r() * 4) / 4 + 0.25;
    const flip = r() < 0.2;
    boxes.set(flip ? [y + h, x + w, y, x] : [y, x, y + h, x + w], 4 * i);
  }
  const scores = Float32Array.from({ length: n }, () => Math.floor(r() * levels) / levels);
  return [boxes, scores];
}

for (const [n, maxOut, levels] of [
  [12, 12, 4],
  [40, 10, 3],
  [64, 64, 1000],
  [30, 0, 5],
] as const)
  test(`NON_MAX_SUPPRESSION_V4: ${n} boxes, max ${maxOut}, ${levels} score levels, constant thresholds`, async (t) => {
    await expectSameAsTflite(t, model(n, maxOut, 0.4, 0.2), {
      seeds: [1, 2, 3, 4, 5],
      inputs: (seed) => boxesAndScores(n, seed, levels),
    });
  });

test('NON_MAX_SUPPRESSION_V4: thresholds as inputs, IoU threshold 0 and 1, no score threshold', async (t) => {
  const n = 24;
  for (const [iou, score] of [
    [0, -1],
    [1, 0.5],
    [0.5, -3.4e38],
  ] as const)
    await expectSameAsTflite(t, model(n, n, 'input', 'input'), {
      seeds: [7, 8, 9],
      inputs: (seed) => [...boxesAndScores(n, seed, 3), new Float32Array([iou]), new Float32Array([score])],
    });
});

test('hard NMS selects by score, suppresses by IoU ≥ threshold, keeps the first of equal scores', (t) => {
  const boxes = [0, 0, 1, 1, 0, 0.1, 1, 1.1, 0, 2, 1, 3, 0, 0, 1, 1];
  t.deepEqual(nonMaxSuppression(boxes, [0.5, 0.9, 0.3, 0.9], 4, 0.5, 0), [1, 2]);
  t.deepEqual(nonMaxSuppression(boxes, [0.5, 0.9, 0.3, 0.9], 1, 0.5, 0), [1]);
  t.deepEqual(nonMaxSuppression(boxes, [0.5, 0.9, 0.3, 0.9], 4, 0.5, 0.4), [1]);
  // identical boxes, equal scores: the first one
  t.deepEqual(nonMaxSuppression([0, 0, 1, 1, 0, 0, 1, 1, 0, 0, 1, 1], [0.9, 0.9, 0.9], 3, 0.5, 0), [0]);
});
