/**
 * ONNX's MelWeightMatrix: the triangular mel filter bank [⌊dft_length/2⌋ + 1, num_mel_bins] as ONNX's reference
 * computes it (spectral-tables.ts). Constant inputs give a constant table (float64, rounded to float32); inputs given
 * at run time are computed by builtins over the declared output shape: the filter edges ⌊(dft_length + 1)·hz /
 * sample_rate⌋ (LOG, EXP, FLOOR_DIV in float32), then each entry from comparisons of its row with the edges.
 */

import type { DType } from '../../../ir/dtype.js';
import { constVal, tensorVal, type OnnxCtx, type Value } from '../context.js';
import { makeConst } from '../tensor.js';
import { F32, castTo, typedOp } from './common.js';
import { melWeights } from './spectral-tables.js';

/** output_datatype codes Kiln emits, as float32 (ONNX double is computed and held as float32, as elsewhere). */
const FLOAT_OUTPUTS: Record<number, DType> = { 1: F32, 11: F32 };

/** The float type the `output_datatype` attribute asks for (default float), or a refusal naming it. */
function floatOutput(c: OnnxCtx): DType {
  const code = c.attr.i('output_datatype', 1);
  const dtype = FLOAT_OUTPUTS[code];
  if (!dtype)
    throw c.refuse(
      `output_datatype ${code}`,
      'Kiln emits this table as float32 (output_datatype 1, or 11 computed as float32); cast the result in the model instead',
    );
  return dtype;
}

const INPUTS = ['num_mel_bins', 'dft_length', 'sample_rate', 'lower_edge_hertz', 'upper_edge_hertz'];

export function melWeightMatrix(c: OnnxCtx): Value[] {
  const dtype = floatOutput(c);
  for (let i = 0; i < INPUTS.length; i++)
    if (numElementsOf(c.shape(i)) !== 1)
      throw c.refuse(`input ${i} (${INPUTS[i]}) of shape [${c.shape(i).join(', ')}] (a scalar is expected)`);
  const known = (i: number): number | undefined => (c.isConst(i) ? c.const(i).v[0]! : undefined);
  const [melBins, dftLength, sampleRate, low, high] = INPUTS.map((_n, i) => known(i));
  const d = c.declared();
  const rows = dftLength !== undefined ? Math.floor(dftLength / 2) + 1 : d?.length === 2 ? d[0] : undefined;
  const cols = melBins ?? (d?.length === 2 ? d[1] : undefined);
  if (rows === undefined || cols === undefined)
    throw c.refuse(
      `input ${rows === undefined ? '1 (dft_length)' : '0 (num_mel_bins)'} is computed at run time and the model declares no 2-D output shape`,
      'Make the input a constant or declare the output shape',
    );
  if (rows < 1 || cols < 1) throw c.refuse(`a ${rows}×${cols} mel weight matrix`);
  if (sampleRate !== undefined && sampleRate <= 0) throw c.refuse(`sample_rate ${sampleRate}`);
  if (
    melBins !== undefined &&
    dftLength !== undefined &&
    sampleRate !== undefined &&
    low !== undefined &&
    high !== undefined
  )
    return [constVal(makeConst(dtype, [rows, cols], melWeights(melBins, dftLength, sampleRate, low, high)))];
  return [tensorVal(runTime(c, rows, cols))];
}

const numElementsOf = (s: number[]): number => s.reduce((a, b) => a * b, 1);

