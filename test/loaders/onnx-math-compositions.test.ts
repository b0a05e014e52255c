import test from 'ava';

import { isKilnError } from '../../shared/common/errors.js';
import { DEFAULT_DATA, runConformance } from '../../scripts/onnx-conformance.js';
import { withNodeData } from './helpers/conformance.js';
import { FLOAT, INT32, convertOnnx, maxError, nodeModel, runOnnx, values, type Attr } from './helpers/onnx-node.js';

const size = (s: number[]): number => s.reduce((a, b) => a * b, 1);

/** Unary float op on x of shape s against `ref`, worst absolute error at most `tol`. */
async function unaryCase(
  t: { true: (v: boolean, m?: string) => void },
  op: string,
  x: Float32Array,
  ref: (v: number) => number,
  tol: number,
  attrs: Attr[] = [],
  opset = 13,
): Promise<string[]> {
  const s = [x.length];
  const { ops, outputs } = await runOnnx(
    nodeModel(op, [{ name: 'x', type: FLOAT, shape: s }], [{ name: 'y', type: FLOAT, shape: s }], attrs, opset),
    [x],
  );
  const want = Array.from(x, ref);
  const err = maxError(outputs[0]!, want);
  t.true(err <= tol, `${op}: worst error ${err}`);
  return ops;
}

test('Atan, Asin, Acos: within 1e-6 of the float64 result over their domains (NaN outside, ±π/2 at ±∞ and ±1)', async (t) => {
  const wide = Float32Array.from([
    ...values(400, 3, -30, 30),
    ...values(200, 4, -1.5, 1.5),
    0,
    1,
    -1,
    Infinity,
    -Infinity,
  ]);
  await unaryCase(t, 'Atan', wide, Math.atan, 1e-6, [], 7);
  const unit = Float32Array.from([...values(400, 5, -1, 1), 0, 1, -1, 0.9999, -0.9999, 1e-8, 1.5, -2]);
  await unaryCase(t, 'Asin', unit, Math.asin, 1e-6 * 4, [], 7);
  const ops = await unaryCase(t, 'Acos', unit, Math.acos, 1e-6 * 4, [], 7);
  t.false(ops.includes('ATAN2'), 'TFLite 2.9 has no ATAN2 builtin');
});

/** erf in float64: its Taylor series below 3 (error ≈ 1e-12), 1 − erfc's asymptotic series above (error ≈ 1e-8). */
function erfRef(x: number): number {
  const a = Math.abs(x);
  if (a >= 3) {
    const z = 1 / (2 * a * a);
    const erfc = (Math.exp(-a * a) / (a * Math.sqrt(Math.PI))) * (1 - z + 3 * z * z - 15 * z * z * z);
    return Math.sign(x) * (1 - erfc);
  }
  let term = x;
  let sum = x;
  for (let n = 1; n < 100; n++) {
    term *= (-x * x) / n;
    sum += term / (2 * n + 1);
  }
  return (2 / Math.sqrt(Math.PI)) * sum;
}

test('Erf: within 1e-6 of erf over [−6, 6] (A&S 7.1.26 and float32 rounding)', async (t) => {
  const x = Float32Array.from([...values(600, 9, -6, 6), ...values(200, 10, -0.01, 0.01), 0, Infinity, -Infinity]);
  const ops = await unaryCase(t, 'Erf', x, (v) => (Number.isFinite(v) ? erfRef(v) : Math.sign(v)), 1e-6);
  t.true(ops.includes('EXP') && ops.includes('SELECT_V2'));
});

test('Celu: α·elu(x/α), with α from the attribute', async (t) => {
  const alpha = 2.5;
  const x = values(200, 12, -8, 8);
  await unaryCase(
    t,
    'Celu',
    x,
    (v) => Math.max(0, v) + Math.min(0, alpha * (Math.exp(v / alpha) - 1)),
    1e-5,
    [{ name: 'alpha', f: alpha }],
    12,
  );
});

