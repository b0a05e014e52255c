import test from 'ava';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KilnError } from '../../shared/common/errors.js';
import { convertModel } from '../../shared/toolchain/loaders/convert.js';
import { parseKerasModel } from '../../shared/toolchain/loaders/keras/config.js';
import { parity, tolerance } from './helpers/parity.js';
import { writeLayersFixture } from './helpers/keras-fixture.js';

const fixtureDir = (): string => {
  const dir = mkdtempSync(join(tmpdir(), 'kiln-layers-'));
  writeLayersFixture(dir);
  return dir;
};

test('a generated TF.js layers model (quantized weights, two shard groups) converts and matches tfjs', async (t) => {
  const res = convertModel(fixtureDir());
  t.is(res.format, 'tfjs-layers');
  t.deepEqual(res.inputs, [{ name: 'image', dtype: 'float32', shape: [1, 12, 12, 3] }]);
  t.deepEqual(res.outputs, [{ name: 'fc', dtype: 'float32', shape: [1, 5] }]);
  // batch norms folded, ReLU6/ReLU fused, separable conv split into depthwise + pointwise
  t.deepEqual(res.ops, {
    CONV_2D: 3,
    DEPTHWISE_CONV_2D: 2,
    ADD: 1,
    PAD: 1,
    MAX_POOL_2D: 1,
    TANH: 1,
    MEAN: 1,
    FULLY_CONNECTED: 1,
    SOFTMAX: 1,
  });
  t.is(res.rewrites!.affineFolded, 4);
  const conv1 = res.model.graph.ops.find((o) => o.type === 'CONV_2D')!;
  t.is((conv1.options as { fusedActivationFunction: number }).fusedActivationFunction, 3 /* RELU6 */);
  const p = await parity(res, 5);
  for (const o of p.outputs) {
    t.true(o.range > 0.05, `a meaningful output range (${o.range})`);
    t.true(o.oracle <= tolerance(o), `TFLite runtime error ${o.oracle} vs range ${o.range}`);
    if (o.interpreter !== null) t.true(o.interpreter <= tolerance(o), `interpreter error ${o.interpreter}`);
  }
});

test('a missing weight shard is refused naming the file', (t) => {
  const dir = fixtureDir();
  const m = JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8'));
  m.weightsManifest[1].paths[1] = 'gone.bin';
  writeFileSync(join(dir, 'model.json'), JSON.stringify(m));
  const e = t.throws(() => convertModel(dir), { instanceOf: KilnError });
  t.regex(e!.message, /gone\.bin/);
});

test('a weight path that climbs out of the model folder is refused', (t) => {
  const dir = fixtureDir();
  const m = JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8'));
  m.weightsManifest[0].paths[0] = '../../etc/passwd';
  writeFileSync(join(dir, 'model.json'), JSON.stringify(m));
  t.throws(() => convertModel(dir), { instanceOf: KilnError, message: /climbs out/ });
});

test('unsupported layers are refused all at once, by class', (t) => {
  const dir = fixtureDir();
  const m = JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8'));
  const layers = m.modelTopology.model_config.config.layers;
  layers.push({ class_name: 'Lambda', name: 'lam', config: { name: 'lam' }, inbound_nodes: [[['fc', 0, 0, {}]]] });
  layers.push({
    class_name: 'Bidirectional',
    name: 'bi',
    config: { name: 'bi' },
    inbound_nodes: [[['lam', 0, 0, {}]]],
  });
  m.modelTopology.model_config.config.output_layers = [['bi', 0, 0]];
  writeFileSync(join(dir, 'model.json'), JSON.stringify(m));
  const e = t.throws(() => convertModel(dir), { instanceOf: KilnError });
  t.is(e!.code, 'E_UNSUPPORTED_OP');
  t.regex(e!.message, /Bidirectional, Lambda/);
});

test('an input with an unknown non-batch dimension asks for --inputs, and --inputs pins it', (t) => {
  const dir = fixtureDir();
  const m = JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8'));
  m.modelTopology.model_config.config.layers[0].config.batch_input_shape = [null, null, null, 3];
  writeFileSync(join(dir, 'model.json'), JSON.stringify(m));
  const e = t.throws(() => convertModel(dir), { instanceOf: KilnError });
  t.is(e!.code, 'E_SHAPE');
  t.regex(e!.hint!, /--inputs image:1,N,N,3/);
  const res = convertModel(dir, { inputs: [{ name: 'image', shape: [1, 20, 20, 3] }] });
  t.deepEqual(res.inputs[0]!.shape, [1, 20, 20, 3]);
});

test('--outputs picks an inner layer as the output', (t) => {
  const res = convertModel(fixtureDir(), { outputs: ['gap'] });
  t.deepEqual(
    res.outputs.map((o) => [o.name, o.shape]),
    [['gap', [1, 6]]],
  );
  t.is(res.ops['FULLY_CONNECTED'] ?? 0, 0);
});

