import test from 'ava';
import { LIMITS } from '../../shared/toolchain/edgetpu/limits.js';
import {
  BUILTIN_KERNEL_FUNCTIONS,
  CUSTOM_KERNEL_FUNCTIONS,
} from '../../shared/toolchain/interpreter/kernels/registry.js';
import { OP_OPTIONS } from '../../shared/toolchain/ir/op-options.js';
import { hasShapeRule } from '../../shared/toolchain/ir/shape-inference.js';
import { TF_OPS } from '../../shared/toolchain/loaders/graphdef/ops.js';
import { KERAS_LAYERS } from '../../shared/toolchain/loaders/keras/layers.js';
import { CONTROL_FLOW_OPS } from '../../shared/toolchain/loaders/onnx/control-flow.js';
import { ONNX_OPS } from '../../shared/toolchain/loaders/onnx/ops.js';
import { TRAINING_OPS } from '../../shared/toolchain/loaders/onnx/ops/optimizers.js';
import { CUSTOM_OPS, NO_OP_SOURCES, OPS } from '../../shared/toolchain/ops/catalog.js';
import type { OpSpec } from '../../shared/toolchain/ops/types.js';
import { BuiltinOperator } from '../../shared/toolchain/tflite/schema.js';
import { MAC_RULES } from '../../shared/toolchain/verify/latency/macs.js';
import {
  checkArity,
  checkEdgeTpu,
  checkFrontEnds,
  checkKernels,
  checkMacs,
  checkNames,
  checkQuantCoverage,
  checkShapes,
  checkSubset,
  checkVersions,
  checkWeights,
} from './catalog-checks.js';

const BUILTINS = Object.keys(BuiltinOperator).filter((k) => Number.isNaN(Number(k)));
// the ONNX front end converts control flow outside its op table (its bodies' nodes go through the table), and the
// training domain's optimizers from their own
const ONNX_CONVERTED = {
  ...ONNX_OPS,
  ...TRAINING_OPS,
  ...Object.fromEntries([...CONTROL_FLOW_OPS].map((op) => [op, () => []])),
};
const FRONT_ENDS = { tf: TF_OPS, keras: KERAS_LAYERS, onnx: ONNX_CONVERTED };

/** Ops the Edge TPU maps that Kiln's quantizer cannot produce in int8 yet (a float model with them needs fallback). */
const INT8_GAPS: Readonly<Record<string, string>> = {
  QUANTIZE: 'inserted by the quantizer itself (boundary op), never quantized from float',
  REDUCE_MAX: 'no int8 rule yet',
  REDUCE_MIN: 'no int8 rule yet',
  RSQRT: 'no int8 rule yet',
  SUM: 'no int8 rule yet',
  TILE: 'no int8 rule yet',
  TRANSPOSE_CONV: 'no int8 rule yet',
  UNIDIRECTIONAL_SEQUENCE_LSTM: 'no int8 rule yet (integer LSTM needs its own rule)',
};

/** Version disagreements between tables, kept visible until one side is settled. */
const VERSION_DISAGREEMENTS: Readonly<Record<string, string>> = {
  RELU_N1_TO_1:
    'the int8 kernel is v2 (TFLite versioning) but the Edge TPU row says v1 [inferred: the spec has no version column for it]',
};

const ok = (t: { deepEqual: (a: unknown, b: unknown, m?: string) => void }, problems: string[]): void =>
  t.deepEqual(problems, [], problems.join('\n'));

test('every catalog op is a TFLite builtin', (t) => ok(t, checkNames(OPS, BUILTINS)));

test('the interpreter registry has a kernel exactly for the ops the catalog gives a kernel version', (t) =>
  ok(t, checkKernels(OPS, CUSTOM_OPS, BUILTIN_KERNEL_FUNCTIONS, CUSTOM_KERNEL_FUNCTIONS)));

test('shape inference has a rule exactly for the ops the catalog names one for', (t) =>
  ok(t, checkShapes(OPS, BUILTINS, hasShapeRule)));

test('the inputs the stages read are within the arity the validator guarantees', (t) => ok(t, checkArity(OPS)));

test('op versions agree between quantizer, interpreter, Edge TPU and the compiler’s TFLite', (t) =>
  ok(t, checkVersions(OPS, VERSION_DISAGREEMENTS)));

test('every op the Edge TPU maps has an int8 rule, apart from the listed gaps', (t) =>
  ok(t, checkQuantCoverage(OPS, INT8_GAPS)));

test('int8 rule, parameter layout and MAC rule read the weights from the same input', (t) => ok(t, checkWeights(OPS)));

test('Edge TPU limitations exist and are all used; mapped ops have no CPU alternative', (t) =>
  ok(t, checkEdgeTpu(OPS, LIMITS)));

