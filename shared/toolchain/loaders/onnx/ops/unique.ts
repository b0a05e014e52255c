/**
 * ONNX Unique by comparing every pair of elements (or of slices along the axis): TFLite's UNIQUE is 1-D, unsorted and
 * lacks the first indices and counts, so the four outputs are built from pairwise comparisons of the N rows
 * (the flattened input, or the input with the axis first and the rest flattened to M components):
 *
 * - same[i, j]: rows i and j are equal (NOT_EQUAL per component, SUM, EQUAL 0); row i is a first occurrence when
 *   no earlier row is the same;
 * - rank of a first occurrence: sorted=1, the number of first occurrences lexicographically smaller (the first
 *   differing component, ARG_MAX of NOT_EQUAL, picks the LESS result through ONE_HOT); sorted=0, the number of first
 *   occurrences before it;
 * - inverse_indices[i] = rank of the first row equal to row i (ARG_MAX of same[i]); the unique rows' positions
 *   (indices) are, for each rank k, the first occurrence of rank k; Y gathers them; counts sums inverse == k.
 *
 * The number of unique rows depends on the data: it is the size the model declares for the outputs. Everything is
 * counted in float32 (exact below 2^24 rows); N²·M is capped.
 */

import { numElements } from '../../../ir/graph.js';
import { normAxis } from '../../../ir/axis.js';
import type { DType } from '../../../ir/dtype.js';
import { TensorType } from '../../../tflite/schema.js';
import { transpose, tensorVal, type OnnxCtx, type Value } from '../context.js';
import { F32, castTo } from './common.js';

const I32 = 'int32';

/** The pairwise comparison holds N·N·M values; larger inputs are refused. */
const MAX_PAIRWISE = 1 << 22;