/** The filter bank computed by builtins from the run-time scalars (float32). */
function runTime(c: OnnxCtx, rows: number, cols: number): number {
  const n = (s: string): string => `${c.name}/${s}`;
  let consts = 0;
  /** A float32 scalar v, or (with a shape) the range 0 … v − 1 in that shape. */
  const k = (name: string, v: number, shape: number[] = []): number =>
    c.b.constant(n(`${name}_${consts++}`), F32, shape, shape.length ? Array.from({ length: v }, (_v, i) => i) : [v]);
  const scalar = (i: number): number => {
    const x = castTo(c, c.tensor(i, null), F32, n(`${INPUTS[i]}_float`));
    return c.b.g.tensor(x).shape.length ? c.b.reshape(x, [], { name: n(`${INPUTS[i]}_scalar`) }) : x;
  };
  const op = (type: string, ins: number[], shape: number[], name: string, out: DType = F32): number =>
    typedOp(
      c,
      type,
      ins,
      shape,
      out,
      n(name),
      ['ADD', 'SUB', 'MUL', 'DIV'].includes(type) ? { fusedActivationFunction: 0 } : {},
    );
  const [melBins, dftLength, sampleRate, low, high] = INPUTS.map((_v, i) => scalar(i));
  // 2595·log10(1 + hz/700)
  const mel = (hz: number, what: string): number =>
    op(
      'MUL',
      [
        op(
          'LOG',
          [op('ADD', [op('DIV', [hz, k('break_hz', 700)], [], `${what}_ratio`), k('one', 1)], [], `${what}_1p`)],
          [],
          `${what}_log`,
        ),
        k('mel_per_ln', 2595 / Math.LN10),
      ],
      [],
      `${what}_mel`,
    );
  const lowMel = mel(low!, 'low');
  const step = op(
    'DIV',
    [op('SUB', [mel(high!, 'high'), lowMel], [], 'mel_span'), op('ADD', [melBins!, k('two', 2)], [], 'points')],
    [],
    'mel_step',
  );
  const edges = cols + 2;
  const melAt = op(
    'ADD',
    [op('MUL', [k('edge_index', edges, [edges]), step], [edges], 'mel_offsets'), lowMel],
    [edges],
    'edge_mel',
  );
  // 700·(10^(mel/2595) − 1)
  const hz = op(
    'MUL',
    [
      op(
        'SUB',
        [
          op('EXP', [op('MUL', [melAt, k('ln_per_mel', Math.LN10 / 2595)], [edges], 'edge_ln')], [edges], 'edge_pow'),
          k('one', 1),
        ],
        [edges],
        'edge_ratio',
      ),
      k('break_hz', 700),
    ],
    [edges],
    'edge_hz',
  );
  const scaled = op('MUL', [hz, op('ADD', [dftLength!, k('one', 1)], [], 'dft_plus_1')], [edges], 'edge_scaled');
  const bins = op('FLOOR_DIV', [scaled, sampleRate!], [edges], 'edge_bin');
  const edge = (from: number, what: string): number =>
    typedOp(
      c,
      'GATHER',
      [
        bins,
        c.b.constant(
          n(`${what}_index`),
          'int32',
          [1, cols],
          Array.from({ length: cols }, (_v, i) => i + from),
        ),
      ],
      [1, cols],
      F32,
      n(`${what}_edge`),
      { axis: 0, batchDims: 0 },
    );
  const [left, center, right] = [edge(0, 'left'), edge(1, 'center'), edge(2, 'right')];
  const j = k('row', rows, [rows, 1]);
  const full = [rows, cols];
  const mask = (type: string, a: number, b: number, shape: number[], name: string): number =>
    castTo(c, op(type, [a, b], shape, `${name}_test`, 'bool'), F32, n(name));
  const both = (a: number, b: number, name: string): number => op('MUL', [a, b], full, name);
  // 1 at the center (when the filter has a side), (j − l)/(c − l) on [l, c), (h − j)/(h − c) on (c, h)
  const sided = op(
    'MAXIMUM',
    [mask('LESS_EQUAL', left, center, [1, cols], 'rises'), mask('LESS', center, right, [1, cols], 'falls')],
    [1, cols],
    'has_side',
  );
  const top = both(mask('EQUAL', j, center, full, 'at_center'), sided, 'top');
  const one = k('unit', 1);
  const rise = both(
    both(mask('LESS_EQUAL', left, j, full, 'from_left'), mask('LESS', j, center, full, 'before_center'), 'rising_part'),
    op(
      'DIV',
      [
        op('SUB', [j, left], full, 'above_left'),
        op('MAXIMUM', [op('SUB', [center, left], [1, cols], 'rise_width'), one], [1, cols], 'rise_span'),
      ],
      full,
      'rise_value',
    ),
    'rise',
  );
  const fall = both(
    both(mask('LESS', center, j, full, 'after_center'), mask('LESS', j, right, full, 'before_right'), 'falling_part'),
    op(
      'DIV',
      [
        op('SUB', [right, j], full, 'below_right'),
        op('MAXIMUM', [op('SUB', [right, center], [1, cols], 'fall_width'), one], [1, cols], 'fall_span'),
      ],
      full,
      'fall_value',
    ),
    'fall',
  );
  return typedOp(c, 'ADD', [op('ADD', [top, rise], full, 'top_rise'), fall], full, F32, c.out(), {
    fusedActivationFunction: 0,
  });
}
