/** Matrix ONNX ops on static shapes: EyeLike (a constant) and Det of small matrices (Leibniz's formula). */

import type { DType } from '../../../ir/dtype.js';
import { numElements } from '../../../ir/graph.js';
import { tensorVal, type OnnxCtx, type Value } from '../context.js';
import { F32, ONNX_TO, floatOnly } from './common.js';

/** EyeLike: ones on the k-th diagonal of the input's (static) 2-D shape; a float64 dtype is emitted as float32. */
export function eyeLike(c: OnnxCtx): Value[] {
  const s = c.shape(0);
  if (s.length !== 2) throw c.refuse(`an input of rank ${s.length} (EyeLike takes a 2-D tensor)`);
  const code = c.attr.i('dtype');
  let dtype: DType | undefined = code === undefined ? c.dtype(0) : code === 11 ? F32 : ONNX_TO[code];
  if (dtype === 'float64') dtype = F32;
  if (!dtype) throw c.refuse(`dtype ${code}`);
  const k = c.attr.i('k', 0);
  const [rows, cols] = s as [number, number];
  const v = Array.from({ length: rows * cols }, (_v, q) => Number((q % cols) - Math.floor(q / cols) === k));
  return [tensorVal(c.b.constant(`${c.name}/eye`, dtype, s, v))];
}

/** Matrices up to this size: Leibniz's formula has n! terms. */
const MAX_DET = 4;

function permutations(n: number): { p: number[]; sign: number }[] {
  if (n === 1) return [{ p: [0], sign: 1 }];
  const out: { p: number[]; sign: number }[] = [];
  for (const { p, sign } of permutations(n - 1))
    for (let at = 0; at < n; at++) {
      const q = [...p];
      q.splice(at, 0, n - 1);
      // inserting n−1 at position `at` moves it past n−1−at smaller elements
      out.push({ p: q, sign: (n - 1 - at) % 2 === 0 ? sign : -sign });
    }
  return out;
}

/**
 * Det of [..., n, n] with n ≤ 4: Σ_σ sgn(σ)·Π_i a[i, σ(i)], each factor column a GATHER of the flattened matrices;
 * larger matrices are refused (an LU decomposition has no TFLite builtin).
 */
export function det(c: OnnxCtx): Value[] {
  floatOnly(c);
  const s = c.shape(0);
  const n = s[s.length - 1]!;
  if (s.length < 2 || s[s.length - 2] !== n) throw c.refuse(`an input of shape [${s.join(', ')}] (not square)`);
  if (n > MAX_DET)
    throw c.refuse(
      `a ${n}×${n} determinant`,
      `Kiln expands determinants up to ${MAX_DET}×${MAX_DET}; TFLite has no LU decomposition`,
    );
  const batch = s.slice(0, -2);
  const b = numElements(batch);
  const flat = c.b.reshape(c.tensor(0, null), [b, n * n], { name: `${c.name}/flat` });
  const perms = permutations(n);
  const terms = perms.length;
  let prod: number | undefined;
  for (let i = 0; i < n; i++) {
    const idx = perms.map(({ p }) => i * n + p[i]!);
    const col = c.b.op(
      'GATHER',
      [flat, c.b.constant(`${c.name}/row${i}`, 'int32', [terms], idx)],
      { axis: 1, batchDims: 0 },
      { outputs: [{ name: `${c.name}/factor${i}`, shape: [b, terms], dtype: F32 }] },
    )[0]!;
    prod = prod === undefined ? col : c.b.binary('MUL', prod, col, {}, { name: `${c.name}/product${i}` });
  }
  const signed = c.b.binary(
    'MUL',
    prod!,
    c.b.constant(
      `${c.name}/signs`,
      F32,
      [terms],
      perms.map(({ sign }) => sign),
    ),
    {},
    { name: `${c.name}/terms` },
  );
  const total = c.b.op(
    'SUM',
    [signed, c.b.constant(`${c.name}/axis`, 'int32', [1], [1])],
    { keepDims: false },
    { outputs: [{ name: `${c.name}/det`, shape: [b], dtype: F32 }] },
  )[0]!;
  return [tensorVal(c.b.reshape(total, batch, { name: c.out() }))];
}