test('MAC rules named by the catalog exist and are all used', (t) => ok(t, checkMacs(OPS, MAC_RULES)));

test('the TF, Keras and ONNX op tables agree with the catalog’s `from`, both ways', (t) =>
  ok(t, checkFrontEnds(OPS, NO_OP_SOURCES, FRONT_ENDS)));

test('the builtin options table holds only catalog ops', (t) => ok(t, checkSubset(OPS, OP_OPTIONS, 'OP_OPTIONS')));

const edit = (op: string, change: Partial<OpSpec>): Record<string, OpSpec> => ({
  ...OPS,
  [op]: { ...OPS[op]!, ...change },
});

test('a broken catalog entry fails the checks, naming the op and the table', (t) => {
  t.deepEqual(checkNames({ ...OPS, NOT_AN_OP: {} }, BUILTINS), ['NOT_AN_OP: not a TFLite builtin operator']);

  const noKernel = edit('ADD', { kernel: undefined });
  t.deepEqual(checkKernels(noKernel, CUSTOM_OPS, BUILTIN_KERNEL_FUNCTIONS, CUSTOM_KERNEL_FUNCTIONS), [
    'ADD: the interpreter registry has a kernel but the catalog gives no `kernel` version',
  ]);
  t.deepEqual(
    checkKernels(edit('ZEROS_LIKE', { kernel: 1 }), CUSTOM_OPS, BUILTIN_KERNEL_FUNCTIONS, CUSTOM_KERNEL_FUNCTIONS),
    ['ZEROS_LIKE: the catalog gives kernel v1 but the interpreter registry has no kernel'],
  );

  // The derived rule table follows the catalog, so compare against a rule lookup that lacks one.
  t.deepEqual(
    checkShapes(OPS, BUILTINS, (op) => op !== 'TILE' && hasShapeRule(op)),
    ['TILE: the catalog names shape rule "tile" but shape inference has none'],
  );

  t.deepEqual(checkArity(edit('CONV_2D', { arity: [1, 1] })), [
    'CONV_2D: quant weights is input 1, but the arity guarantees only 1 inputs',
    'CONV_2D: params weights is input 1, but the arity guarantees only 1 inputs',
    'CONV_2D: macs weights is input 1, but the arity guarantees only 1 inputs',
  ]);

  const conv = OPS['CONV_2D']!;
  t.deepEqual(checkVersions(edit('CONV_2D', { quant: { ...conv.quant!, version: 4 } }), VERSION_DISAGREEMENTS), [
    'CONV_2D: the quantizer writes v4 but the Edge TPU maps up to v3',
  ]);
  t.deepEqual(checkVersions(OPS, { ...VERSION_DISAGREEMENTS, ADD: 'stale' }), [
    'ADD: listed as a known version disagreement, but the catalog agrees now',
  ]);

  t.deepEqual(checkQuantCoverage(edit('MUL', { quant: undefined }), INT8_GAPS), [
    'MUL: the Edge TPU maps it but the catalog gives no int8 rule (`quant`)',
  ]);

  t.deepEqual(checkWeights(edit('DEPTHWISE_CONV_2D', { params: 'data' })), [
    'DEPTHWISE_CONV_2D: int8 weights are input 1, the parameter layout says none',
    'DEPTHWISE_CONV_2D: the MAC rule reads weights from input 1, the parameter layout says none',
  ]);

  const sm = OPS['SOFTMAX']!;
  t.deepEqual(checkEdgeTpu(edit('SOFTMAX', { edgetpu: { ...sm.edgetpu!, limits: [] } }), LIMITS), [
    'limitation "softmaxSize": no op of the catalog uses it',
  ]);

  t.deepEqual(checkMacs(edit('FULLY_CONNECTED', { macs: undefined, params: 'data' }), MAC_RULES), [
    'MAC rule "fc": no op of the catalog uses it',
  ]);

  const tile = OPS['TILE']!;
  t.deepEqual(checkFrontEnds(edit('TILE', { from: { ...tile.from, keras: ['Tile'] } }), NO_OP_SOURCES, FRONT_ENDS), [
    'TILE: from keras "Tile", which the keras front end has no converter for',
  ]);
  t.deepEqual(checkFrontEnds(OPS, NO_OP_SOURCES, { ...FRONT_ENDS, tf: { ...TF_OPS, Erf: () => [] } }), [
    'tf "Erf": the front end converts it, but no catalog op names it in `from.tf`',
  ]);

  const { GELU: _gelu, ...withoutGelu } = OPS;
  t.deepEqual(checkSubset(withoutGelu, { GELU: 1 }, 'OP_OPTIONS'), ['GELU: in OP_OPTIONS but not in the op catalog']);
});
