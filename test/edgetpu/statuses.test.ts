import test from 'ava';
import { ModelBuilder } from '../../shared/toolchain/ir/builder.js';
import { compileModel } from '../../shared/toolchain/edgetpu/compile-model.js';
import { renderConsole } from '../../shared/toolchain/edgetpu/render.js';
import { ALL_STATUSES, ERRORS, STATUS, type Status } from '../../shared/toolchain/edgetpu/strings.js';
import { conv, input, modelInput, Q } from './helpers.js';

const compile = (model: ReturnType<ModelBuilder['build']>, o = {}) => compileModel([modelInput('m.tflite', model)], o);
const statusOf = (r: ReturnType<typeof compileModel>, i: number) => r.models[0]!.operations[i]!.status;

function divThenConv() {
  const b = new ModelBuilder();
  const x = input(b, 'x', [1, 8, 8, 3]);
  const a = conv(b, x, 3, 4, 'a');
  const d = b.binary('DIV', a, b.constant('two', 'int8', [1], [2], Q), {}, { name: 'div', dtype: 'int8', quant: Q });
  b.output(conv(b, d, 4, 4, 'after'));
  return b.build();
}

const cases: [Status, () => { r: ReturnType<typeof compileModel>; op: number }][] = [
  [
    STATUS.mapped,
    () => {
      const b = new ModelBuilder();
      b.output(conv(b, input(b, 'x', [1, 8, 8, 3]), 3, 4, 'c'));
      return { r: compile(b.build()), op: 0 };
    },
  ],
  [STATUS.moreThanOneSubgraph, () => ({ r: compile(divThenConv()), op: 2 })],
  [STATUS.notSupported, () => ({ r: compile(divThenConv()), op: 1 })],
  [
    STATUS.unspecifiedLimitation,
    () => {
      const b = new ModelBuilder();
      const y = b.pool(
        'MAX_POOL_2D',
        input(b, 'x', [1, 8, 8, 3]),
        { filter: 2, activation: 'RELU' },
        { name: 'pool', dtype: 'int8', quant: Q },
      );
      b.output(y);
      return { r: compile(b.build()), op: 0 };
    },
  ],
  [
    STATUS.unsupportedDataType,
    () => {
      const b = new ModelBuilder();
      const c = conv(b, input(b, 'x', [1, 8, 8, 3]), 3, 4, 'c');
      b.output(b.unary('DEQUANTIZE', c, { name: 'deq', dtype: 'float32', shape: [1, 8, 8, 4] }));
      return { r: compile(b.build()), op: 1 };
    },
  ],
  [
    STATUS.versionNotSupported,
    () => {
      const b = new ModelBuilder();
      const x = input(b, 'x', [1, 8, 8, 3]);
      const w = b.constant('w', 'int8', [4, 1, 1, 3], new Array(12).fill(1), Q);
      const bias = b.constant('b', 'int32', [4], [0, 0, 0, 0]);
      b.output(
        b.op(
          'CONV_2D',
          [x, w, bias],
          { strideH: 1, strideW: 1 },
          { version: 5, outputs: [{ name: 'c', dtype: 'int8', shape: [1, 8, 8, 4], quant: Q }] },
        )[0]!,
      );
      return { r: compile(b.build()), op: 0 };
    },
  ],
  [
    STATUS.unsupportedRank,
    () => {
      const b = new ModelBuilder();
      const x = input(b, 'x', [2, 8, 8, 3]);
      b.output(b.binary('ADD', x, x, {}, { name: 'sum', dtype: 'int8', quant: Q }));
      return { r: compile(b.build()), op: 0 };
    },
  ],
  [
    STATUS.paramNotConstant,
    () => {
      const b = new ModelBuilder();
      const x = input(b, 'x', [1, 16]);
      const w = input(b, 'w', [8, 16]);
      b.output(b.fullyConnected(x, w, null, {}, { name: 'fc', dtype: 'int8', shape: [1, 8], quant: Q }));
      return { r: compile(b.build()), op: 0 };
    },
  ],
  [
    STATUS.twoDOutput,
    () => {
      const b = new ModelBuilder();
      const x = input(b, 'x', [1, 4, 16]);
      const w = b.constant('w', 'int8', [8, 16], new Array(128).fill(1), Q);
      b.output(
        b.fullyConnected(x, w, null, { keepNumDims: true }, { name: 'fc', dtype: 'int8', shape: [1, 4, 8], quant: Q }),
      );
      return { r: compile(b.build()), op: 0 };
    },
  ],
];

