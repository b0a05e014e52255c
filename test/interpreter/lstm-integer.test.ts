import test from 'ava';
import { KilnError } from '../../shared/common/errors.js';
import { ModelBuilder } from '../../shared/toolchain/ir/builder.js';
import { fromTflite } from '../../shared/toolchain/ir/from-tflite.js';
import type { IrModel } from '../../shared/toolchain/ir/model.js';
import { toTflite } from '../../shared/toolchain/ir/to-tflite.js';
import { Interpreter } from '../../shared/toolchain/interpreter/index.js';
import { randomInputs } from '../../shared/toolchain/interpreter/random-inputs.js';
import { ActivationFunctionType } from '../../shared/toolchain/tflite/schema.js';
import { readTflite } from '../../shared/toolchain/tflite/reader.js';
import { writeTflite } from '../../shared/toolchain/tflite/writer.js';
import { rng } from '../helpers/models.js';
import { expectSameAsTflite } from './oracle-compare.js';

// Full-integer UNIDIRECTIONAL_SEQUENCE_LSTM (TFLite's 8x8_16 path) single-op models against the TFLite 2.9 runtime,
// byte for byte. The oracle helper runs three seeds on one interpreter and one runtime, so the int8 output state and
// int16 cell state carried from run to run are compared too.

/** A full-integer (8x8_16) UNIDIRECTIONAL_SEQUENCE_LSTM test model: int8 x/h/weights, int16 cell, int32 biases. */
interface IntLstmCase {
  name: string;
  batch: number;
  time: number;
  nInput: number;
  nCell: number;
  nOutput?: number;
  timeMajor?: boolean;
  cifg?: boolean;
  peephole?: boolean;
  projection?: boolean;
  projectionBias?: boolean;
  layerNorm?: boolean;
  cellClip?: number;
  projClip?: number;
  /** Input zero point (hidden/output state zero point is `hZp`). */
  xZp?: number;
  hZp?: number;
  /** log2 of the cell state scale (≤ −9). */
  cellLog2?: number;
  seed?: number;
}

const Q = ModelBuilder.quant;

