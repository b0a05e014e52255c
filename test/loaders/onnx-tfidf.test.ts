import test from 'ava';

import { nodeTestsMatch, withNodeData } from './helpers/conformance.js';
import { expectSameAsTflite } from '../interpreter/oracle-compare.js';
import { bothRuntimes, convertOnnx, onnxGraph, rng } from './helpers/onnx-graph.js';

const x = { name: 'x', type: 'int32' as const, dims: [3, 16] };
// unigrams 1, 4, 7; bigrams (2,3), (3,3), (5,1); trigrams (1,2,3), (3,3,3); output column 6 gets no n-gram
const POOL = [1, 4, 7, 2, 3, 3, 3, 5, 1, 1, 2, 3, 3, 3, 3];
const COUNTS = [0, 3, 9];
const INDEXES = [8, 0, 3, 1, 2, 7, 4, 5];

const model = (mode: string, minN: number, maxN: number, skip: number, weights?: number[]): Uint8Array =>
  onnxGraph({
    opset: 9,
    nodes: [
      {
        op: 'TfIdfVectorizer',
        inputs: ['x'],
        outputs: ['y'],
        attrs: {
          mode,
          min_gram_length: minN,
          max_gram_length: maxN,
          max_skip_count: skip,
          ngram_counts: COUNTS,
          ngram_indexes: INDEXES,
          pool_int64s: POOL,
          ...(weights ? { weights: { floats: weights } } : {}),
        },
      },
    ],
    inputs: [x],
    outputs: [{ name: 'y', type: 'float32', dims: [3, 9] }],
  });

const r = rng(3);
const tokens = Array.from({ length: 48 }, () => Math.floor((r() + 0.5) * 6));
const WEIGHTS = [0.5, 2, 1.5, 1, 3, 0.25, 4, 0.75];

for (const [mode, minN, maxN, skip, weights] of [
  ['TF', 1, 3, 2, undefined],
  ['TF', 2, 3, 0, undefined],
  ['IDF', 1, 2, 1, WEIGHTS],
  ['TFIDF', 1, 3, 3, WEIGHTS],
] as const)
  test(`TfIdfVectorizer ${mode}, ${minN}- to ${maxN}-grams, skips up to ${skip}: as onnxruntime`, async (t) => {
    const bytes = model(mode, minN, maxN, skip, weights ? [...weights] : undefined);
    const { want, got } = await bothRuntimes(
      bytes,
      [{ ...x, values: tokens }],
      [{ name: 'y', type: 'float32', dims: [3, 9] }],
    );
    t.deepEqual(Array.from(got[0]!), Array.from(want[0]!));
    // the tokens do hit the pool, and the unmapped column stays 0
    t.true(Array.from(want[0]!).some((v) => v > 0));
    t.deepEqual(
      [0, 1, 2].map((row) => want[0]![row * 9 + 6]),
      [0, 0, 0],
    );
  });

test("Kiln's interpreter runs the converted TfIdfVectorizer like the TFLite runtime", async (t) => {
  await expectSameAsTflite(t, convertOnnx(model('TFIDF', 1, 3, 2, WEIGHTS)), {
    inputs: () => [Int32Array.from(tokens)],
    exact: true,
  });
});

withNodeData('ONNX node tests: every TfIdfVectorizer case converts and matches', async (t) => {
  await nodeTestsMatch(t, /^test_tfidfvectorizer_/, 7);
});
