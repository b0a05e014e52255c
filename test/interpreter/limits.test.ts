import test from 'ava';
import { isKilnError } from '../../shared/common/errors.js';
import { Interpreter } from '../../shared/toolchain/interpreter/index.js';
import { fromTflite } from '../../shared/toolchain/ir/from-tflite.js';
import { tinyCnnTflite } from '../../shared/toolchain/samples/tiny-cnn.js';
import { readTflite } from '../../shared/toolchain/tflite/reader.js';
import { writeTflite } from '../../shared/toolchain/tflite/writer.js';

// Found by the fuzzer: a mutated input shape made the interpreter allocate (and fill) gigabytes.
test('tensors over the interpreter memory cap are refused before anything is allocated', (t) => {
  const m = readTflite(tinyCnnTflite());
  m.subgraphs[0]!.tensors[0]!.shape = [1, 6000, 6000, 2];
  const ir = fromTflite(readTflite(writeTflite(m)));
  const e = t.throws(() => new Interpreter(ir, { maxTensorBytes: 64 * 1024 * 1024 }));
  t.true(isKilnError(e));
  t.regex(e!.message, /needs more than 67108864 bytes of tensors \(at image \[1,6000,6000,2\]\)/);
});

// Found by the fuzzer: kernels that met inconsistent operands threw raw Errors ("no tensor -1").
test('an operator whose operands do not fit its kind is named in a KilnError', (t) => {
  const m = readTflite(tinyCnnTflite());
  // the conv filter's shape no longer matches the input's channels
  m.subgraphs[0]!.tensors[1]!.shape = [4, 3, 3, 2];
  const ir = fromTflite(m);
  ir.graph.tensor(1).shape = [4, 3, 2, 3];
  const e = t.throws(() => new Interpreter(ir).run([new Float32Array(72)]));
  t.true(isKilnError(e), String(e));
  t.regex(e!.message, /CONV_2D/);
});
