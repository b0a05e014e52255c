import test from 'ava';
import { expectSameAsTflite } from '../interpreter/oracle-compare.js';
import { bothRuntimes, convertOnnx, onnxGraph } from './helpers/onnx-graph.js';

// Expand to a constant shape (what PyTorch's expand exports) is a BROADCAST_TO. TFLite 2.9 registers its builtin
// versions 2 and 3 only (version 1 was the Flex op), so a version-1 BROADCAST_TO does not load in the runtime.
const x = { name: 'x', type: 'float32' as const, dims: [3, 1] };
const y = { name: 'y', type: 'float32' as const, dims: [2, 3, 4] };
const bytes = onnxGraph({
  opset: 13,
  nodes: [{ op: 'Expand', inputs: ['x', 'shape'], outputs: ['y'] }],
  inits: [{ name: 'shape', type: 'int64', dims: [3], values: [2, 1, 4] }],
  inputs: [x],
  outputs: [y],
});

test('Expand to a constant shape is a BROADCAST_TO the TFLite runtime loads, and runs as onnxruntime', async (t) => {
  const ops = convertOnnx(bytes).graph.ops;
  t.deepEqual(
    ops.map((o) => `${o.type} v${o.version}`),
    ['BROADCAST_TO v2'],
  );
  const { want, got } = await bothRuntimes(bytes, [{ ...x, values: [1.5, -2, 3] }], [y]);
  t.deepEqual(Array.from(got[0]!), Array.from(want[0]!));
  await expectSameAsTflite(t, convertOnnx(bytes), { exact: true });
});
