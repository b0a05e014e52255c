import test from 'ava';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isKilnError } from '../../shared/common/errors.js';
import { buildInProcess } from '../../shared/pipeline/build-in-process.js';
import { STAGE_CORES } from '../../shared/pipeline/cores/index.js';
import { readLocalModel } from '../../shared/pipeline/local-model.js';

import { nodeTestsMatch, withNodeData } from './helpers/conformance.js';
import { expectSameAsTflite } from '../interpreter/oracle-compare.js';
import {
  bothRuntimes,
  convertOnnx,
  onnxGraph,
  rng,
  worstError,
  type GraphTensor,
  type Init,
  type OnnxNodeSpec,
} from './helpers/onnx-graph.js';

/**
 * ONNX RNN / GRU / LSTM unrolled into TFLite builtins (shared/toolchain/loaders/onnx/ops/recurrent.ts), checked
 * against onnxruntime on models built here: every direction, biases, initial states, peepholes, clip, other
 * activations, GRU's linear_before_reset both ways, and sequence_lens fed at run time.
 */

type Kind = 'RNN' | 'GRU' | 'LSTM';
const GATES: Record<Kind, number> = { RNN: 1, GRU: 3, LSTM: 4 };

interface Case {
  title: string;
  kind: Kind;
  seq: number;
  batch: number;
  input: number;
  hidden: number;
  direction?: 'forward' | 'reverse' | 'bidirectional';
  bias?: boolean;
  initial?: boolean;
  peepholes?: boolean;
  /** Per-batch lengths fed at run time. */
  lens?: number[];
  attrs?: OnnxNodeSpec['attrs'];
}

function model(
  k: Case,
  seed = 7,
): { bytes: Uint8Array; inputs: (GraphTensor & { values: number[] })[]; outputs: GraphTensor[] } {
  const r = rng(seed);
  const dirs = k.direction === 'bidirectional' ? 2 : 1;
  const G = GATES[k.kind];
  const H = k.hidden;
  const rand = (n: number, scale = 1): number[] => Array.from({ length: n }, () => r() * scale);
  const inits: Init[] = [
    { name: 'W', type: 'float32', dims: [dirs, G * H, k.input], values: rand(dirs * G * H * k.input, 1.5) },
    { name: 'R', type: 'float32', dims: [dirs, G * H, H], values: rand(dirs * G * H * H, 1.5) },
  ];
  if (k.bias) inits.push({ name: 'B', type: 'float32', dims: [dirs, 2 * G * H], values: rand(dirs * 2 * G * H) });
  if (k.peepholes) inits.push({ name: 'P', type: 'float32', dims: [dirs, 3 * H], values: rand(dirs * 3 * H) });
  const inputs: (GraphTensor & { values: number[] })[] = [
    { name: 'X', type: 'float32', dims: [k.seq, k.batch, k.input], values: rand(k.seq * k.batch * k.input, 4) },
  ];
  if (k.lens) inputs.push({ name: 'lens', type: 'int32', dims: [k.batch], values: k.lens });
  if (k.initial) {
    inputs.push({ name: 'h0', type: 'float32', dims: [dirs, k.batch, H], values: rand(dirs * k.batch * H, 2) });
    if (k.kind === 'LSTM')
      inputs.push({ name: 'c0', type: 'float32', dims: [dirs, k.batch, H], values: rand(dirs * k.batch * H, 2) });
  }
  const names = ['X', 'W', 'R', k.bias ? 'B' : '', k.lens ? 'lens' : '', k.initial ? 'h0' : ''];
  if (k.kind === 'LSTM') names.push(k.initial ? 'c0' : '', k.peepholes ? 'P' : '');
  while (names[names.length - 1] === '') names.pop();
  const outputs: GraphTensor[] = [
    { name: 'Y', type: 'float32', dims: [k.seq, dirs, k.batch, H] },
    { name: 'Y_h', type: 'float32', dims: [dirs, k.batch, H] },
  ];
  if (k.kind === 'LSTM') outputs.push({ name: 'Y_c', type: 'float32', dims: [dirs, k.batch, H] });
  const bytes = onnxGraph({
    nodes: [
      {
        op: k.kind,
        inputs: names,
        outputs: outputs.map((o) => o.name),
        attrs: { hidden_size: H, direction: k.direction ?? 'forward', ...k.attrs },
      },
    ],
    inputs,
    outputs,
    inits,
  });
  return { bytes, inputs, outputs };
}

