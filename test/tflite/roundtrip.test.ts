import test from 'ava';
import { readFileSync } from 'node:fs';
import { readTflite } from '../../shared/toolchain/tflite/reader.js';
import { writeTflite } from '../../shared/toolchain/tflite/writer.js';
import { TfliteRuntime } from '../../shared/toolchain/runtime/tflite-runtime.js';
import { haveModels, modelPath, rng, tfliteFiles } from '../helpers/models.js';

const maybe = haveModels ? test : test.skip;
const plain = tfliteFiles().filter((f) => !f.endsWith('_edgetpu.tflite'));
const compiled = tfliteFiles().filter((f) => f.endsWith('_edgetpu.tflite'));

const bigintSafe = (_k: string, v: unknown) =>
  typeof v === 'bigint' ? `${v}n` : v instanceof Uint8Array ? Array.from(v) : v;

/** Deterministic input bytes for one runtime input: uniform bytes, or floats in [-1, 1]. */
function inputBytes(dtype: string, shape: number[], seed: number): Uint8Array {
  const n = shape.reduce((a, b) => a * b, 1);
  const r = rng(seed);
  if (dtype === 'float32') return new Uint8Array(Float32Array.from({ length: n }, () => r() * 2 - 1).buffer);
  if (dtype === 'int32') return new Uint8Array(Int32Array.from({ length: n }, () => Math.floor(r() * 8)).buffer);
  return Uint8Array.from({ length: n }, () => Math.floor(r() * 256));
}

for (const file of plain) {
  maybe(`write(read(${file})) runs in the TFLite runtime with byte-identical outputs`, async (t) => {
    const original = new Uint8Array(readFileSync(modelPath(file)));
    const rewritten = writeTflite(readTflite(original));
    const a = await TfliteRuntime.load(original);
    const b = await TfliteRuntime.load(rewritten);
    try {
      t.deepEqual(b.inputs, a.inputs);
      t.deepEqual(b.outputs, a.outputs);
      for (let seed = 1; seed <= 3; seed++) {
        const inputs = a.inputs.map((i, k) => inputBytes(i.dtype, i.shape, seed * 31 + k));
        const [oa, ob] = [await a.run(inputs), await b.run(inputs)];
        oa.forEach((o, k) =>
          t.true(Buffer.from(o.bytes).equals(Buffer.from(ob[k]!.bytes)), `${file} output ${k} seed ${seed}`),
        );
      }
    } finally {
      a.close();
      b.close();
    }
  });
}

maybe('the writer keeps every field it read, and aligns constant buffers to 16 bytes', (t) => {
  for (const file of tfliteFiles()) {
    const bytes = new Uint8Array(readFileSync(modelPath(file)));
    const m = readTflite(bytes);
    const out = writeTflite(m);
    t.is(String.fromCharCode(...out.subarray(4, 8)), 'TFL3');
    const again = readTflite(out);
    t.is(JSON.stringify(again, bigintSafe), JSON.stringify(m, bigintSafe), file);
    for (const b of again.buffers)
      if (b.data.length > 0) t.is((b.data.byteOffset - out.byteOffset) % 16, 0, `${file} buffer alignment`);
  }
});

for (const file of compiled) {
  maybe(`${file}: the edgetpu-custom-op and its options survive a round trip byte for byte`, (t) => {
    const m = readTflite(new Uint8Array(readFileSync(modelPath(file))));
    const again = readTflite(writeTflite(m));
    const customs = (x: typeof m) =>
      x.subgraphs[0]!.operators.filter((op) => x.operatorCodes[op.opcodeIndex]!.customCode === 'edgetpu-custom-op').map(
        (op) => ({
          code: x.operatorCodes[op.opcodeIndex],
          inputs: op.inputs,
          outputs: op.outputs,
          options: Buffer.from(Uint8Array.from(op.customOptions)).toString('base64'),
        }),
      );
    const before = customs(m);
    t.true(before.length >= 1);
    t.deepEqual(customs(again), before);
  });
}
