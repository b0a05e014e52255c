/**
 * ONNX's DFT and STFT as TFLite builtins: the transformed axis moved last and flattened with the real/imaginary parts,
 * one FULLY_CONNECTED by the DFT matrix (cos/sin table computed in float64 at conversion, spectral-tables.ts), the
 * result unflattened to [..., bins, 2] and moved back. STFT gathers its frames first (indices f·step + t, computed at
 * run time when the step is). A DFT size given at run time is resolved against the declared output: each size the
 * output's bin count allows gets its own matrix, and SELECT_V2 on the run-time size picks the product.
 */

import { numElements } from '../../../ir/graph.js';
import { tensorVal, transpose, type OnnxCtx, type Value } from '../context.js';
import { F32, castTo, floatOnly, typedOp } from './common.js';
import { dftWeights } from './spectral-tables.js';

/** Largest DFT matrix Kiln writes (float32 elements: 64 MB). */
const MAX_WEIGHTS = 2 ** 24;

const binsOf = (size: number, onesided: boolean): number => (onesided ? Math.floor(size / 2) + 1 : size);

/** DFT sizes whose bin count is `bins`: n, or the two n with ⌊n/2⌋ + 1 = bins when onesided. */
const sizesFor = (bins: number, onesided: boolean): number[] =>
  (onesided ? [2 * (bins - 1), 2 * bins - 1] : [bins]).filter((n) => n >= 1);

interface Transform {
  /** Samples per row of the input (the DFT pads or cuts them to its size). */
  frame: number;
  parts: 1 | 2;
  /** Candidate DFT sizes: one when known at conversion; several when input `sizeInput` picks one at run time. */
  sizes: number[];
  sizeInput?: number;
  bins: number;
  inverse: boolean;
  window?: ArrayLike<number>;
}

/** [rows, frame·parts] → [rows, 2·bins]: the DFT matrix product (one per candidate size, picked at run time). */
function transformRows(c: OnnxCtx, x: number, rows: number, t: Transform): number {
  const cols = t.frame * t.parts;
  if (2 * t.bins * cols * t.sizes.length > MAX_WEIGHTS)
    throw c.refuse(
      `a DFT of ${t.sizes.join(' or ')} points over ${t.frame} samples (its matrix exceeds ${MAX_WEIGHTS} values)`,
      'Kiln computes DFTs as a matrix product; split the signal into shorter frames (STFT)',
    );
  const outShape = [rows, 2 * t.bins];
  const products = t.sizes.map((size) => {
    const w = dftWeights({ frame: t.frame, size, bins: t.bins, parts: t.parts, inverse: t.inverse, window: t.window });
    const wid = c.b.constant(`${c.name}/dft${size}`, F32, [2 * t.bins, cols], w);
    return c.b.fullyConnected(x, wid, null, {}, { name: `${c.name}/spectrum${size}`, shape: outShape, dtype: F32 });
  });
  if (products.length === 1) return products[0]!;
  const size = castTo(c, c.tensor(t.sizeInput!, null), 'int32', `${c.name}/size32`);
  let y = products[products.length - 1]!;
  for (let k = products.length - 2; k >= 0; k--) {
    const n = t.sizes[k]!;
    const is = typedOp(
      c,
      'EQUAL',
      [size, c.b.constant(`${c.name}/size_is_${n}`, 'int32', [], [n])],
      c.b.g.tensor(size).shape,
      'bool',
      `${c.name}/is_${n}_points`,
    );
    y = typedOp(c, 'SELECT_V2', [is, products[k]!, y], outShape, F32, `${c.name}/spectrum_picked_${n}`);
  }
  return y;
}

function partsOf(c: OnnxCtx, s: number[], what: string): 1 | 2 {
  const p = s[s.length - 1];
  if (s.length < 2 || (p !== 1 && p !== 2))
    throw c.refuse(
      `${what} of shape [${s.join(', ')}] (its last dimension must hold the real part, 1, or the real and imaginary parts, 2)`,
    );
  return p;
}