test('Keras configs: Sequential (list and dict forms) and Keras 3 inbound nodes parse to the same graph', (t) => {
  const dense = { class_name: 'Dense', config: { name: 'd', units: 2, batch_input_shape: [null, 4] } };
  const a = parseKerasModel({ class_name: 'Sequential', config: [dense] });
  const b = parseKerasModel({ class_name: 'Sequential', config: { name: 's', layers: [dense] } });
  t.deepEqual(
    a.layers.map((l) => [l.className, l.name, l.inbound]),
    b.layers.map((l) => [l.className, l.name, l.inbound]),
  );
  t.deepEqual(
    a.layers.map((l) => l.className),
    ['InputLayer', 'Dense'],
  );
  const k3 = parseKerasModel({
    class_name: 'Functional',
    config: {
      name: 'f',
      layers: [
        { class_name: 'InputLayer', name: 'in', config: { name: 'in', batch_shape: [null, 4] }, inbound_nodes: [] },
        {
          class_name: 'Dense',
          name: 'd1',
          config: { name: 'd1', units: 3 },
          inbound_nodes: [
            { args: [{ class_name: '__keras_tensor__', config: { keras_history: ['in', 0, 0] } }], kwargs: {} },
          ],
        },
        {
          class_name: 'Add',
          name: 'sum',
          config: { name: 'sum' },
          inbound_nodes: [
            {
              args: [
                [
                  { class_name: '__keras_tensor__', config: { keras_history: ['d1', 0, 0] } },
                  { class_name: '__keras_tensor__', config: { keras_history: ['d1', 0, 0] } },
                ],
              ],
              kwargs: {},
            },
          ],
        },
      ],
      input_layers: ['in', 0, 0],
      output_layers: ['sum', 0, 0],
    },
  });
  t.deepEqual(k3.inputs, [{ layer: 'in', node: 0, tensor: 0 }]);
  t.deepEqual(k3.layers[2]!.inbound, [
    [
      { layer: 'd1', node: 0, tensor: 0 },
      { layer: 'd1', node: 0, tensor: 0 },
    ],
  ]);
});

test('a model nested in a Sequential (transfer-learning style) is inlined and matches tfjs', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'kiln-nested-'));
  const conv = {
    class_name: 'Conv2D',
    name: 'c1',
    config: {
      name: 'c1',
      filters: 4,
      kernel_size: [3, 3],
      strides: [1, 1],
      padding: 'valid',
      activation: 'relu',
      use_bias: true,
    },
    inbound_nodes: [[['in', 0, 0, {}]]],
  };
  const base = {
    class_name: 'Model',
    config: {
      name: 'base',
      layers: [
        {
          class_name: 'InputLayer',
          name: 'in',
          config: { name: 'in', batch_input_shape: [null, 6, 6, 2], dtype: 'float32' },
          inbound_nodes: [],
        },
        conv,
      ],
      input_layers: [['in', 0, 0]],
      output_layers: [['c1', 0, 0]],
    },
  };
  const topology = {
    class_name: 'Sequential',
    config: {
      name: 'outer',
      layers: [
        base,
        { class_name: 'GlobalAveragePooling2D', config: { name: 'gap' } },
        { class_name: 'Dense', config: { name: 'head', units: 3, activation: 'sigmoid', use_bias: true } },
      ],
    },
  };
  const w = [
    ['c1/kernel', [3, 3, 2, 4]],
    ['c1/bias', [4]],
    ['head/kernel', [4, 3]],
    ['head/bias', [3]],
  ] as const;
  const data = w.map(([, s]) =>
    Float32Array.from({ length: s.reduce((a: number, b: number) => a * b, 1) }, (_v, i) =>
      Math.sin(i * 0.7 + s.length),
    ),
  );
  writeFileSync(join(dir, 'w.bin'), Buffer.concat(data.map((d) => Buffer.from(d.buffer))));
  writeFileSync(
    join(dir, 'model.json'),
    JSON.stringify({
      modelTopology: topology,
      weightsManifest: [{ paths: ['w.bin'], weights: w.map(([name, shape]) => ({ name, shape, dtype: 'float32' })) }],
    }),
  );
  const res = convertModel(dir);
  t.deepEqual(
    res.inputs.map((i) => i.shape),
    [[1, 6, 6, 2]],
  );
  t.deepEqual(res.ops, { CONV_2D: 1, MEAN: 1, FULLY_CONNECTED: 1, LOGISTIC: 1 });
  const p = await parity(res, 5);
  t.true(p.outputs[0]!.oracle <= tolerance(p.outputs[0]!), `error ${p.outputs[0]!.oracle}`);
});