test('MeanVarianceNormalization over the axes given: zero mean and unit variance per slice', async (t) => {
  const s = [2, 3, 4, 5];
  const x = values(size(s), 14, -2, 6);
  const { outputs } = await runOnnx(
    nodeModel(
      'MeanVarianceNormalization',
      [{ name: 'x', type: FLOAT, shape: s }],
      [{ name: 'y', type: FLOAT, shape: s }],
      [{ name: 'axes', ints: [0, 2, 3] }],
    ),
    [x],
  );
  const y = outputs[0]!;
  const want: number[] = new Array<number>(x.length);
  for (let c = 0; c < 3; c++) {
    const idx: number[] = [];
    for (let n = 0; n < 2; n++) for (let q = 0; q < 20; q++) idx.push((n * 3 + c) * 20 + q);
    const mean = idx.reduce((a, i) => a + x[i]!, 0) / idx.length;
    const variance = idx.reduce((a, i) => a + (x[i]! - mean) ** 2, 0) / idx.length;
    for (const i of idx) want[i] = (x[i]! - mean) / (Math.sqrt(variance) + 1e-9);
  }
  t.true(maxError(y, want) <= 1e-4, `worst ${maxError(y, want)}`);
});

test('EyeLike: the k-th diagonal of the input shape as a constant, in the dtype asked for', async (t) => {
  const model = (k: number, dtype?: number): Uint8Array =>
    nodeModel(
      'EyeLike',
      [{ name: 'x', type: INT32, shape: [3, 4] }],
      [{ name: 'y', type: dtype ?? INT32, shape: [3, 4] }],
      [{ name: 'k', i: k }, ...(dtype ? [{ name: 'dtype', i: dtype }] : [])],
      9,
    );
  const x = new Int32Array(12);
  const eye = (k: number): number[] => Array.from({ length: 12 }, (_v, q) => Number((q % 4) - Math.floor(q / 4) === k));
  t.deepEqual((await runOnnx(model(1, FLOAT), [x])).outputs[0], eye(1));
  t.deepEqual((await runOnnx(model(-1), [x])).outputs[0], eye(-1));
  t.deepEqual((await runOnnx(model(0), [x])).outputs[0], eye(0));
});

/** Determinant by Gaussian elimination with partial pivoting, in float64. */
function detRef(a: number[], n: number): number {
  const m = [...a];
  let d = 1;
  for (let i = 0; i < n; i++) {
    let p = i;
    for (let r = i + 1; r < n; r++) if (Math.abs(m[r * n + i]!) > Math.abs(m[p * n + i]!)) p = r;
    if (m[p * n + i] === 0) return 0;
    if (p !== i) {
      for (let c = 0; c < n; c++) [m[i * n + c], m[p * n + c]] = [m[p * n + c]!, m[i * n + c]!];
      d = -d;
    }
    d *= m[i * n + i]!;
    for (let r = i + 1; r < n; r++) {
      const f = m[r * n + i]! / m[i * n + i]!;
      for (let c = i; c < n; c++) m[r * n + c]! -= f * m[i * n + c]!;
    }
  }
  return d;
}

for (const n of [1, 2, 3, 4])
  test(`Det of a batch of ${n}×${n} matrices equals the LU determinant`, async (t) => {
    const s = [2, 3, n, n];
    const x = values(size(s), 20 + n, -2, 2);
    const { outputs } = await runOnnx(
      nodeModel('Det', [{ name: 'x', type: FLOAT, shape: s }], [{ name: 'y', type: FLOAT, shape: [2, 3] }], [], 11),
      [x],
    );
    const want = Array.from({ length: 6 }, (_v, b) => detRef(Array.from(x.subarray(b * n * n, (b + 1) * n * n)), n));
    t.true(maxError(outputs[0]!, want) <= 1e-5, `${outputs[0]} vs ${want}`);
  });

test('Det of a 5×5 matrix is refused, naming the size', (t) => {
  const e = t.throws(() =>
    convertOnnx(
      nodeModel('Det', [{ name: 'x', type: FLOAT, shape: [5, 5] }], [{ name: 'y', type: FLOAT, shape: [] }], [], 11),
    ),
  );
  t.true(isKilnError(e));
  t.regex(e?.message ?? '', /the_det.*5×5 determinant/);
});

/** einsum by enumerating every assignment of the labels (equations without `...`; output given after `->`). */
function einsumRef(eq: string, xs: Float32Array[], shapes: number[][]): number[] {
  const [lhs, out] = eq.split('->') as [string, string];
  const terms = lhs.split(',');
  const dim = new Map<string, number>();
  terms.forEach((term, k) => [...term].forEach((l, a) => dim.set(l, shapes[k]![a]!)));
  const labels = [...dim.keys()];
  const result = new Array<number>(size([...out].map((l) => dim.get(l)!))).fill(0);
  const total = size(labels.map((l) => dim.get(l)!));
  for (let q = 0; q < total; q++) {
    const v = new Map<string, number>();
    let r = q;
    for (const l of labels) {
      v.set(l, r % dim.get(l)!);
      r = Math.floor(r / dim.get(l)!);
    }
    const at = (term: string): number => [...term].reduce((o, l) => o * dim.get(l)! + v.get(l)!, 0);
    result[at(out)]! += terms.reduce((p, term, k) => p * xs[k]![at(term)]!, 1);
  }
  return result;
}