/** DFT (opset 17: axis attribute; opset 20: axis input 2, default −2), dft_length input 1 optional. */
export function dft(c: OnnxCtx): Value[] {
  floatOnly(c);
  const s = c.shape(0);
  const r = s.length;
  const parts = partsOf(c, s, 'an input');
  const rawAxis = c.opset >= 20 ? (c.has(2) ? c.ints(2)[0]! : -2) : c.attr.i('axis', 1);
  const axis = rawAxis < 0 ? rawAxis + r : rawAxis;
  if (axis < 0 || axis > r - 2)
    throw c.refuse(`axis ${rawAxis} for an input of rank ${r} (the last axis holds the parts)`);
  const inverse = c.attr.i('inverse', 0) !== 0;
  const onesided = c.attr.i('onesided', 0) !== 0;
  const frame = s[axis]!;
  let sizes = [frame];
  let sizeInput: number | undefined;
  if (c.has(1) && c.isConst(1)) sizes = [c.ints(1)[0]!];
  else if (c.has(1)) {
    const d = c.declared();
    if (!d || d.length !== r)
      throw c.refuse(
        'input 1 (dft_length) is computed at run time and the model declares no output shape to derive it from',
        'Make dft_length a constant or declare the output shape',
      );
    sizes = sizesFor(d[axis]!, onesided);
    sizeInput = 1;
  }
  if (sizes.some((n) => n < 1)) throw c.refuse(`dft_length ${sizes.join(', ')}`);
  const bins = binsOf(sizes[0]!, onesided);
  // [others..., axis, parts]: the transformed samples and their parts contiguous
  const others = s.map((_d, i) => i).filter((i) => i !== axis && i !== r - 1);
  const toLast = [...others, axis, r - 1];
  const moved = axis === r - 2 ? c.tensor(0, null) : transpose(c.b, c.tensor(0, null), toLast, `${c.name}/axis_last`);
  const rows = numElements(others.map((i) => s[i]!));
  const flat = c.b.reshape(moved, [rows, frame * parts], { name: `${c.name}/rows` });
  const y = transformRows(c, flat, rows, { frame, parts, sizes, sizeInput, bins, inverse });
  const outMoved = [...others.map((i) => s[i]!), bins, 2];
  if (axis === r - 2) return [tensorVal(c.b.reshape(y, outMoved, { name: c.out() }))];
  const unflat = c.b.reshape(y, outMoved, { name: `${c.name}/bins_last` });
  const back = toLast.map((_v, i) => toLast.indexOf(i));
  return [tensorVal(transpose(c.b, unflat, back, c.out()))];
}

/**
 * STFT (opset 17) of a signal [batch, length, parts]: frames f·frame_step + t of frame_length samples, each times the
 * window, DFT'd; output [batch, frames, bins, 2]. The frame count comes from constant inputs or the declared output.
 */
