/**
 * MaxPool's second output, Indices: for each window the flat index into X of its first maximum,
 * ((n·C + c)·H + h)·W + w (storage_order=1: the spatial part column-major, (n·C + c)·H·W + w·H + h). TFLite's
 * MAX_POOL_2D keeps computing the values; the indices are composed from builtins with tables computed at conversion:
 *
 *   X channels-last [N, S…, C] → RESHAPE [N, P, C] → CONCATENATION with a −∞ row at position P (the padding)
 *   → GATHER along axis 1 of the window taps (a constant [Q·K] table, Q outputs of K taps, padding taps → P)
 *   → RESHAPE [N, Q, K, C] → ARG_MAX over the taps (the first maximum, as ONNX's row-major scan finds it)
 *   → GATHER of the tap's offset in the window (a constant [K] table) + the window's origin (a constant [1, Q, 1])
 *   + (n·C + c)·P (a constant [N, 1, C]) → CAST to int64 → RESHAPE [N, O…, C].
 *
 * The flat index is linear in the tap: origin(q) + offset(k), so one [K] lookup table serves every window. Any number
 * of spatial dimensions, strides, dilations, explicit or automatic pads and ceil_mode go through the same tables.
 */

import { numElements } from '../../../ir/graph.js';
import { tensorVal, type OnnxCtx, type Value } from '../context.js';
import { windowOf } from '../geometry.js';
import { channelsLast } from '../layout.js';
import { F32, TT, typedOp, type OnnxOpConverter } from './common.js';

const I32 = 'int32';

/** Does the node ask for the Indices output? */
export const wantsIndices = (c: OnnxCtx): boolean => c.node.output.length > 1 && !!c.node.output[1];

/**
 * `values` (MaxPool's converter of the pooled values) for a node with an Indices output too: the values converted as
 * if the node had one output, the indices composed here.
 */
export function withMaxPoolIndices(values: OnnxOpConverter): OnnxOpConverter {
  return (c) => {
    if (!wantsIndices(c)) return values(c);
    const single: OnnxCtx = { ...c, node: { ...c.node, output: [c.node.output[0]!] } };
    return [values(single)[0]!, maxPoolIndices(c)];
  };
}

/** Row-major strides of `dims` (storage_order=1: column-major). */
function spatialStrides(dims: number[], columnMajor: boolean): number[] {
  const st = new Array<number>(dims.length).fill(1);
  if (columnMajor) for (let d = 1; d < dims.length; d++) st[d] = st[d - 1]! * dims[d - 1]!;
  else for (let d = dims.length - 2; d >= 0; d--) st[d] = st[d + 1]! * dims[d + 1]!;
  return st;
}

/** The multi-index of flat position `i` in row-major `dims`. */
function unflat(i: number, dims: number[]): number[] {
  const out = new Array<number>(dims.length);
  let r = i;
  for (let d = dims.length - 1; d >= 0; d--) {
    out[d] = r % dims[d]!;
    r = Math.floor(r / dims[d]!);
  }
  return out;
}

export function maxPoolIndices(c: OnnxCtx): Value {
  if (c.dtype(0) !== F32) throw c.refuse(`the Indices output of ${c.dtype(0)} pooling`);
  const shape = c.shape(0);
  const r = shape.length;
  if (r < 3) throw c.refuse(`the Indices output of a rank-${r} input`, 'MaxPool takes [N, C, spatial…]');
  const [N, C] = shape as [number, number];
  const S = shape.slice(2);
  const kernel = c.attr.ints('kernel_shape');
  if (!kernel || kernel.length !== S.length) throw c.refuse('kernel_shape missing or of the wrong length');
  const win = windowOf(c, S, kernel, c.attr.i('ceil_mode', 0) === 1);
  const O = S.map((s, d) => {
    const k = (kernel[d]! - 1) * win.dilations[d]! + 1;
    return Math.floor((s + win.pads[d]![0] + win.pads[d]![1] - k) / win.strides[d]!) + 1;
  });
  const P = numElements(S);
  const Q = numElements(O);
  const K = numElements(kernel);
  const st = spatialStrides(S, c.attr.i('storage_order', 0) === 1);
  const rowMajor = spatialStrides(S, false);
  // window taps: the row-major position in X of each (output, tap), P for a tap on the padding
  const taps = new Int32Array(Q * K);
  const origin = new Int32Array(Q);
  const offset = new Int32Array(K);
  const tapIdx = Array.from({ length: K }, (_v, k) => unflat(k, kernel));
  tapIdx.forEach((t, k) => (offset[k] = t.reduce((a, i, d) => a + i * win.dilations[d]! * st[d]!, 0)));
  for (let q = 0; q < Q; q++) {
    const o = unflat(q, O);
    const start = o.map((x, d) => x * win.strides[d]! - win.pads[d]![0]);
    origin[q] = start.reduce((a, x, d) => a + x * st[d]!, 0);
    for (let k = 0; k < K; k++) {
      const h = start.map((x, d) => x + tapIdx[k]![d]! * win.dilations[d]!);
      const inside = h.every((x, d) => x >= 0 && x < S[d]!);
      taps[q * K + k] = inside ? h.reduce((a, x, d) => a + x * rowMajor[d]!, 0) : P;
    }
  }
  const name = `${c.name}/indices`;
  const k32 = (what: string, dims: number[], v: ArrayLike<number>): number =>
    c.b.constant(`${name}/${what}`, I32, dims, v);
  const cl = channelsLast(r);
  const x = c.b.reshape(c.tensor(0, cl), [N, P, C], { name: `${name}/flat` });
  const lowest = c.b.constant(`${name}/padding`, F32, [N, 1, C], new Float32Array(N * C).fill(-Infinity));
  const padded = typedOp(c, 'CONCATENATION', [x, lowest], [N, P + 1, C], F32, `${name}/padded`, {
    axis: 1,
    fusedActivationFunction: 0,
  });
  const gathered = typedOp(c, 'GATHER', [padded, k32('taps', [Q * K], taps)], [N, Q * K, C], F32, `${name}/taps`, {
    axis: 1,
    batchDims: 0,
  });
  const windows = c.b.reshape(gathered, [N, Q, K, C], { name: `${name}/windows` });
  const arg = typedOp(c, 'ARG_MAX', [windows, k32('axis', [1], [2])], [N, Q, C], I32, `${name}/tap`, {
    outputType: TT.int32,
  });
  const off = typedOp(c, 'GATHER', [k32('offsets', [K], offset), arg], [N, Q, C], I32, `${name}/offset`, {
    axis: 0,
    batchDims: 0,
  });
  const add = (a: number, b: number, tag: string): number =>
    typedOp(c, 'ADD', [a, b], [N, Q, C], I32, `${name}/${tag}`, { fusedActivationFunction: 0 });
  const planes = Int32Array.from({ length: N * C }, (_v, i) => i * P);
  const flat = add(add(off, k32('origins', [1, Q, 1], origin), 'spatial'), k32('planes', [N, 1, C], planes), 'flat');
  const wide = typedOp(c, 'CAST', [flat], [N, Q, C], 'int64', `${name}/int64`, {
    inDataType: TT.int32,
    outDataType: TT.int64,
  });
  return tensorVal(c.b.reshape(wide, [N, ...O, C], { name: c.out(1) }), cl);
}
