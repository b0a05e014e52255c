import test from 'ava';
import { checkQuantized } from '../../shared/toolchain/edgetpu/precheck.js';
import { ModelBuilder } from '../../shared/toolchain/ir/builder.js';
import { feedInput } from '../../shared/toolchain/data/feed.js';
import { quantizeModel } from '../../shared/toolchain/quantize/quantize-model.js';
import { rng } from '../helpers/models.js';

/** model_multi_output's shape, built here: int32 x, y → x·y·k (int32), and y passed straight through to an output. */
function integerOnly() {
  const b = new ModelBuilder();
  const x = b.input('x', [], 'int32');
  const y = b.input('y', [], 'int32');
  const m = b.binary('MUL', b.binary('MUL', x, y), b.constant('k', 'int32', [], [3]));
  b.output(m, y);
  return b.build();
}

/** A float image path next to an int32 passthrough: the float part quantizes, the int32 input/output stays. */
function mixedInputs() {
  const r = rng(9);
  const b = new ModelBuilder();
  const img = b.input('img', [1, 4, 4, 2]);
  const ids = b.input('ids', [1, 3], 'int32');
  const c = b.conv2d(
    img,
    b.constant(
      'w',
      'float32',
      [2, 1, 1, 2],
      Float32Array.from({ length: 4 }, () => r() - 0.5),
    ),
    b.constant('b', 'float32', [2], Float32Array.of(0, 0.1)),
  );
  b.output(c, ids);
  return b.build();
}

test('an integer-only model with an input passed through quantizes without a crash and compiles to a clear refusal', async (t) => {
  const { model, report } = await quantizeModel(integerOnly(), { debugSamples: 4, threads: 1 });
  const g = model.graph;
  t.deepEqual(
    g.outputs.map((o) => g.tensor(o).dtype),
    ['int32', 'int32'],
  );
  t.is(g.outputs[1], g.inputs[1]);
  t.deepEqual(report.layers, []);
  t.is(report.debugSamples, 4);
  const f = checkQuantized('m.tflite', model);
  t.is(f?.code, 'E_UNSUPPORTED_TYPE');
  t.regex(f!.message, /computes only on integers \(int32 tensors, no float values\)/);
});

test('the debugger feeds an int32 input as integers next to a quantized one', async (t) => {
  const { model, report } = await quantizeModel(mixedInputs(), {
    samples: Array.from({ length: 4 }, (_v, s) => [
      Float32Array.from({ length: 32 }, (_w, i) => Math.sin(i + s)),
      Float32Array.of(1, 2, 3 + s),
    ]),
    sampleSource: 'npy',
    debugSamples: 4,
    threads: 1,
  });
  const g = model.graph;
  t.deepEqual(
    g.inputs.map((i) => g.tensor(i).dtype),
    ['uint8', 'int32'],
  );
  t.is(g.tensor(g.outputs[1]!).dtype, 'int32');
  t.true(report.layers.length > 0);
  t.true(
    report.layers.every((l) => l.snrDb > 25),
    JSON.stringify(report.layers),
  );
  const fed = feedInput(g.tensor(g.inputs[1]!), Float32Array.of(1, 2.9, -4));
  t.true(fed instanceof Int32Array);
  t.deepEqual(Array.from(fed as Int32Array), [1, 2, -4]);
});
