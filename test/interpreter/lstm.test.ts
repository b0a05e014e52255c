import test from 'ava';
import { ModelBuilder } from '../../shared/toolchain/ir/builder.js';
import { ActivationFunctionType } from '../../shared/toolchain/tflite/schema.js';
import { KilnError } from '../../shared/common/errors.js';
import { Interpreter, supportedOps } from '../../shared/toolchain/interpreter/index.js';
import { rng } from '../helpers/models.js';
import { expectSameAsTflite } from './oracle-compare.js';

// UNIDIRECTIONAL_SEQUENCE_LSTM (float32, version 1) single-op models against the TFLite runtime. The oracle helper
// runs several seeds on one interpreter, so the variable state carried between runs is compared too.

interface LstmCase {
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
  activation?: keyof typeof ActivationFunctionType;
  cellClip?: number;
  projClip?: number;
}

let seed = 100;
const floats = (n: number, scale = 1): number[] => {
  const r = rng(seed++);
  return Array.from({ length: n }, () => (r() * 2 - 1) * scale);
};

function buildLstm(c: LstmCase): ModelBuilder {
  seed = 100;
  const b = new ModelBuilder();
  const nOutput = c.projection ? (c.nOutput ?? c.nCell) : c.nCell;
  const inShape = c.timeMajor ? [c.time, c.batch, c.nInput] : [c.batch, c.time, c.nInput];
  const x = b.input('x', inShape, 'float32');
  const k = (name: string, shape: number[], scale = 0.6): number =>
    b.constant(
      name,
      'float32',
      shape,
      floats(
        shape.reduce((a, v) => a * v, 1),
        scale,
      ),
    );
  const opt = (on: boolean | undefined, name: string, shape: number[], scale?: number): number =>
    on ? k(name, shape, scale) : -1;
  const gates = ['input', 'forget', 'cell', 'output'];
  const wx = gates.map((g) => (g === 'input' && c.cifg ? -1 : k(`${g}_wx`, [c.nCell, c.nInput])));
  const wh = gates.map((g) => (g === 'input' && c.cifg ? -1 : k(`${g}_wh`, [c.nCell, nOutput])));
  const peep = ['input', 'forget', 'output'].map((g) =>
    opt(c.peephole && !(g === 'input' && c.cifg), `${g}_peephole`, [c.nCell], 0.5),
  );
  const bias = gates.map((g) => (g === 'input' && c.cifg ? -1 : k(`${g}_bias`, [c.nCell], 0.3)));
  const proj = opt(c.projection, 'projection', [nOutput, c.nCell]);
  const projBias = opt(c.projection && c.projectionBias, 'projection_bias', [nOutput], 0.2);
  const h = b.g.addTensor({ name: 'output_state', dtype: 'float32', shape: [c.batch, nOutput], isVariable: true }).id;
  const cs = b.g.addTensor({ name: 'cell_state', dtype: 'float32', shape: [c.batch, c.nCell], isVariable: true }).id;
  const ln = gates.map((g) => opt(c.layerNorm && !(g === 'input' && c.cifg), `${g}_ln`, [c.nCell], 1));
  const y = b.op(
    'UNIDIRECTIONAL_SEQUENCE_LSTM',
    [x, ...wx, ...wh, ...peep, ...bias, proj, projBias, h, cs, ...ln],
    {
      fusedActivationFunction: ActivationFunctionType[c.activation ?? 'TANH'],
      cellClip: c.cellClip ?? 0,
      projClip: c.projClip ?? 0,
      timeMajor: c.timeMajor ?? false,
    },
    { outputs: [{ dtype: 'float32', shape: [inShape[0]!, inShape[1]!, nOutput] }], version: 1 },
  )[0]!;
  b.output(y);
  return b;
}