export function stft(c: OnnxCtx): Value[] {
  floatOnly(c);
  const s = c.shape(0);
  if (s.length !== 3) throw c.refuse(`a signal of rank ${s.length} (STFT takes [batch, length, 1 or 2])`);
  const parts = partsOf(c, s, 'a signal');
  const [batch, length] = s as [number, number, number];
  const onesided = c.attr.i('onesided', 1) !== 0;
  const declared = c.declared();
  const fromDeclared = declared?.length === 4 ? declared : undefined;
  let sizes: number[];
  let sizeInput: number | undefined;
  if (c.has(2)) {
    const ws = c.shape(2);
    if (ws.length !== 1) throw c.refuse(`a window of shape [${ws.join(', ')}] (STFT takes a 1-D window)`);
    sizes = [ws[0]!];
    if (c.has(3) && c.isConst(3) && c.ints(3)[0] !== ws[0])
      throw c.refuse(`frame_length ${c.ints(3)[0]} with a window of ${ws[0]} samples (they must agree)`);
  } else if (!c.has(3)) sizes = [length];
  else if (c.isConst(3)) sizes = [c.ints(3)[0]!];
  else {
    if (!fromDeclared)
      throw c.refuse(
        'input 3 (frame_length) is computed at run time and the model declares no output shape [batch, frames, bins, 2] to derive it from',
        'Make frame_length a constant, pass a window, or declare the output shape',
      );
    sizes = sizesFor(fromDeclared[2]!, onesided).filter((n) => n <= length);
    sizeInput = 3;
  }
  if (!sizes.length || sizes.some((n) => n < 1 || n > length))
    throw c.refuse(`frame_length ${sizes.join(' or ')} for a signal of ${length} samples`);
  const frame = Math.max(...sizes);
  const stepConst = c.isConst(1) ? c.ints(1)[0]! : undefined;
  if (stepConst !== undefined && stepConst < 1) throw c.refuse(`frame_step ${stepConst}`);
  let frames: number;
  if (stepConst !== undefined && sizes.length === 1) frames = Math.floor((length - sizes[0]!) / stepConst) + 1;
  else if (fromDeclared) frames = fromDeclared[1]!;
  else
    throw c.refuse(
      'input 1 (frame_step) is computed at run time and the model declares no output shape [batch, frames, bins, 2] to derive the frame count from',
      'Make frame_step a constant or declare the output shape',
    );
  const bins = binsOf(sizes[0]!, onesided);
  // sample indices of every frame, clamped to the signal (samples past a shorter run-time frame get zero weights)
  const last = length - 1;
  let idx: number;
  if (stepConst !== undefined) {
    const v = Array.from({ length: frames * frame }, (_v, q) =>
      Math.min(Math.floor(q / frame) * stepConst + (q % frame), last),
    );
    idx = c.b.constant(`${c.name}/sample_index`, 'int32', [frames, frame], v);
  } else {
    const step = castTo(c, c.tensor(1, null), 'int32', `${c.name}/step32`);
    const starts = typedOp(
      c,
      'MUL',
      [
        c.b.constant(
          `${c.name}/frame_index`,
          'int32',
          [frames, 1],
          Array.from({ length: frames }, (_v, f) => f),
        ),
        step,
      ],
      [frames, 1],
      'int32',
      `${c.name}/frame_start`,
      { fusedActivationFunction: 0 },
    );
    const at = typedOp(
      c,
      'ADD',
      [
        starts,
        c.b.constant(
          `${c.name}/offset`,
          'int32',
          [1, frame],
          Array.from({ length: frame }, (_v, t) => t),
        ),
      ],
      [frames, frame],
      'int32',
      `${c.name}/sample_at`,
      { fusedActivationFunction: 0 },
    );
    idx = typedOp(
      c,
      'MINIMUM',
      [at, c.b.constant(`${c.name}/last_sample`, 'int32', [], [last])],
      [frames, frame],
      'int32',
      `${c.name}/sample_index`,
    );
  }
  let framed = typedOp(c, 'GATHER', [c.tensor(0, null), idx], [batch, frames, frame, parts], F32, `${c.name}/frames`, {
    axis: 1,
    batchDims: 0,
  });
  let window: ArrayLike<number> | undefined;
  if (c.has(2) && c.isConst(2)) window = c.const(2).v;
  else if (c.has(2)) {
    const w = c.b.reshape(c.tensor(2, null), [1, 1, frame, 1], { name: `${c.name}/window` });
    framed = c.b.binary('MUL', framed, w, {}, { name: `${c.name}/windowed` });
  }
  const rows = batch * frames;
  const flat = c.b.reshape(framed, [rows, frame * parts], { name: `${c.name}/rows` });
  const y = transformRows(c, flat, rows, { frame, parts, sizes, sizeInput, bins, inverse: false, window });
  return [tensorVal(c.b.reshape(y, [batch, frames, bins, 2], { name: c.out() }))];
}
