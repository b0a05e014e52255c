import test from 'ava';
import { KilnError } from '../../shared/common/errors.js';
import { ModelBuilder } from '../../shared/toolchain/ir/builder.js';
import { Interpreter } from '../../shared/toolchain/interpreter/index.js';

test('capture returns every activation by tensor id, and timings one entry per op', (t) => {
  const b = new ModelBuilder();
  const x = b.input('x', [1, 3]);
  const h = b.unary('RELU', x);
  const y = b.binary('MUL', h, b.constant('k', 'float32', [1], [2]));
  b.output(y);
  const interp = new Interpreter(b.build());
  const r = interp.run([Float32Array.from([-1, 0.5, 2])], { capture: true, timings: true });
  t.deepEqual(Array.from(r.tensors!.get(h)!.data as Float32Array), [0, 0.5, 2]);
  t.deepEqual(Array.from(r.outputs[0]!.data as Float32Array), [0, 1, 4]);
  t.deepEqual(Array.from(r.tensors!.get(x)!.data as Float32Array), [-1, 0.5, 2]);
  t.deepEqual(
    r.timings!.map((e) => e.type),
    ['RELU', 'MUL'],
  );
});

test('an unsupported op or op version is refused when the interpreter is built, naming both', (t) => {
  const b = new ModelBuilder();
  const x = b.input('x', [4]);
  b.output(b.op('CUSTOM', [x], {}, { customCode: 'MyOp', outputs: [{ dtype: 'float32', shape: [4] }] })[0]!);
  const e = t.throws(() => new Interpreter(b.build()), { instanceOf: KilnError });
  t.is(e.code, 'E_UNSUPPORTED_OP');
  t.regex(e.message, /CUSTOM:MyOp .*version 1/);
  const b2 = new ModelBuilder();
  b2.output(b2.unary('HARD_SWISH', b2.input('x', [4]), undefined));
  b2.g.ops[0]!.version = 9;
  const e2 = t.throws(() => new Interpreter(b2.build()), { instanceOf: KilnError });
  t.regex(e2.message, /HARD_SWISH up to version 1, not HARD_SWISH .*version 9/);
});

test('inputs of the wrong size are a bad-argument error', (t) => {
  const b = new ModelBuilder();
  b.output(b.unary('RELU', b.input('x', [4])));
  const e = t.throws(() => new Interpreter(b.build()).run([new Float32Array(3)]), { instanceOf: KilnError });
  t.is(e.code, 'E_BAD_ARGUMENT');
});
