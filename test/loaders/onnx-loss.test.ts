import test from 'ava';

import { DEFAULT_DATA, runConformance } from '../../scripts/onnx-conformance.js';
import { withNodeData } from './helpers/conformance.js';
import { FLOAT, INT64, maxError, nodeModel, runOnnx, values, type Attr } from './helpers/onnx-node.js';

type Reduction = 'none' | 'sum' | 'mean';

/** ONNX's definition of NegativeLogLikelihoodLoss, in float64. */
function nllReference(
  x: Float32Array,
  target: number[],
  shape: number[],
  weight: Float32Array | undefined,
  ii: number | undefined,
  reduction: Reduction,
): number[] {
  const [n, c] = shape as [number, number];
  const d = shape.slice(2).reduce((a, b) => a * b, 1);
  const loss: number[] = [];
  let den = 0;
  for (let i = 0; i < n; i++)
    for (let j = 0; j < d; j++) {
      const t = target[i * d + j]!;
      if (t === ii) {
        loss.push(0);
        continue;
      }
      const w = weight ? weight[t]! : 1;
      loss.push(-x[(i * c + t) * d + j]! * w);
      den += w;
    }
  const total = loss.reduce((a, b) => a + b, 0);
  return reduction === 'none' ? loss : reduction === 'sum' ? [total] : [total / den];
}

function logSoftmax(x: Float32Array, shape: number[]): Float32Array {
  const [n, c] = shape as [number, number];
  const d = shape.slice(2).reduce((a, b) => a * b, 1);
  const out = new Float32Array(x.length);
  for (let i = 0; i < n; i++)
    for (let j = 0; j < d; j++) {
      let max = -Infinity;
      for (let k = 0; k < c; k++) max = Math.max(max, x[(i * c + k) * d + j]!);
      let s = 0;
      for (let k = 0; k < c; k++) s += Math.exp(x[(i * c + k) * d + j]! - max);
      for (let k = 0; k < c; k++) out[(i * c + k) * d + j] = x[(i * c + k) * d + j]! - max - Math.log(s);
    }
  return out;
}

interface Case {
  shape: number[];
  reduction: Reduction;
  weight?: boolean;
  ii?: number;
}

const CASES: Case[] = [
  { shape: [3, 5], reduction: 'none' },
  { shape: [3, 5], reduction: 'mean', weight: true },
  { shape: [3, 5, 2], reduction: 'mean', ii: 1 },
  { shape: [2, 4, 3, 2], reduction: 'sum', weight: true, ii: 0 },
  { shape: [2, 4, 3, 2], reduction: 'mean', weight: true, ii: -1 },
  { shape: [2, 3, 2, 2, 2, 2], reduction: 'none', ii: 2 },
];

/** Targets in [0, C), with ignore_index mixed in when it is set. */
function targets(n: number, classes: number, ii: number | undefined, seed: number): number[] {
  const v = values(n, seed, 0, classes);
  return Array.from(v, (f, i) => (ii !== undefined && i % 4 === 1 ? ii : Math.floor(f)));
}

for (const op of ['NegativeLogLikelihoodLoss', 'SoftmaxCrossEntropyLoss'] as const)
  for (const cs of CASES) {
    const label = `${op} [${cs.shape.join(', ')}] ${cs.reduction}${cs.weight ? ', weighted' : ''}${cs.ii !== undefined ? `, ignore_index ${cs.ii}` : ''}`;
    test(`${label}: the converted model computes ONNX's loss`, async (t) => {
      const { shape } = cs;
      const tshape = [shape[0]!, ...shape.slice(2)];
      const count = tshape.reduce((a, b) => a * b, 1);
      const x = values(
        shape.reduce((a, b) => a * b, 1),
        7,
        -3,
        op === 'SoftmaxCrossEntropyLoss' ? 3 : 0,
      );
      const tgt = targets(count, shape[1]!, cs.ii, 11);
      const w = cs.weight ? values(shape[1]!, 5, 0.2, 2) : undefined;
      const attrs: Attr[] = [{ name: 'reduction', s: cs.reduction }];
      if (cs.ii !== undefined) attrs.push({ name: 'ignore_index', i: cs.ii });
      const lossShape = cs.reduction === 'none' ? tshape : [];
      const sce = op === 'SoftmaxCrossEntropyLoss';
      const model = nodeModel(
        op,
        [
          { name: 'x', type: FLOAT, shape },
          { name: 'target', type: INT64, shape: tshape },
          ...(w ? [{ name: 'w', type: FLOAT, shape: [shape[1]!] }] : []),
        ],
        [{ name: 'loss', type: FLOAT, shape: lossShape }, ...(sce ? [{ name: 'log_prob', type: FLOAT, shape }] : [])],
        attrs,
      );
      const feeds = [x, BigInt64Array.from(tgt, BigInt), ...(w ? [w] : [])];
      const { ops, outputs } = await runOnnx(model, feeds);
      t.true(ops.includes('ONE_HOT'));
      const lp = sce ? logSoftmax(x, shape) : x;
      const want = nllReference(lp, tgt, shape, w, cs.ii, cs.reduction);
      t.true(maxError(outputs[0]!, want) <= 1e-5 * Math.max(1, ...want.map(Math.abs)), `${outputs[0]} vs ${want}`);
      if (sce) t.true(maxError(outputs[1]!, lp) <= 1e-5);
    });
  }

test('NegativeLogLikelihoodLoss: a reduction ONNX does not define is refused by name', (t) => {
  const model = nodeModel(
    'NegativeLogLikelihoodLoss',
    [
      { name: 'x', type: FLOAT, shape: [2, 3] },
      { name: 'target', type: INT64, shape: [2] },
    ],
    [{ name: 'loss', type: FLOAT, shape: [] }],
    [{ name: 'reduction', s: 'max' }],
  );
  return runOnnx(model, []).then(
    () => t.fail('converted'),
    (e: Error) => t.regex(e.message, /reduction "max"/),
  );
});

withNodeData(
  'ONNX node tests: every NegativeLogLikelihoodLoss and SoftmaxCrossEntropyLoss model matches',
  async (t) => {
    const results = await runConformance(DEFAULT_DATA, ['node'], /^test_(nllloss_|sce_)/);
    const byStatus = (s: string): string[] => results.filter((r) => r.status === s).map((r) => r.name);
    // the expanded NLL models use GatherElements (another op); every other loss model converts and matches
    t.deepEqual(
      results
        .filter((r) => r.status !== 'matched' && !/^test_nllloss_.*_expanded$/.test(r.name))
        .map((r) => `${r.name}: ${r.reason}`),
      [],
    );
    t.deepEqual(byStatus('mismatch'), []);
    t.true(byStatus('matched').length >= 86, `${byStatus('matched').length} matched`);
  },
);