export function unique(c: OnnxCtx): Value[] {
  const s = c.shape(0);
  const dt = c.dtype(0);
  if (![F32, I32, 'int64'].includes(dt)) throw c.refuse(`Unique of ${dt}`);
  const hasAxis = c.attr.has('axis');
  const axis = hasAxis ? normAxis(c.attr.i('axis', 0), s.length) : 0;
  const N = hasAxis ? s[axis]! : numElements(s);
  const M = hasAxis ? numElements(s) / Math.max(N, 1) : 1;
  const sorted = c.attr.i('sorted', 1) === 1;
  const outs = c.node.output;
  const decl = [0, 1, 2, 3].map((k) => (outs[k] ? c.declared(k) : undefined));
  const n = decl[0]?.[hasAxis ? axis : 0] ?? decl[1]?.[0] ?? decl[3]?.[0];
  if (n === undefined)
    throw c.refuse(
      'Unique: the number of unique values depends on the data and the model declares no fixed output shape',
      'Declare the shape of Y, indices or counts in the model',
    );
  if (N * N * M > MAX_PAIRWISE)
    throw c.refuse(`Unique over ${N} rows of ${M}`, `Kiln compares all pairs of rows, up to ${MAX_PAIRWISE} values`);
  const name = c.name;
  const op = (type: string, ins: number[], shape: number[], dtype: DType, tag: string, f = {}): number =>
    c.b.op(type, ins, f, { outputs: [{ name: `${name}/${tag}`, shape, dtype }] })[0]!;
  const k = (tag: string, dtype: DType, shape: number[], v: ArrayLike<number>): number =>
    c.b.constant(`${name}/${tag}`, dtype, shape, v);
  const cast = (x: number, to: DType, tag: string): number => castTo(c, x, to, `${name}/${tag}`);
  const sum = (x: number, ax: number, shape: number[], tag: string): number =>
    op('SUM', [x, k(`${tag}_axis`, I32, [1], [ax])], shape, F32, tag, { keepDims: false });
  const argmax = (x: number, ax: number, shape: number[], tag: string): number =>
    op('ARG_MAX', [x, k(`${tag}_axis`, I32, [1], [ax])], shape, I32, tag, { outputType: TensorType.INT32 });
  const mul = (a: number, b: number, shape: number[], tag: string): number =>
    op('MUL', [a, b], shape, F32, tag, { fusedActivationFunction: 0 });
  const tri = (tag: string, f: (i: number, j: number) => boolean): number =>
    k(
      tag,
      F32,
      [N, N],
      Array.from({ length: N * N }, (_v, p) => (f(Math.floor(p / N), p % N) ? 1 : 0)),
    );

  // rows [N, M]: the axis first, the rest flattened
  let x = c.tensor(0, null);
  if (hasAxis && axis !== 0) {
    const perm = [axis, ...s.map((_d, i) => i).filter((i) => i !== axis)];
    x = transpose(c.b, x, perm, `${name}/axis_first`);
  }
  const rows = c.b.reshape(x, [N, M], { name: `${name}/rows` });
  const a = c.b.reshape(rows, [N, 1, M], { name: `${name}/rows_i` });
  const b = c.b.reshape(rows, [1, N, M], { name: `${name}/rows_j` });
  const ne = cast(op('NOT_EQUAL', [a, b], [N, N, M], 'bool', 'differ'), F32, 'differ_f');
  const zero = k('zero', F32, [], [0]);
  const same = cast(op('EQUAL', [sum(ne, 2, [N, N], 'differences'), zero], [N, N], 'bool', 'same'), F32, 'same_f');
  // first occurrences: no earlier equal row
  const earlier = sum(
    mul(
      same,
      tri('before', (i, j) => j < i),
      [N, N],
      'same_before',
    ),
    1,
    [N],
    'earlier',
  );
  const first = cast(op('EQUAL', [earlier, zero], [N], 'bool', 'first'), F32, 'first_f');
  const firstRow = c.b.reshape(first, [1, N], { name: `${name}/first_row` });
  let rank: number;
  if (sorted) {
    // less[i, j]: row i before row j in lexicographic order, at their first differing component
    const lt = cast(op('LESS', [a, b], [N, N, M], 'bool', 'less'), F32, 'less_f');
    const at = argmax(ne, 2, [N, N], 'first_difference');
    const pick = op(
      'ONE_HOT',
      [at, k('m', I32, [], [M]), k('on', F32, [], [1]), k('off', F32, [], [0])],
      [N, N, M],
      F32,
      'at_difference',
      { axis: -1 },
    );
    const less = sum(mul(lt, pick, [N, N, M], 'less_there'), 2, [N, N], 'less_rows');
    // rank[j] = Σ_i first[i]·less[i, j]
    const firstCol = c.b.reshape(first, [N, 1], { name: `${name}/first_col` });
    rank = sum(mul(less, firstCol, [N, N], 'smaller_firsts'), 0, [N], 'rank');
  } else {
    // rank[j] = Σ_i first[i]·(i < j)
    rank = sum(
      mul(
        tri('after', (j, i) => i < j),
        firstRow,
        [N, N],
        'firsts_before',
      ),
      1,
      [N],
      'rank',
    );
  }
  const firstOf = argmax(same, 1, [N], 'first_of');
  const inverse = op('GATHER', [rank, firstOf], [N], F32, 'inverse_f', { axis: 0, batchDims: 0 });
  const range = k(
    'range',
    F32,
    [n, 1],
    Array.from({ length: n }, (_v, i) => i),
  );
  // positions: for each rank k, the first occurrence of that rank
  const ofRank = cast(
    op('EQUAL', [c.b.reshape(rank, [1, N], { name: `${name}/rank_row` }), range], [n, N], 'bool', 'of_rank'),
    F32,
    'of_rank_f',
  );
  const positions = argmax(mul(ofRank, firstRow, [n, N], 'first_of_rank'), 1, [n], 'positions');
  const results: Value[] = [];
  if (outs[0]) {
    const src = hasAxis ? c.tensor(0, null) : c.b.reshape(c.tensor(0, null), [N], { name: `${name}/flat` });
    const ys = hasAxis ? s.map((d, i) => (i === axis ? n : d)) : [n];
    results.push(
      tensorVal(
        c.b.op(
          'GATHER',
          [src, positions],
          { axis, batchDims: 0 },
          { outputs: [{ name: c.out(0), shape: ys, dtype: dt }] },
        )[0]!,
      ),
    );
  } else results.push(tensorVal(positions));
  results.push(tensorVal(castTo(c, positions, 'int64', outs[1] ? c.out(1) : `${name}/indices`)));
  results.push(tensorVal(castTo(c, inverse, 'int64', outs[2] ? c.out(2) : `${name}/inverse`)));
  const invRow = c.b.reshape(inverse, [1, N], { name: `${name}/inverse_row` });
  const hits = cast(op('EQUAL', [invRow, range], [n, N], 'bool', 'hits'), F32, 'hits_f');
  results.push(tensorVal(castTo(c, sum(hits, 1, [n], 'counts_f'), 'int64', outs[3] ? c.out(3) : `${name}/counts`)));
  return results.slice(0, Math.max(1, outs.length));
}