const CASES: Case[] = [
  { title: 'RNN forward', kind: 'RNN', seq: 4, batch: 2, input: 3, hidden: 5, bias: true },
  {
    title: 'RNN reverse with Relu and an initial state',
    kind: 'RNN',
    seq: 3,
    batch: 2,
    input: 3,
    hidden: 4,
    direction: 'reverse',
    initial: true,
    attrs: { activations: ['Relu'] },
  },
  {
    title: 'RNN bidirectional, no bias',
    kind: 'RNN',
    seq: 3,
    batch: 1,
    input: 2,
    hidden: 3,
    direction: 'bidirectional',
  },
  { title: 'GRU forward, linear_before_reset=0', kind: 'GRU', seq: 4, batch: 2, input: 3, hidden: 5, bias: true },
  {
    title: 'GRU bidirectional, linear_before_reset=1, initial state',
    kind: 'GRU',
    seq: 3,
    batch: 2,
    input: 4,
    hidden: 3,
    direction: 'bidirectional',
    bias: true,
    initial: true,
    attrs: { linear_before_reset: 1 },
  },
  {
    title: 'GRU reverse with HardSigmoid/Softsign gates and clip',
    kind: 'GRU',
    seq: 3,
    batch: 1,
    input: 2,
    hidden: 4,
    direction: 'reverse',
    bias: true,
    attrs: { activations: ['HardSigmoid', 'Softsign'], activation_alpha: { floats: [0.3] }, clip: { f: 1.5 } },
  },
  { title: 'LSTM forward', kind: 'LSTM', seq: 4, batch: 2, input: 3, hidden: 4, bias: true },
  {
    title: 'LSTM bidirectional with peepholes and initial states',
    kind: 'LSTM',
    seq: 3,
    batch: 2,
    input: 3,
    hidden: 3,
    direction: 'bidirectional',
    bias: true,
    initial: true,
    peepholes: true,
  },
  {
    title: 'LSTM reverse with clip and ScaledTanh/LeakyRelu activations',
    kind: 'LSTM',
    seq: 3,
    batch: 2,
    input: 2,
    hidden: 3,
    direction: 'reverse',
    bias: true,
    attrs: {
      activations: ['Sigmoid', 'ScaledTanh', 'LeakyRelu'],
      activation_alpha: { floats: [0.8, 0.2] },
      activation_beta: { floats: [1.3] },
      clip: { f: 2 },
    },
  },
  {
    title: 'LSTM with coupled input and forget gates (input_forget=1)',
    kind: 'LSTM',
    seq: 3,
    batch: 2,
    input: 3,
    hidden: 2,
    bias: true,
    initial: true,
    attrs: { input_forget: 1 },
  },
  {
    title: 'LSTM forward over sequences of different lengths (sequence_lens at run time)',
    kind: 'LSTM',
    seq: 4,
    batch: 3,
    input: 2,
    hidden: 3,
    bias: true,
    initial: true,
    lens: [4, 2, 1],
  },
  {
    title: 'GRU forward over sequences of different lengths',
    kind: 'GRU',
    seq: 3,
    batch: 2,
    input: 2,
    hidden: 3,
    bias: true,
    lens: [1, 3],
  },
];

for (const k of CASES)
  test(`${k.title} converts to builtins and matches onnxruntime`, async (t) => {
    const m = model(k);
    const ops = new Set(convertOnnx(m.bytes).graph.ops.map((o) => o.type));
    t.true(ops.has('FULLY_CONNECTED'));
    t.false([...ops].some((o) => o === 'CUSTOM' || o.includes('SEQUENCE')));
    const { want, got } = await bothRuntimes(m.bytes, m.inputs, m.outputs);
    m.outputs.forEach((o, i) => {
      t.is(got[i]!.length, want[i]!.length, o.name);
      t.true(worstError(got[i]!, want[i]!) <= 1e-5, `${o.name}: ${Array.from(got[i]!)} vs ${Array.from(want[i]!)}`);
    });
    // the state really runs: a later step's output differs from the first (nothing constant-folded away)
    t.notDeepEqual(Array.from(want[0]!.slice(0, k.hidden)), Array.from(want[0]!.slice(-k.hidden)));
  });

test("Kiln's interpreter runs the unrolled LSTM and GRU like the TFLite runtime (constant weights)", async (t) => {
  for (const k of [CASES[4]!, CASES[7]!]) await expectSameAsTflite(t, convertOnnx(model(k).bytes));
});

test('kiln build in-process: an unrolled ONNX LSTM quantizes to int8 and runs on the Edge TPU', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'kiln-lstm-'));
  const k: Case = { title: '', kind: 'LSTM', seq: 4, batch: 1, input: 3, hidden: 6, bias: true };
  writeFileSync(join(dir, 'lstm.onnx'), model(k).bytes);
  const { record } = await buildInProcess(await readLocalModel(join(dir, 'lstm.onnx')), {
    cores: STAGE_CORES,
    maxFanout: 2,
  });
  t.is(record.status, 'succeeded', JSON.stringify(record.error));
  const compile = record.summary['compile'] as Record<string, number>;
  // every step's FULLY_CONNECTED/SPLIT/LOGISTIC/TANH/MUL/ADD maps: at most two ops of the model stay on the CPU
  t.true(compile['opsOnEdgeTpu']! >= compile['totalOps']! - 2, JSON.stringify(compile));
  t.is(compile['edgeTpuSubgraphs'], 1, JSON.stringify(compile));
});

test('a reverse direction over sequences of run-time length is refused, naming the case', (t) => {
  const k: Case = {
    title: '',
    kind: 'LSTM',
    seq: 3,
    batch: 2,
    input: 2,
    hidden: 3,
    direction: 'reverse',
    lens: [3, 1],
  };
  const e = t.throws(() => convertOnnx(model(k).bytes));
  t.true(isKilnError(e));
  t.regex(e.message, /LSTM.*reverse direction over sequence_lens/);
});

test('an activation Kiln has no builtins for is refused by name', (t) => {
  const k: Case = {
    title: '',
    kind: 'RNN',
    seq: 2,
    batch: 1,
    input: 2,
    hidden: 2,
    attrs: { activations: ['ThresholdedRelu'] },
  };
  const e = t.throws(() => convertOnnx(model(k).bytes));
  t.true(isKilnError(e));
  t.regex(e.message, /RNN.*activation ThresholdedRelu/);
});

withNodeData('ONNX node tests: every RNN, GRU and LSTM case converts and matches', async (t) => {
  await nodeTestsMatch(t, /^test_(simple_rnn|rnn|gru|lstm)_/, 12);
});
