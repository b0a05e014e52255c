/**
 * ONNX gathers and scatters by index tensors: GatherND, GatherElements, ScatterND, ScatterElements (and opset-9
 * Scatter), all in the ONNX layout.
 *
 * - GatherND → GATHER_ND; batch_dims become leading coordinates (a constant grid CONCATENATED before the indices).
 * - GatherElements → GATHER on the flattened data, by flat offsets: index·stride[axis] + the constant offset of each
 *   position's other coordinates.
 * - Scatters → SCATTER_ND, which writes into zeros and sums duplicate indices. Composed with the data: reduction none
 *   selects (SELECT_V2) the scattered values where a scattered count of ones is positive; add adds; mul, max and min
 *   apply the updates one index row at a time (each row's scatter and mask, then MUL/MAXIMUM/MINIMUM where the mask
 *   is set), which is exact with duplicates too.
 *
 * Negative indices count from the end: constants are wrapped at conversion, indices computed at run time by FLOOR_MOD
 * with the axis sizes (TFLite's kernels take 0 … d−1 only).
 */

import { numElements, stridesOf } from '../../../ir/graph.js';
import { normAxis } from '../../../ir/axis.js';
import { tensorVal, type OnnxCtx, type Value } from '../context.js';
import { castTo, one, typedOp as op } from './common.js';
import { binaryWithConst } from './flat-binary.js';

const I32 = 'int32';

/** Scatter updates are unrolled one index row at a time for these reductions, up to this many rows. */
const MAX_UNROLLED_ROWS = 64;

/** Coordinates of every position of `shape` (row-major), as `f(coords)`. */
function perPosition(shape: number[], f: (coords: number[]) => number): number[] {
  const n = numElements(shape);
  const out = new Array<number>(n);
  const co = new Array<number>(shape.length).fill(0);
  for (let p = 0; p < n; p++) {
    out[p] = f(co);
    for (let d = shape.length - 1; d >= 0; d--) {
      if (++co[d]! < shape[d]!) break;
      co[d] = 0;
    }
  }
  return out;
}

/**
 * Input i (integer indices) as int32, negatives counted from the end: `dims` are the sizes the last axis of the
 * indices addresses (one size: every element addresses the same axis).
 */
export function wrappedIndices(c: OnnxCtx, i: number, dims: number[], tag = `indices${i}`): number {
  const shape = c.shape(i);
  const at = (k: number): number => dims[dims.length === 1 ? 0 : k % dims.length]!;
  if (c.isConst(i)) {
    const v = c.const(i).v;
    return c.b.constant(
      `${c.name}/${tag}`,
      I32,
      shape,
      Int32Array.from(v, (x, k) => (x < 0 ? x + at(k) : x)),
    );
  }
  const dt = c.dtype(i);
  if (dt !== I32 && dt !== 'int64') throw c.refuse(`${dt} indices (input ${i})`, 'Indices are int32 or int64');
  const x = castTo(c, c.tensor(i, null), I32, `${c.name}/${tag}32`);
  const d = c.b.constant(`${c.name}/${tag}_dims`, I32, dims.length === 1 ? [] : [dims.length], dims);
  return binaryWithConst(c, 'FLOOR_MOD', x, d, I32, `${c.name}/${tag}`);
}

export function gatherNd(c: OnnxCtx): Value[] {
  const B = c.attr.i('batch_dims', 0);
  const ds = c.shape(0);
  const is = c.shape(1);
  const q = is[is.length - 1]!;
  if (B + q > ds.length) throw c.refuse(`indices of depth ${q} with batch_dims ${B} into rank-${ds.length} data`);
  let idx = wrappedIndices(c, 1, ds.slice(B, B + q));
  const lead = is.slice(0, -1);
  if (B > 0) {
    const coords: number[] = [];
    perPosition(lead, (co) => {
      coords.push(...co.slice(0, B));
      return 0;
    });
    const g = c.b.constant(`${c.name}/batch_coords`, I32, [...lead, B], coords);
    idx = c.b.concat([g, idx], lead.length, { name: `${c.name}/coords`, shape: [...lead, B + q], dtype: I32 });
  }
  const out = [...lead, ...ds.slice(B + q)];
  return [tensorVal(one(c, 'GATHER_ND', [c.tensor(0, null), idx], {}, out, c.dtype(0)))];
}