const cases: LstmCase[] = [
  { name: 'basic batch-major', batch: 2, time: 3, nInput: 4, nCell: 5 },
  { name: 'time-major', batch: 3, time: 4, nInput: 3, nCell: 4, timeMajor: true },
  {
    name: 'CIFG with peephole and cell_clip',
    batch: 2,
    time: 5,
    nInput: 3,
    nCell: 6,
    cifg: true,
    peephole: true,
    cellClip: 0.4,
  },
  { name: 'peephole without CIFG', batch: 1, time: 4, nInput: 5, nCell: 4, peephole: true },
  {
    name: 'projection with bias and proj_clip',
    batch: 2,
    time: 3,
    nInput: 4,
    nCell: 6,
    nOutput: 3,
    projection: true,
    projectionBias: true,
    projClip: 0.25,
  },
  { name: 'projection without bias', batch: 2, time: 3, nInput: 3, nCell: 5, nOutput: 2, projection: true },
  { name: 'layer norm', batch: 2, time: 3, nInput: 4, nCell: 5, layerNorm: true },
  {
    name: 'layer norm with CIFG, peephole and projection',
    batch: 2,
    time: 3,
    nInput: 4,
    nCell: 6,
    nOutput: 4,
    layerNorm: true,
    cifg: true,
    peephole: true,
    projection: true,
    projectionBias: true,
  },
  { name: 'RELU activation', batch: 2, time: 3, nInput: 3, nCell: 4, activation: 'RELU' },
];

for (const c of cases) {
  test(`UNIDIRECTIONAL_SEQUENCE_LSTM float32 ${c.name}`, async (t) => {
    await expectSameAsTflite(t, buildLstm(c).build(), { seeds: [1, 2, 3] });
  });
}

test('UNIDIRECTIONAL_SEQUENCE_LSTM state persists across runs of one interpreter', (t) => {
  const model = buildLstm({ name: 'state', batch: 1, time: 2, nInput: 3, nCell: 4 }).build();
  const interp = new Interpreter(model);
  const x = Float32Array.from([0.5, -0.2, 0.9, 0.1, 0.3, -0.7]);
  const first = interp.run([x]).outputs[0]!.data as Float32Array;
  const second = interp.run([x]).outputs[0]!.data as Float32Array;
  t.notDeepEqual(Array.from(first), Array.from(second));
  const fresh = new Interpreter(model).run([x]).outputs[0]!.data as Float32Array;
  t.deepEqual(Array.from(fresh), Array.from(first));
});

test('UNIDIRECTIONAL_SEQUENCE_LSTM is listed as supported', (t) => {
  t.true(supportedOps().includes('UNIDIRECTIONAL_SEQUENCE_LSTM'));
});

test('an LSTM with int8 input and float32 weights (hybrid) is refused with an error naming the op and types', (t) => {
  const Q = ModelBuilder.quant;
  const b = new ModelBuilder();
  const x = b.input('x', [1, 2, 3], 'int8', Q(0.02, 0));
  const w = (n: string, s: [number, number]): number =>
    b.constant(n, 'float32', s, new Array<number>(s[0] * s[1]).fill(0.1));
  const bias = (n: string): number => b.constant(n, 'float32', [4], [0, 0, 0, 0]);
  const gates = ['i', 'f', 'c', 'o'];
  const h = b.g.addTensor({ name: 'h', dtype: 'int8', shape: [1, 4], isVariable: true, quant: Q(0.01, 0) }).id;
  const c = b.g.addTensor({ name: 'c', dtype: 'int16', shape: [1, 4], isVariable: true, quant: Q(1 / 2048, 0) }).id;
  const inputs = [
    x,
    ...gates.map((g) => w(`${g}_wx`, [4, 3])),
    ...gates.map((g) => w(`${g}_wh`, [4, 4])),
    -1,
    -1,
    -1,
    ...gates.map(bias),
    -1,
    -1,
    h,
    c,
    -1,
    -1,
    -1,
    -1,
  ];
  const y = b.op(
    'UNIDIRECTIONAL_SEQUENCE_LSTM',
    inputs,
    { fusedActivationFunction: ActivationFunctionType.TANH },
    { outputs: [{ dtype: 'int8', shape: [1, 2, 4], quant: Q(0.01, 0) }], version: 3 },
  )[0]!;
  b.output(y);
  const e = t.throws(() => new Interpreter(b.build()), { instanceOf: KilnError });
  t.is(e.code, 'E_UNSUPPORTED_TYPE');
  t.regex(e.message, /UNIDIRECTIONAL_SEQUENCE_LSTM.*int8 input with float32 weights/);
});