for (const [status, make] of cases) {
  test(`an IR-built model produces the status "${status}", and an unmapped op has a reason and a fix`, (t) => {
    const { r, op } = make();
    t.is(statusOf(r, op), status);
    const e = r.models[0]!.operations[op]!;
    t.is(e.onEdgeTpu, status === STATUS.mapped);
    if (!e.onEdgeTpu) {
      t.true((e.fix ?? '').length > 20, e.fix ?? 'no fix');
      t.true(e.reason.length > 10);
    }
  });
}

test('the cases cover every status string of docs/specs/edgetpu-compiler.md §7.1', (t) => {
  t.deepEqual([...new Set(cases.map((c) => c[0]))].sort(), [...ALL_STATUSES].sort());
});

test('a fix names the layer and what to use instead', (t) => {
  const r = compile(divThenConv());
  const div = r.models[0]!.operations[1]!;
  t.regex(div.fix!, /"div"/);
  t.regex(div.fix!, /MUL/);
  const after = r.models[0]!.operations[2]!;
  t.regex(after.fix!, /op 1 \("div"\)/);
  t.regex(after.fix!, /-a/);
});

test('-m below 12 puts int8 ops under the data-type rule; runtime-13 ops are "not supported" at -m 12', (t) => {
  const b = new ModelBuilder();
  const x = b.input('x', [1, 8, 8, 3], 'uint8', ModelBuilder.quant(0.05, 128));
  const q = b.unary('QUANTIZE', x, { name: 'q', dtype: 'int8', shape: [1, 8, 8, 3], quant: Q });
  b.output(conv(b, q, 3, 4, 'c'));
  const model = b.build();
  t.is(statusOf(compile(model, { minRuntime: 11 }), 1), STATUS.unsupportedDataType);
  const r12 = compile(model, { minRuntime: 12 });
  t.is(statusOf(r12, 0), STATUS.notSupported);
  t.regex(r12.models[0]!.operations[0]!.fix!, /-m 13/);
  t.is(statusOf(compile(model), 0), STATUS.mapped);
});

test('a float→int8 QUANTIZE at the input is an unspecified limitation, not a data-type problem', (t) => {
  const b = new ModelBuilder();
  const x = b.input('x', [1, 8, 8, 3], 'float32');
  const q = b.unary('QUANTIZE', x, { name: 'q', dtype: 'int8', shape: [1, 8, 8, 3], quant: Q });
  b.output(conv(b, q, 3, 4, 'c'));
  const r = compile(b.build());
  t.is(statusOf(r, 0), STATUS.unspecifiedLimitation);
  t.is(statusOf(r, 1), STATUS.mapped);
  t.is(r.models[0]!.numEdgeTpuSubgraphs, 1);
});

// ---- model-level errors (docs/specs/edgetpu-compiler.md §7.3, compiler 16)

const consoleOf = (r: ReturnType<typeof compileModel>) => renderConsole(r, 0);

test('a float model: "Invalid model" + "Model not quantized"', (t) => {
  const b = new ModelBuilder();
  const x = b.input('x', [1, 4, 4, 1]);
  b.output(b.conv2d(x, b.constant('w', 'float32', [1, 1, 1, 1], [1]), b.constant('b', 'float32', [1], [0])));
  const r = compile(b.build());
  t.false(r.ok);
  t.is(
    consoleOf(r),
    `Edge TPU Compiler version 16.0.384591198\n${ERRORS.invalidModel('m.tflite')}\n${ERRORS.notQuantized}\n`,
  );
  t.is(r.models[0]!.failure!.code, 'E_UNSUPPORTED_TYPE');
});