function buildIntegerLstm(c: IntLstmCase): IrModel {
  const r = rng(c.seed ?? 7);
  const ints = (n: number, lo: number, hi: number): number[] =>
    Array.from({ length: n }, () => lo + Math.floor(r() * (hi - lo + 1)));
  const b = new ModelBuilder();
  const nOutput = c.projection ? (c.nOutput ?? c.nCell) : c.nCell;
  const inShape = c.timeMajor ? [c.time, c.batch, c.nInput] : [c.batch, c.time, c.nInput];
  const xScale = 0.03;
  const hScale = 1 / 128;
  const x = b.input('x', inShape, 'int8', Q(xScale, c.xZp ?? 3));
  const gates = ['input', 'forget', 'cell', 'output'] as const;
  const skip = (g: string): boolean => g === 'input' && !!c.cifg;
  const w = (name: string, rows: number, cols: number, scale: number): number =>
    b.constant(name, 'int8', [rows, cols], ints(rows * cols, -127, 127), Q(scale, 0));
  const wx = gates.map((g, i) => (skip(g) ? -1 : w(`${g}_wx`, c.nCell, c.nInput, 0.004 + 0.001 * i)));
  const wh = gates.map((g, i) => (skip(g) ? -1 : w(`${g}_wh`, c.nCell, nOutput, 0.005 + 0.0007 * i)));
  const peep = ['input', 'forget', 'output'].map((g) =>
    c.peephole && !skip(g)
      ? b.constant(`${g}_peep`, 'int16', [c.nCell], ints(c.nCell, -20000, 20000), Q(0.00002, 0))
      : -1,
  );
  // Bias scale: with layer norm the bias is applied after normalisation at the layer-norm output scale (2^-10·ln);
  // without, it is added to the gate accumulator at the intermediate scale (2^-12).
  const bias = gates.map((g) =>
    skip(g)
      ? -1
      : b.constant(`${g}_bias`, 'int32', [c.nCell], ints(c.nCell, -3000, 3000), Q(c.layerNorm ? 1e-5 : 2 ** -12, 0)),
  );
  const proj = c.projection ? w('projection', nOutput, c.nCell, 0.006) : -1;
  const projBias =
    c.projection && c.projectionBias
      ? b.constant('projection_bias', 'int32', [nOutput], ints(nOutput, -500, 500), Q(1e-4, 0))
      : -1;
  const cellScale = 2 ** (c.cellLog2 ?? -11);
  const h = b.g.addTensor({
    name: 'output_state',
    dtype: 'int8',
    shape: [c.batch, nOutput],
    isVariable: true,
    quant: Q(hScale, c.hZp ?? -2),
  }).id;
  const cs = b.g.addTensor({
    name: 'cell_state',
    dtype: 'int16',
    shape: [c.batch, c.nCell],
    isVariable: true,
    quant: Q(cellScale, 0),
  }).id;
  const ln = gates.map((g) =>
    c.layerNorm && !skip(g) ? b.constant(`${g}_ln`, 'int16', [c.nCell], ints(c.nCell, 8000, 30000), Q(3e-5, 0)) : -1,
  );
  const y = b.op(
    'UNIDIRECTIONAL_SEQUENCE_LSTM',
    [x, ...wx, ...wh, ...peep, ...bias, proj, projBias, h, cs, ...ln],
    {
      fusedActivationFunction: ActivationFunctionType.TANH,
      cellClip: c.cellClip ?? 0,
      projClip: c.projClip ?? 0,
      timeMajor: c.timeMajor ?? false,
    },
    {
      outputs: [
        { name: 'y', dtype: 'int8', shape: [inShape[0]!, inShape[1]!, nOutput], quant: Q(hScale, c.hZp ?? -2) },
      ],
      version: 1,
    },
  )[0]!;
  const gateScales = [0.0009, 0.0007, 0.0011, 0.0008];
  const inter = gateScales.map(
    (s, i) => b.g.addTensor({ name: `intermediate_${i}`, dtype: 'int16', shape: [], quant: Q(s, 0) }).id,
  );
  // Without projection the hidden state is the output state, so the converter gives it the output's quantization.
  const hiddenQ = c.projection ? Q(0.006, 1) : Q(hScale, c.hZp ?? -2);
  inter.push(b.g.addTensor({ name: 'intermediate_hidden', dtype: 'int8', shape: [], quant: hiddenQ }).id);
  b.output(y);
  const model = b.build();
  const op = model.graph.ops[0]!;
  op.extra = { ...op.extra, intermediates: inter };
  return model;
}