const EINSUMS: { eq: string; ref?: string; shapes: number[][]; out: number[] }[] = [
  {
    eq: 'bij, bjk -> bik',
    shapes: [
      [5, 2, 3],
      [5, 3, 4],
    ],
    out: [5, 2, 4],
  },
  { eq: 'i,i', ref: 'i,i->', shapes: [[5], [5]], out: [] },
  { eq: 'ij->i', shapes: [[3, 4]], out: [3] },
  { eq: 'ij->ji', shapes: [[3, 4]], out: [4, 3] },
  { eq: '...ii ->...i', ref: 'bii->bi', shapes: [[3, 5, 5]], out: [3, 5] },
  {
    eq: 'ij,jk',
    ref: 'ij,jk->ik',
    shapes: [
      [2, 3],
      [3, 4],
    ],
    out: [2, 4],
  },
  {
    eq: 'bn,anm,bm->ba',
    shapes: [
      [2, 3],
      [4, 3, 5],
      [2, 5],
    ],
    out: [2, 4],
  },
  {
    eq: '...ij,...jk->...ik',
    ref: 'xyij,xyjk->xyik',
    shapes: [
      [2, 2, 3, 4],
      [2, 2, 4, 3],
    ],
    out: [2, 2, 3, 3],
  },
  {
    eq: 'ij,kl->ijkl',
    shapes: [
      [2, 3],
      [2, 2],
    ],
    out: [2, 3, 2, 2],
  },
];

for (const e of EINSUMS)
  test(`Einsum "${e.eq}" computes the sum of products`, async (t) => {
    const xs = e.shapes.map((s, k) => values(size(s), 30 + k, -1, 1));
    const { ops, outputs } = await runOnnx(
      nodeModel(
        'Einsum',
        e.shapes.map((s, k) => ({ name: `x${k}`, type: FLOAT, shape: s })),
        [{ name: 'y', type: FLOAT, shape: e.out }],
        [{ name: 'equation', s: e.eq }],
        12,
      ),
      xs,
    );
    const want = einsumRef((e.ref ?? e.eq).replace(/\s+/g, ''), xs, e.shapes);
    t.true(maxError(outputs[0]!, want) <= 1e-5, `${outputs[0]} vs ${want}`);
    t.false(
      ops.some((o) => !['TRANSPOSE', 'RESHAPE', 'MUL', 'SUM', 'BATCH_MATMUL'].includes(o)),
      ops.join(),
    );
  });

test('Einsum operands that would broadcast a 1 against a larger size are refused, naming the label', (t) => {
  const e = t.throws(() =>
    convertOnnx(
      nodeModel(
        'Einsum',
        [
          { name: 'a', type: FLOAT, shape: [1, 3] },
          { name: 'b', type: FLOAT, shape: [4, 3] },
        ],
        [{ name: 'y', type: FLOAT, shape: [4] }],
        [{ name: 'equation', s: 'ij,ij->i' }],
        12,
      ),
    ),
  );
  t.regex(e?.message ?? '', /label i has sizes 1 and 4/);
});

withNodeData(
  'ONNX node tests: Celu, MVN, EyeLike, Acos/Asin/Atan, Erf and Det match; the double-typed Einsum tests are refused by type',
  async (t) => {
    const results = await runConformance(
      DEFAULT_DATA,
      ['node'],
      /^test_(celu|mvn|eyelike|acos|asin|atan|erf|det|einsum)(_|$)/,
    );
    const einsum = results.filter((r) => r.name.startsWith('test_einsum'));
    t.is(einsum.length, 5);
    for (const r of einsum)
      t.true(r.status === 'refused' && /double|float64/.test(r.reason ?? ''), `${r.name}: ${r.reason}`);
    t.deepEqual(
      results
        .filter((r) => !r.name.startsWith('test_einsum') && r.status !== 'matched')
        .map((r) => `${r.name}: ${r.status} ${r.reason}`),
      [],
    );
    t.is(results.length, 21);
  },
);
