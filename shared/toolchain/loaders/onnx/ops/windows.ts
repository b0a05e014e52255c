/**
 * ONNX's window functions (HannWindow, HammingWindow, BlackmanWindow) as constants: the output holds `size` samples,
 * so the size is the output's length, which a constant input or the model's declared output shape fixes at
 * conversion; the table is computed in float64 (spectral-tables.ts) and rounded to float32.
 */

import type { DType } from '../../../ir/dtype.js';
import { constVal, type OnnxCtx } from '../context.js';
import { makeConst } from '../tensor.js';
import { F32, type OnnxOpConverter } from './common.js';
import { WINDOW_KINDS, windowTable, type WindowKind } from './spectral-tables.js';

/** output_datatype codes Kiln emits, as float32 (ONNX double is computed and held as float32, as elsewhere). */
const FLOAT_OUTPUTS: Record<number, DType> = { 1: F32, 11: F32 };

/** The float type an op's `output_datatype` attribute asks for (default float), or a refusal naming it. */
export function floatOutput(c: OnnxCtx): DType {
  const code = c.attr.i('output_datatype', 1);
  const dtype = FLOAT_OUTPUTS[code];
  if (!dtype)
    throw c.refuse(
      `output_datatype ${code}`,
      'Kiln emits these tables as float32 (output_datatype 1, or 11 computed as float32); cast the result in the model instead',
    );
  return dtype;
}

/** The length of a window op's output: its constant size input, or the 1-D output shape the model declares. */
function windowSize(c: OnnxCtx): number {
  if (c.isConst(0)) return c.ints(0)[0]!;
  const d = c.declared();
  if (!d || d.length !== 1)
    throw c.refuse(
      'input 0 (size) is computed at run time and the model declares no 1-D output shape',
      'Declare the output shape or make the window size a constant',
    );
  return d[0]!;
}

const windowOp =
  (kind: WindowKind): OnnxOpConverter =>
  (c) => {
    const dtype = floatOutput(c);
    const periodic = c.attr.i('periodic', 1) !== 0;
    const size = windowSize(c);
    if (size < 1 || (!periodic && size < 2))
      throw c.refuse(`a ${periodic ? 'periodic' : 'symmetric'} window of ${size} samples`);
    return [constVal(makeConst(dtype, [size], windowTable(kind, size, periodic)))];
  };

export const WINDOWS: Record<WindowKind, OnnxOpConverter> = Object.fromEntries(
  WINDOW_KINDS.map((k) => [k, windowOp(k)]),
) as Record<WindowKind, OnnxOpConverter>;
