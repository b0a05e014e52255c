import test from 'ava';
import { expectSameAsTflite } from '../interpreter/oracle-compare.js';
import { bothRuntimes, convertOnnx, onnxGraph } from './helpers/onnx-graph.js';

const x = { name: 'x', type: 'uint8' as const, dims: [4, 10] };
const y = { name: 'y', type: 'uint8' as const, dims: [10] };
const z = { name: 'z', type: 'uint8' as const, dims: [4, 10] };
const model = (direction: string): Uint8Array =>
  onnxGraph({
    opset: 11,
    nodes: [{ op: 'BitShift', inputs: ['x', 'y'], outputs: ['z'], attrs: { direction } }],
    inputs: [x, y],
    outputs: [z],
  });
// values with high bits set (a left shift must wrap), shifts 0 to 9 (8 and 9 shift everything out), broadcast over rows
const feeds = [
  { ...x, values: Array.from({ length: 40 }, (_v, i) => (i * 37 + 11) % 256) },
  { ...y, values: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9] },
];

for (const direction of ['LEFT', 'RIGHT'])
  test(`BitShift ${direction} on uint8 (broadcast, wrapping, shifts past 7) as onnxruntime`, async (t) => {
    const { want, got } = await bothRuntimes(model(direction), feeds, [z]);
    t.deepEqual(Array.from(got[0]!), Array.from(want[0]!));
    t.true(Array.from(want[0]!).some((v, i) => v !== feeds[0]!.values[i]));
  });

test("Kiln's interpreter runs the converted BitShift like the TFLite runtime", async (t) => {
  for (const direction of ['LEFT', 'RIGHT'])
    await expectSameAsTflite(t, convertOnnx(model(direction)), { exact: true });
});

test('BitShift on int32 is refused, naming the type', (t) => {
  const i = { name: 'x', type: 'int32' as const, dims: [3] };
  const e = t.throws(() =>
    convertOnnx(
      onnxGraph({
        opset: 11,
        nodes: [{ op: 'BitShift', inputs: ['x', 'x'], outputs: ['z'], attrs: { direction: 'LEFT' } }],
        inputs: [i],
        outputs: [{ ...i, name: 'z' }],
      }),
    ),
  );
  t.regex(e.message, /BitShift.*shifts int32; of the unsigned types TFLite computes on uint8 only/);
});