/**
 * Flat offsets into data of shape `ds` for element-wise indices (input 1, shape `is`) along `axis`: the wrapped
 * index times the axis stride, plus the other coordinates' constant offset.
 */
function flatOffsets(c: OnnxCtx, ds: number[], axis: number): number {
  const is = c.shape(1);
  const st = stridesOf(ds);
  const rest = perPosition(is, (co) => co.reduce((s, x, d) => (d === axis ? s : s + x * st[d]!), 0));
  if (c.isConst(1)) {
    const v = c.const(1).v;
    const d = ds[axis]!;
    return c.b.constant(
      `${c.name}/offsets`,
      I32,
      is,
      Int32Array.from(rest, (r, k) => r + (v[k]! < 0 ? v[k]! + d : v[k]!) * st[axis]!),
    );
  }
  let idx = wrappedIndices(c, 1, [ds[axis]!]);
  if (st[axis] !== 1)
    idx = binaryWithConst(
      c,
      'MUL',
      idx,
      c.b.constant(`${c.name}/stride`, I32, [], [st[axis]!]),
      I32,
      `${c.name}/scaled`,
      {
        fusedActivationFunction: 0,
      },
    );
  return op(c, 'ADD', [idx, c.b.constant(`${c.name}/others`, I32, is, rest)], is, I32, `${c.name}/offsets`, {
    fusedActivationFunction: 0,
  });
}

export function gatherElements(c: OnnxCtx): Value[] {
  const ds = c.shape(0);
  const axis = normAxis(c.attr.i('axis', 0), ds.length);
  if (c.rank(1) !== ds.length) throw c.refuse(`rank-${c.rank(1)} indices for rank-${ds.length} data`);
  const flat = c.b.reshape(c.tensor(0, null), [numElements(ds)], { name: `${c.name}/flat` });
  const off = flatOffsets(c, ds, axis);
  return [tensorVal(one(c, 'GATHER', [flat, off], { axis: 0, batchDims: 0 }, c.shape(1), c.dtype(0)))];
}

type Reduction = 'none' | 'add' | 'mul' | 'max' | 'min';
const REDUCTIONS: Record<string, Reduction> = { none: 'none', add: 'add', mul: 'mul', max: 'max', min: 'min' };
const COMBINE: Record<Exclude<Reduction, 'none' | 'add'>, string> = { mul: 'MUL', max: 'MAXIMUM', min: 'MINIMUM' };

function reductionOf(c: OnnxCtx): Reduction {
  const s = c.attr.s('reduction', 'none');
  const r = REDUCTIONS[s];
  if (!r) throw c.refuse(`reduction ${s}`);
  return r;
}

/** Whether constant indices (rows of `q` coordinates) name some position twice. */
function hasDuplicates(c: OnnxCtx, idx: number): boolean {
  const t = c.b.g.tensor(idx);
  if (!t.data) return true;
  const v = new Int32Array(t.data.buffer, t.data.byteOffset, t.data.byteLength / 4);
  const q = t.shape[t.shape.length - 1] ?? 1;
  const seen = new Set<string>();
  for (let k = 0; k < v.length; k += q) {
    const key = Array.from(v.subarray(k, k + q)).join();
    if (seen.has(key)) return true;
    seen.add(key);
  }
  return false;
}

/**
 * data (shape `ds`, IR tensor) with `upd` scattered to the positions `idx` ([..., q] int32) names, combined by
 * `reduction`. Returns the result tensor named `name`.
 */
