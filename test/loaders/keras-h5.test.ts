import test from 'ava';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KilnError } from '../../shared/common/errors.js';
import { convertModel, toTfliteBytes } from '../../shared/toolchain/loaders/convert.js';
import { TfliteRuntime } from '../../shared/toolchain/runtime/tflite-runtime.js';
import { writeKeras2H5, writeKeras3 } from './helpers/h5-fixture.js';
import { parity, tolerance } from './helpers/parity.js';

const dir = (): string => mkdtempSync(join(tmpdir(), 'kiln-keras-'));

test('a Keras 2 full-model .h5 (model_config + model_weights) converts and matches the model in tfjs', async (t) => {
  const p = join(dir(), 'model.h5');
  await writeKeras2H5(p);
  const res = convertModel(p);
  t.is(res.format, 'keras-h5');
  t.deepEqual(
    res.outputs.map((o) => o.shape),
    [[1, 5]],
  );
  const r = await parity(res, 5);
  for (const o of r.outputs) {
    t.true(o.range > 0.05);
    t.true(o.oracle <= tolerance(o), `TFLite runtime error ${o.oracle}`);
    if (o.interpreter !== null) t.true(o.interpreter <= tolerance(o), `interpreter error ${o.interpreter}`);
  }
});

test('a Keras 3 .keras archive converts to the same function as the .h5 of the same weights', async (t) => {
  const d = dir();
  await writeKeras2H5(join(d, 'model.h5'));
  await writeKeras3(join(d, 'model.keras'));
  const a = convertModel(join(d, 'model.h5'));
  const b = convertModel(join(d, 'model.keras'));
  t.is(b.format, 'keras-v3');
  t.is(b.packaging, 'zip');
  t.deepEqual(b.ops, a.ops);
  const x = Float32Array.from({ length: 12 * 12 * 3 }, (_v, i) => Math.cos(i));
  const outs: Float32Array[] = [];
  for (const m of [a, b]) {
    const rt = await TfliteRuntime.load(toTfliteBytes(m.model));
    outs.push(new Float32Array((await rt.run([new Uint8Array(x.buffer)]))[0]!.bytes.slice().buffer));
    rt.close();
  }
  outs[0]!.forEach((v, i) => t.true(Math.abs(v - outs[1]![i]!) < 1e-6, `${v} vs ${outs[1]![i]}`));
});

test('an .h5 with weights only (model.save_weights) is refused with what to save instead', async (t) => {
  const p = join(dir(), 'weights.h5');
  await writeKeras2H5(p, { withConfig: false });
  const e = t.throws(() => convertModel(p), { instanceOf: KilnError });
  t.regex(e!.message, /weights only/);
  t.regex(e!.hint!, /model\.save/);
});