test('an unparseable file and an op version unknown to the embedded TFLite: "Model could not be parsed"', (t) => {
  const bad = compileModel([{ path: 'x.tflite', bytes: new Uint8Array([1, 2, 3, 4, 84, 70, 76, 51, 0, 0, 0, 0]) }]);
  t.deepEqual(bad.models[0]!.failure!.lines, [ERRORS.invalidModel('x.tflite'), ERRORS.couldNotParse]);
  const b = new ModelBuilder();
  const x = input(b, 'x', [1, 4, 4, 2]);
  b.output(
    b.op('ADD', [x, x], {}, { version: 5, outputs: [{ name: 'a', dtype: 'int8', shape: [1, 4, 4, 2], quant: Q }] })[0]!,
  );
  const r = compile(b.build());
  t.deepEqual(r.models[0]!.failure!.lines, [
    ERRORS.opNotFound('ADD', 5),
    '',
    ERRORS.registrationFailed,
    '',
    ERRORS.invalidModel('m.tflite'),
    ERRORS.couldNotParse,
  ]);
  t.regex(ERRORS.opNotFound('ADD', 5), /^ERROR: Didn't find op for builtin opcode 'ADD' version '5'/);
});

test('dynamic shapes: the static-sized delegate error, then "Model failed in Tflite interpreter"', (t) => {
  const b = new ModelBuilder();
  const x = input(b, 'x', [1, 8, 8, 3]);
  b.g.tensor(x).shapeSignature = [-1, 8, 8, 3];
  b.output(conv(b, x, 3, 4, 'c'));
  const r = compile(b.build());
  const text = consoleOf(r);
  t.true(
    text.includes(
      `Started a compilation timeout timer of 180 seconds.\n${ERRORS.dynamicTensors}\n${ERRORS.interpreterFailed}\nCompilation child process completed within timeout period.\nCompilation failed! \n`,
    ),
  );
  t.is(r.models[0]!.failure!.code, 'E_SHAPE');
});

test('an output scale too small for RELU6: no_integer_overflow_from_quantization and the failing node', (t) => {
  const b = new ModelBuilder();
  const x = input(b, 'x', [1, 8, 8, 3]);
  const a = conv(b, x, 3, 4, 'a');
  b.output(conv(b, a, 4, 4, 'tiny', { activation: 'RELU6', outScale: 1e-10 }));
  const r = compile(b.build());
  t.deepEqual(r.models[0]!.failure!.lines, [
    ERRORS.quantOverflow,
    ERRORS.nodeFailedToPrepare(1, 'CONV_2D'),
    ERRORS.interpreterFailed,
  ]);
});

/**
 * One output row of 4096×1024 int8 (4 MiB) is more than the 3 MiB of narrow memory of all 16 tiles: no row band fits,
 * the one activation case Kiln refuses (activations.ts, rule band-too-large).
 */
function bigActivations() {
  const b = new ModelBuilder();
  const x = input(b, 'x', [1, 2, 4096, 8]);
  const a = conv(b, x, 8, 8, 'small');
  const big = conv(b, a, 8, 1024, 'big');
  b.output(conv(b, big, 1024, 4, 'last'));
  return b.build();
}

test('activations too large: "Restored original execution plan" + "large activation tensors"', (t) => {
  const r = compile(bigActivations());
  t.false(r.ok);
  t.deepEqual(r.models[0]!.failure!.lines, [ERRORS.restoredPlan, ERRORS.largeActivations]);
  t.true(consoleOf(r).endsWith('Compilation failed! \n'));
});

test('-d -k retries with a shorter Edge TPU part until it compiles and names the intermediate tensors', (t) => {
  const r = compile(bigActivations(), { searchDelegate: true, delegateSearchStep: 1 });
  t.true(r.ok);
  const m = r.models[0]!;
  t.deepEqual(
    m.attempts.map((a) => a.ops),
    [3, 2, 1],
  );
  t.deepEqual(m.intermediateTensors, ['small']);
  t.deepEqual(
    m.operations.map((o) => o.onEdgeTpu),
    [true, false, false],
  );
  const lines = consoleOf(r).split('\n');
  t.is(lines[1], 'Searching for valid delegate with step 1');
  t.is(lines[2], 'Try to compile segment with 3 ops');
  t.true(lines.includes('Intermediate tensors: small'));
  t.true(lines.includes('Compilation succeeded! '));
});
