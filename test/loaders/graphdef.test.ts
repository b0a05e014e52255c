import test from 'ava';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KilnError } from '../../shared/common/errors.js';
import { convertModel } from '../../shared/toolchain/loaders/convert.js';
import { graphDef, node, sampleGraph } from './helpers/graphdef.js';
import { parity, tolerance } from './helpers/parity.js';

const write = (bytes: Uint8Array, name = 'frozen.pb'): string => {
  const p = join(mkdtempSync(join(tmpdir(), 'kiln-graphdef-')), name);
  writeFileSync(p, bytes);
  return p;
};

test('a frozen GraphDef converts: batch norm and bias folded, constants folded, outputs = sinks; matches tfjs', async (t) => {
  const res = convertModel(write(sampleGraph()));
  t.is(res.format, 'frozen-graph');
  t.deepEqual(res.inputs, [{ name: 'x', dtype: 'float32', shape: [1, 6, 6, 2] }]);
  t.deepEqual(
    res.outputs.map((o) => [o.name, o.shape]),
    [
      ['probs', [1, 3]],
      ['side', [1, 6, 6, 2]],
    ],
  );
  t.deepEqual(res.ops, { CONV_2D: 1, DEPTHWISE_CONV_2D: 1, MEAN: 1, MUL: 1, FULLY_CONNECTED: 1, SOFTMAX: 1, SQRT: 1 });
  const p = await parity(res, 5, (info, r) =>
    Float32Array.from({ length: info.shape.reduce((a, b) => a * b, 1) }, () => r() * 2),
  );
  for (const o of p.outputs) {
    t.true(o.range > 0);
    t.true(o.oracle <= tolerance(o), `${o.name}: TFLite runtime error ${o.oracle}, range ${o.range}`);
    if (o.interpreter !== null) t.true(o.interpreter <= tolerance(o), `${o.name}: interpreter error ${o.interpreter}`);
  }
});

test('--outputs prunes to what the outputs need; --inputs cuts at an inner node', async (t) => {
  const path = write(sampleGraph());
  const one = convertModel(path, { outputs: ['probs'] });
  t.deepEqual(
    one.outputs.map((o) => o.name),
    ['probs'],
  );
  t.is(one.ops['SQRT'] ?? 0, 0);
  const cut = convertModel(path, { inputs: [{ name: 'relu', shape: [1, 6, 6, 4] }], outputs: ['probs'] });
  t.deepEqual(cut.inputs, [{ name: 'relu', dtype: 'float32', shape: [1, 6, 6, 4] }]);
  t.is(cut.ops['CONV_2D'] ?? 0, 0);
  const p = await parity(cut, 5);
  t.true(p.outputs[0]!.oracle <= tolerance(p.outputs[0]!));
});

test('unknown node names in cut points are refused with near matches', (t) => {
  const path = write(sampleGraph());
  const e = t.throws(() => convertModel(path, { outputs: ['prob'] }), { instanceOf: KilnError });
  t.regex(e!.message, /no node "prob"/);
  t.regex(e!.hint!, /probs/);
});

test('control flow is refused, naming the ops and nodes', (t) => {
  const { placeholder, op } = node;
  const g = graphDef([
    placeholder('x', [1, 4]),
    placeholder('p', [], 'DT_BOOL'),
    op('sw', 'Switch', ['x', 'p']),
    op('a', 'Relu', ['sw']),
    op('b', 'Neg', ['sw:1']),
    op('m', 'Merge', ['a', 'b'], { N: { i: '2' } }),
  ]);
  const e = t.throws(() => convertModel(write(g)), { instanceOf: KilnError });
  t.is(e!.code, 'E_UNSUPPORTED_OP');
  t.regex(e!.message, /control flow ops.*Merge, Switch|control flow ops.*Switch, Merge/);
  t.regex(e!.message, /sw \(Switch\)/);
});

test('ops without a TFLite mapping are refused all at once', (t) => {
  const { placeholder, op } = node;
  const g = graphDef([
    placeholder('x', [1, 4]),
    op('e', 'Erfinv', ['x']),
    op('f', 'Digamma', ['e']),
    op('y', 'Relu', ['f']),
  ]);
  const e = t.throws(() => convertModel(write(g)), { instanceOf: KilnError });
  t.regex(e!.message, /unsupported ops in the model: Erfinv, Digamma/);
  t.deepEqual((e!.details as { unsupportedOps: string[] }).unsupportedOps, ['Erfinv', 'Digamma']);
});

test('int64 data flow is refused; int64 shape constants are fine', (t) => {
  const { placeholder, op, constI64 } = node;
  const g = graphDef([
    placeholder('ids', [1, 4], 'DT_INT64'),
    constI64('two', [2]),
    op('y', 'Mul', ['ids', 'two'], { T: { type: 'DT_INT64' } }),
  ]);
  const e = t.throws(() => convertModel(write(g)), { instanceOf: KilnError });
  t.is(e!.code, 'E_UNSUPPORTED_TYPE');
  t.regex(e!.message, /int64 graph: ids \(Placeholder\), y \(Mul\)/);
});

test('an input with an unknown inner dimension asks for --inputs', (t) => {
  const { placeholder, op } = node;
  const g = graphDef([placeholder('x', [-1, -1, 3]), op('y', 'Relu', ['x'])]);
  const e = t.throws(() => convertModel(write(g)), { instanceOf: KilnError });
  t.is(e!.code, 'E_SHAPE');
  t.regex(e!.hint!, /--inputs x:1,N,3/);
  t.deepEqual(convertModel(write(g), { inputs: [{ name: 'x', shape: [1, 7, 3] }] }).outputs[0]!.shape, [1, 7, 3]);
});

test('a file that is neither protobuf nor any model format is refused', (t) => {
  const e = t.throws(() => convertModel(write(new TextEncoder().encode('hello, not a model'), 'model.pb')), {
    instanceOf: KilnError,
  });
  t.is(e!.kind, 'bad-input');
});