const cases: IntLstmCase[] = [
  { name: 'one step, one batch', batch: 1, time: 1, nInput: 4, nCell: 5 },
  { name: 'batch-major, no CIFG', batch: 2, time: 3, nInput: 4, nCell: 5 },
  { name: 'time-major', batch: 3, time: 4, nInput: 4, nCell: 5, timeMajor: true },
  { name: 'CIFG', batch: 2, time: 3, nInput: 4, nCell: 5, cifg: true },
  { name: 'peephole', batch: 2, time: 3, nInput: 4, nCell: 5, peephole: true },
  { name: 'projection', batch: 2, time: 3, nInput: 4, nCell: 5, nOutput: 3, projection: true },
  {
    name: 'projection with bias, cell_clip and proj_clip',
    batch: 2,
    time: 3,
    nInput: 4,
    nCell: 5,
    nOutput: 3,
    projection: true,
    projectionBias: true,
    cellClip: 0.3,
    projClip: 0.2,
  },
  { name: 'layer norm', batch: 2, time: 3, nInput: 4, nCell: 8, layerNorm: true },
  { name: 'layer norm with CIFG', batch: 2, time: 3, nInput: 4, nCell: 8, layerNorm: true, cifg: true },
  {
    name: 'layer norm, projection with bias and peephole',
    batch: 2,
    time: 4,
    nInput: 5,
    nCell: 6,
    nOutput: 4,
    layerNorm: true,
    projection: true,
    projectionBias: true,
    peephole: true,
  },
  {
    name: 'time-major layer norm, CIFG, projection and peephole',
    batch: 3,
    time: 3,
    nInput: 5,
    nCell: 7,
    nOutput: 3,
    layerNorm: true,
    projection: true,
    peephole: true,
    cifg: true,
    timeMajor: true,
  },
  {
    name: 'cell scale 2^-9 and other zero points',
    batch: 2,
    time: 5,
    nInput: 4,
    nCell: 5,
    cellLog2: -9,
    xZp: -7,
    hZp: 5,
  },
  { name: 'cell scale 2^-15', batch: 2, time: 5, nInput: 4, nCell: 5, cellLog2: -15, seed: 3 },
  {
    name: 'larger, layer norm, projection and peephole',
    batch: 3,
    time: 6,
    nInput: 20,
    nCell: 16,
    nOutput: 12,
    projection: true,
    layerNorm: true,
    peephole: true,
    seed: 11,
  },
];

for (const c of cases) {
  test(`UNIDIRECTIONAL_SEQUENCE_LSTM int8x8_16 ${c.name}`, async (t) => {
    await expectSameAsTflite(t, buildIntegerLstm(c), { seeds: [1, 2, 3] });
  });
}

test('integer LSTM: state persists across runs, and a model read back from its .tflite runs the same', (t) => {
  const model = buildIntegerLstm({ name: 'state', batch: 2, time: 2, nInput: 3, nCell: 4, layerNorm: true });
  const interp = new Interpreter(model);
  const [x] = randomInputs(interp.inputs, 5);
  const first = Array.from(interp.run([x!]).outputs[0]!.data as Int8Array);
  const second = Array.from(interp.run([x!]).outputs[0]!.data as Int8Array);
  t.notDeepEqual(first, second);
  const reread = fromTflite(readTflite(writeTflite(toTflite(model))));
  t.deepEqual(Array.from(new Interpreter(reread).run([x!]).outputs[0]!.data as Int8Array), first);
});

test('integer LSTM without its intermediate tensors is refused, naming them', (t) => {
  const model = buildIntegerLstm({ name: 'no intermediates', batch: 1, time: 2, nInput: 3, nCell: 4 });
  delete model.graph.ops[0]!.extra;
  const e = t.throws(() => new Interpreter(model), { instanceOf: KilnError });
  t.regex(e.message, /UNIDIRECTIONAL_SEQUENCE_LSTM.*5 quantized intermediate tensors.*intermediate 4 is missing/);
});

test('integer LSTM with a cell state scale that is not a power of two ≤ 2^-9 is refused', (t) => {
  const model = buildIntegerLstm({ name: 'bad cell scale', batch: 1, time: 2, nInput: 3, nCell: 4, cellLog2: -8 });
  const e = t.throws(() => new Interpreter(model), { instanceOf: KilnError });
  t.is(e.code, 'E_UNSUPPORTED_TYPE');
  t.regex(e.message, /cell state scale is not a power of two/);
});

test('integer LSTM with peephole weights and an output larger than the cell is refused', (t) => {
  const c: IntLstmCase = { name: 'wide', batch: 1, time: 2, nInput: 3, nCell: 3, nOutput: 5, projection: true };
  const model = buildIntegerLstm({ ...c, peephole: true });
  const e = t.throws(() => new Interpreter(model), { instanceOf: KilnError });
  t.is(e.code, 'E_UNSUPPORTED_TYPE');
  t.regex(e.message, /peephole weights and an output size 5 larger than the cell size 3/);
  t.notThrows(() => new Interpreter(buildIntegerLstm(c)));
});