function scatterInto(c: OnnxCtx, data: number, idx: number, upd: number, reduction: Reduction, name: string): number {
  const ds = c.b.g.tensor(data).shape;
  const dtype = c.b.g.tensor(data).dtype;
  if (!['float32', I32, 'int64'].includes(dtype)) throw c.refuse(`scattering into ${dtype} data`);
  const is = c.b.g.tensor(idx).shape;
  const us = c.b.g.tensor(upd).shape;
  const q = is[is.length - 1]!;
  const shape = c.b.constant(`${name}/shape`, I32, [ds.length], ds);
  const scatter = (i: number, u: number, tag: string): number =>
    op(c, 'SCATTER_ND', [i, u, shape], ds, dtype, `${name}/${tag}`);
  const mask = (i: number, rows: number[], tag: string): number => {
    const ones = c.b.constant(`${name}/${tag}_ones`, I32, rows, new Int32Array(numElements(rows)).fill(1));
    const count = op(c, 'SCATTER_ND', [i, ones, shape], ds, I32, `${name}/${tag}_count`);
    return binaryWithConst(
      c,
      'GREATER',
      count,
      c.b.constant(`${name}/${tag}_zero`, I32, [], [0]),
      'bool',
      `${name}/${tag}`,
    );
  };
  if (reduction === 'add')
    return op(c, 'ADD', [data, scatter(idx, upd, 'scattered')], ds, dtype, name, { fusedActivationFunction: 0 });
  const unroll = reduction !== 'none' || (c.b.g.isConstant(idx) && hasDuplicates(c, idx));
  if (!unroll)
    return op(c, 'SELECT_V2', [mask(idx, us, 'mask'), scatter(idx, upd, 'scattered'), data], ds, dtype, name);
  const rows = numElements(is.slice(0, -1));
  if (rows > MAX_UNROLLED_ROWS)
    throw c.refuse(
      `reduction ${reduction} over ${rows} index rows${reduction === 'none' ? ' with duplicate indices' : ''}`,
      `TFLite's SCATTER_ND sums duplicates; Kiln applies such updates row by row, up to ${MAX_UNROLLED_ROWS} rows`,
    );
  const slab = us.slice(is.length - 1);
  const idxRows = c.b.reshape(idx, [rows, q], { name: `${name}/index_rows` });
  const updRows = c.b.reshape(upd, [rows, ...slab], { name: `${name}/update_rows` });
  const zeros = (n: number): number[] => new Array<number>(n).fill(0);
  let y = data;
  for (let k = 0; k < rows; k++) {
    const tag = `row${k}`;
    const ik = op(
      c,
      'SLICE',
      [
        idxRows,
        c.b.constant(`${name}/${tag}/ibegin`, I32, [2], [k, 0]),
        c.b.constant(`${name}/${tag}/isize`, I32, [2], [1, q]),
      ],
      [1, q],
      I32,
      `${name}/${tag}/index`,
    );
    const uk = op(
      c,
      'SLICE',
      [
        updRows,
        c.b.constant(`${name}/${tag}/ubegin`, I32, [slab.length + 1], [k, ...zeros(slab.length)]),
        c.b.constant(`${name}/${tag}/usize`, I32, [slab.length + 1], [1, ...slab]),
      ],
      [1, ...slab],
      dtype,
      `${name}/${tag}/update`,
    );
    const sk = scatter(ik, uk, `${tag}/scattered`);
    const combined =
      reduction === 'none' ? sk : op(c, COMBINE[reduction], [y, sk], ds, dtype, `${name}/${tag}/combined`);
    y = op(
      c,
      'SELECT_V2',
      [mask(ik, [1, ...slab], `${tag}/mask`), combined, y],
      ds,
      dtype,
      k === rows - 1 ? name : `${name}/${tag}`,
    );
  }
  return y;
}

export function scatterNd(c: OnnxCtx): Value[] {
  const ds = c.shape(0);
  const is = c.shape(1);
  const q = is[is.length - 1]!;
  if (q > ds.length) throw c.refuse(`indices of depth ${q} into rank-${ds.length} data`);
  const idx = wrappedIndices(c, 1, ds.slice(0, q));
  const upd = c.tensor(2, null);
  return [tensorVal(scatterInto(c, c.tensor(0, null), idx, upd, reductionOf(c), c.out()))];
}

/** ScatterElements (and Scatter, opset 9–10): SCATTER_ND over the flattened data at flat offsets. */
export function scatterElements(c: OnnxCtx): Value[] {
  const ds = c.shape(0);
  const axis = normAxis(c.attr.i('axis', 0), ds.length);
  if (c.rank(1) !== ds.length) throw c.refuse(`rank-${c.rank(1)} indices for rank-${ds.length} data`);
  const m = numElements(c.shape(1));
  const n = numElements(ds);
  const flat = c.b.reshape(c.tensor(0, null), [n], { name: `${c.name}/flat` });
  const off = c.b.reshape(flatOffsets(c, ds, axis), [m, 1], { name: `${c.name}/flat_index` });
  const upd = c.b.reshape(c.tensor(2, null), [m], { name: `${c.name}/flat_updates` });
  const y = scatterInto(c, flat, off, upd, reductionOf(c), `${c.name}/flat_result`);
  return [tensorVal(c.b.reshape(y, ds, { name: c.out() }))];
}
