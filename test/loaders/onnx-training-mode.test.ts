import test from 'ava';
import { bothRuntimes, onnxGraph, rng, worstError } from './helpers/onnx-graph.js';

test('BatchNormalization in training mode: batch statistics and running mean/variance as onnxruntime', async (t) => {
  const r = rng(5);
  const c = (name: string) => ({ name, type: 'float32' as const, dims: [3] });
  const x = { name: 'x', type: 'float32' as const, dims: [2, 3, 4, 5] };
  const outputs = [{ ...x, name: 'y' }, c('running_mean'), c('running_var')];
  const bytes = onnxGraph({
    opset: 15,
    nodes: [
      {
        op: 'BatchNormalization',
        inputs: ['x', 's', 'b', 'm', 'v'],
        outputs: ['y', 'running_mean', 'running_var'],
        attrs: { training_mode: 1, epsilon: { f: 0.01 }, momentum: { f: 0.8 } },
      },
    ],
    inputs: [x, c('s'), c('b'), c('m'), c('v')],
    outputs,
  });
  const feeds = [
    { ...x, values: Array.from({ length: 120 }, () => 3 * r() + 2) },
    { ...c('s'), values: [1.5, 0.5, -1] },
    { ...c('b'), values: [0, 1, -2] },
    { ...c('m'), values: [0.1, 0.2, 0.3] },
    { ...c('v'), values: [1, 2, 3] },
  ];
  const { want, got } = await bothRuntimes(bytes, feeds, outputs);
  outputs.forEach((o, i) =>
    t.true(worstError(got[i]!, want[i]!) <= 1e-5, `${o.name}: ${Array.from(got[i]!)} vs ${Array.from(want[i]!)}`),
  );
});
