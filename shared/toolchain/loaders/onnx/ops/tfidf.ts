/**
 * TfIdfVectorizer on integer tokens, from builtins. The token positions are static, so every n-gram a pool entry
 * can match is a fixed set of positions: for each gram length n and skip s (n > 1 only; the gap between tokens is
 * s + 1), GATHER picks the k-th token of every window, EQUAL compares it with the k-th token of each pool n-gram,
 * LOGICAL_AND joins the n comparisons, and SUM counts the matches over the windows (and the skips). The counts go to
 * their output columns (ngram_indexes) with one GATHER; IDF and TFIDF weight them (ONNX's operator spec; the same
 * counting as onnxruntime: a unigram is counted once, whatever max_skip_count says).
 */

import { tensorVal, type OnnxCtx, type Value } from '../context.js';
import { F32, castTo, typedOp } from './common.js';

export function tfIdfVectorizer(c: OnnxCtx): Value[] {
  const dtype = c.dtype(0);
  if (dtype !== 'int32' && dtype !== 'int64')
    throw c.refuse(`tokens of type ${dtype}; Kiln converts integer tokens (strings have no TFLite type)`);
  if (c.attr.has('pool_strings')) throw c.refuse('a pool of strings (TFLite has no string ops)');
  const mode = c.attr.s('mode', '');
  if (mode !== 'TF' && mode !== 'IDF' && mode !== 'TFIDF') throw c.refuse(`mode "${mode}" (TF, IDF or TFIDF)`);
  const minN = c.attr.i('min_gram_length', 1);
  const maxN = c.attr.i('max_gram_length', 1);
  const maxSkip = c.attr.i('max_skip_count', 0);
  const counts = c.attr.ints('ngram_counts') ?? [];
  const indexes = c.attr.ints('ngram_indexes') ?? [];
  const pool = c.attr.ints('pool_int64s') ?? [];
  const weights = c.attr.floats('weights');
  if (minN < 1 || maxN < minN) throw c.refuse(`gram lengths ${minN} to ${maxN}`);
  const inShape = c.shape(0);
  if (inShape.length !== 1 && inShape.length !== 2) throw c.refuse(`input of rank ${inShape.length} (1 or 2)`);
  const [rows, len] = inShape.length === 1 ? [1, inShape[0]!] : [inShape[0]!, inShape[1]!];

  // the pool's n-grams, in pool order: ngram_counts[n−1] is where the n-grams start
  const grams: { n: number; tokens: number[][] }[] = [];
  let total = 0;
  for (let n = 1; n <= counts.length; n++) {
    const start = counts[n - 1]!;
    const end = n < counts.length ? counts[n]! : pool.length;
    if ((end - start) % n !== 0) throw c.refuse(`ngram_counts leave ${end - start} pool values for ${n}-grams`);
    const tokens = Array.from({ length: (end - start) / n }, (_v, j) => pool.slice(start + j * n, start + (j + 1) * n));
    grams.push({ n, tokens });
    total += tokens.length;
  }
  if (indexes.length !== total) throw c.refuse(`ngram_indexes has ${indexes.length} entries for ${total} pool n-grams`);
  const width = indexes.length ? Math.max(...indexes) + 1 : 0;
  if (width === 0) throw c.refuse('an empty pool');
  if (weights && weights.length !== total) throw c.refuse(`${weights.length} weights for ${total} pool n-grams`);

  const b = c.b;
  const x = b.reshape(c.tensor(0, null), [rows, len], { name: `${c.name}/tokens` });
  const zeros = (n: number): number => b.constant(`${c.name}/zero${n}`, F32, [rows, n], new Float32Array(rows * n));
  // per pool n-gram, its count: [rows, P_n] per gram length, zeros where the length is outside [min, max]
  const blocks = grams.map(({ n, tokens }) => {
    const p = tokens.length;
    if (p === 0) return undefined;
    if (n < minN || n > maxN) return zeros(p);
    let sum: number | undefined;
    for (let s = 0; s <= (n === 1 ? 0 : maxSkip); s++) {
      const gap = s + 1;
      const windows = len - (n - 1) * gap;
      if (windows <= 0) break;
      const tag = `${c.name}/n${n}s${s}`;
      let match: number | undefined;
      for (let k = 0; k < n; k++) {
        const at = b.constant(
          `${tag}/pos${k}`,
          'int32',
          [windows],
          Array.from({ length: windows }, (_v, i) => i + k * gap),
        );
        const tok = typedOp(c, 'GATHER', [x, at], [rows, windows], dtype, `${tag}/token${k}`, { axis: 1 });
        const want = b.constant(
          `${tag}/pool${k}`,
          dtype,
          [1, 1, p],
          tokens.map((g) => g[k]!),
        );
        const col = b.reshape(tok, [rows, windows, 1], { name: `${tag}/token${k}_col` });
        const eq = typedOp(c, 'EQUAL', [col, want], [rows, windows, p], 'bool', `${tag}/eq${k}`);
        match =
          match === undefined
            ? eq
            : typedOp(c, 'LOGICAL_AND', [match, eq], [rows, windows, p], 'bool', `${tag}/and${k}`);
      }
      const hits = castTo(c, match!, F32, `${tag}/hits`);
      const cnt = typedOp(
        c,
        'SUM',
        [hits, b.constant(`${tag}/axis`, 'int32', [1], [1])],
        [rows, p],
        F32,
        `${tag}/count`,
        { keepDims: false },
      );
      sum = sum === undefined ? cnt : typedOp(c, 'ADD', [sum, cnt], [rows, p], F32, `${tag}/total`);
    }
    return sum ?? zeros(p);
  });
  const parts = [...blocks.filter((v): v is number => v !== undefined), zeros(1)];
  const all = typedOp(c, 'CONCATENATION', parts, [rows, total + 1], F32, `${c.name}/counts`, { axis: 1 });
  // output column o holds pool n-gram j where ngram_indexes[j] = o; a column no n-gram maps to reads the zero
  const source = Array.from({ length: width }, (_v, o) => {
    const j = indexes.indexOf(o);
    return j < 0 ? total : j;
  });
  const perCol = typedOp(
    c,
    'GATHER',
    [all, b.constant(`${c.name}/columns`, 'int32', [width], source)],
    [rows, width],
    F32,
    `${c.name}/tf`,
    { axis: 1 },
  );
  let y = perCol;
  if (mode !== 'TF') {
    const w = Float32Array.from(source, (j) => (j < total ? (weights?.[j] ?? 1) : 0));
    const base =
      mode === 'IDF'
        ? typedOp(
            c,
            'MINIMUM',
            [perCol, b.constant(`${c.name}/one`, F32, [], [1])],
            [rows, width],
            F32,
            `${c.name}/seen`,
          )
        : perCol;
    y = typedOp(
      c,
      'MUL',
      [base, b.constant(`${c.name}/weights`, F32, [width], w)],
      [rows, width],
      F32,
      `${c.name}/weighted`,
    );
  }
  const outShape = inShape.length === 1 ? [width] : [rows, width];
  return [tensorVal(b.reshape(y, outShape, { name: c.out() }))];
}
