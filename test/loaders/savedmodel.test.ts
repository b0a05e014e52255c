import test from 'ava';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KilnError } from '../../shared/common/errors.js';
import { convertModel } from '../../shared/toolchain/loaders/convert.js';
import { readTable, snappyDecompress, TensorBundle } from '../../shared/toolchain/loaders/graphdef/tensor-bundle.js';
import { toFloat32 } from '../../shared/toolchain/loaders/tensor.js';
import { parity, tolerance } from './helpers/parity.js';
import { bundle, writeSavedModel } from './helpers/savedmodel-fixture.js';
import { snappyLike, writeTable } from './helpers/table.js';

const bytes = (s: string): Uint8Array => new TextEncoder().encode(s);

test('a LevelDB-format table reads back with prefix-compressed keys over several blocks', (t) => {
  const entries: [string, Uint8Array][] = ['alpha', 'alphabet', 'alpine', 'beta', 'betamax', 'gamma'].map((k, i) => [
    k,
    bytes(`v${i}`),
  ]);
  const table = readTable(writeTable(entries, 2), 'test.index');
  t.deepEqual([...table.keys()], ['alpha', 'alphabet', 'alpine', 'beta', 'betamax', 'gamma']);
  t.is(new TextDecoder().decode(table.get('alpine')), 'v2');
  const snappy = readTable(writeTable(entries, 3, snappyLike), 'test.index');
  t.is(new TextDecoder().decode(snappy.get('gamma')), 'v5');
});

test('snappy copies (back-references) decompress, and corrupt input is refused', (t) => {
  // "abcdabcdabcd": literal "abcd" then a copy of 8 bytes at offset 4 (tag kind 1: len 8 → ((8−4)<<2)|1, offset 4)
  const src = Uint8Array.from([12, (4 - 1) << 2, 97, 98, 99, 100, ((8 - 4) << 2) | 1, 4]);
  t.is(new TextDecoder().decode(snappyDecompress(src, 'x')), 'abcdabcdabcd');
  t.throws(() => snappyDecompress(Uint8Array.from([12, ((8 - 4) << 2) | 1, 9]), 'x'), { instanceOf: KilnError });
  t.throws(() => readTable(new Uint8Array(100), 'bad.index'), { message: /no table magic/ });
});

test('TensorBundle: entries locate tensors in the data shard; a missing shard is named', (t) => {
  const w = new Float32Array([1, 2, 3, 4, 5, 6]);
  const b = bundle({
    'w/.ATTRIBUTES/VARIABLE_VALUE': { dtype: 'DT_FLOAT', shape: [2, 3], data: new Uint8Array(w.buffer) },
    'n/.ATTRIBUTES/VARIABLE_VALUE': { dtype: 'DT_INT32', shape: [], data: new Uint8Array(new Int32Array([7]).buffer) },
  });
  const tb = TensorBundle.read(b.index, (s) => (s === 'data-00000-of-00001' ? b.data : undefined), 'variables.index');
  const got = tb.get('w/.ATTRIBUTES/VARIABLE_VALUE')!;
  t.deepEqual(got.shape, [2, 3]);
  t.deepEqual(Array.from(toFloat32(got)), [1, 2, 3, 4, 5, 6]);
  t.is(tb.get('n/.ATTRIBUTES/VARIABLE_VALUE')!.dtype, 'int32');
  const missing = TensorBundle.read(b.index, () => undefined, 'variables.index');
  t.throws(() => missing.get('w/.ATTRIBUTES/VARIABLE_VALUE'), { message: /shard 0 is missing/ });
});

test('a SavedModel: functions inlined, variables bound from the checkpoint, signature names kept; matches tfjs', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'kiln-savedmodel-'));
  const { w, b } = writeSavedModel(dir, { withVariables: true });
  const res = convertModel(dir);
  t.is(res.format, 'savedmodel');
  t.deepEqual(res.inputs, [{ name: 'serving_default_x', dtype: 'float32', shape: [1, 4] }]);
  t.deepEqual(res.outputs, [{ name: 'dense', dtype: 'float32', shape: [1, 3] }]);
  t.deepEqual(res.ops, { FULLY_CONNECTED: 1 });
  const fc = res.model.graph.ops[0]!;
  t.is((fc.options as { fusedActivationFunction: number }).fusedActivationFunction, 1 /* RELU */);
  const bias = res.model.graph.tensor(fc.inputs[2]!);
  t.deepEqual(Array.from(new Float32Array(bias.data!.slice().buffer)), Array.from(b));
  const weights = new Float32Array(res.model.graph.tensor(fc.inputs[1]!).data!.slice().buffer);
  t.is(weights[1], w[3]); // [out, in] layout: weights[0][1] = w[1][0]
  const p = await parity(res, 5);
  t.true(p.outputs[0]!.oracle <= tolerance(p.outputs[0]!));
});

test('a SavedModel without its variables folder is refused with what to upload', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'kiln-savedmodel-'));
  writeSavedModel(dir, { withVariables: false });
  const e = t.throws(() => convertModel(dir), { instanceOf: KilnError });
  t.regex(e!.message, /no variables\/variables.index/);
});

test('an unknown signature is refused listing the ones there are', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'kiln-savedmodel-'));
  writeSavedModel(dir, { withVariables: true });
  const e = t.throws(() => convertModel(dir, { signature: 'predict' }), { instanceOf: KilnError });
  t.regex(e!.hint!, /serving_default/);
});
