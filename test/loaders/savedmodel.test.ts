import test from 'ava';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KilnError } from '../../shared/errors.js';
import { convertModel } from '../../shared/loaders/convert.js';
import { readTable, snappyDecompress, TensorBundle } from '../../shared/loaders/graphdef/tensor-bundle.js';
import { toFloat32 } from '../../shared/loaders/tensor.js';
import { encode, node } from './helpers/graphdef.js';
import { parity, tolerance } from './helpers/parity.js';
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

function bundle(tensors: Record<string, { dtype: string; shape: number[]; data: Uint8Array }>): {
  index: Uint8Array;
  data: Uint8Array;
} {
  const parts: Uint8Array[] = [];
  let off = 0;
  const entries: [string, Uint8Array][] = [['', encode('tensorflow.BundleHeaderProto', { numShards: 1 })]];
  for (const [k, v] of Object.entries(tensors)) {
    entries.push([
      k,
      encode('tensorflow.BundleEntryProto', {
        dtype: v.dtype,
        shape: { dim: v.shape.map((d) => ({ size: d })) },
        offset: off,
        size: v.data.length,
      }),
    ]);
    parts.push(v.data);
    off += v.data.length;
  }
  return { index: writeTable(entries, 2), data: Uint8Array.from(parts.flatMap((p) => [...p])) };
}

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

/**
 * A TF2-style SavedModel made in code: the serving signature calls a function through StatefulPartitionedCall, the
 * function reads two resource variables, and a restore function maps the variables to checkpoint keys.
 */
function writeSavedModel(dir: string, opts: { withVariables: boolean }): { w: Float32Array; b: Float32Array } {
  const w = Float32Array.from({ length: 12 }, (_v, i) => Math.sin(i + 1));
  const b = Float32Array.from([0.5, -0.25, 1]);
  const fn = (name: string, args: string[], body: object[], ret: Record<string, string>, outs = Object.keys(ret)) => ({
    signature: {
      name,
      inputArg: args.map((a) => ({ name: a, type: 'DT_FLOAT' })),
      outputArg: outs.map((o) => ({ name: o, type: 'DT_FLOAT' })),
    },
    nodeDef: body,
    ret,
  });
  const call = (name: string, f: string, input: string[]) => ({
    name,
    op: 'StatefulPartitionedCall',
    input,
    attr: { f: { func: { name: f } } },
  });
  const str = (s: string) => Buffer.from(s).toString('base64');
  const library = {
    function: [
      fn(
        '__inference_signature_wrapper_9',
        ['x', 'w_res', 'b_res'],
        [
          call('StatefulPartitionedCall', '__inference_call_5', ['x', 'w_res', 'b_res']),
          {
            name: 'Identity',
            op: 'Identity',
            input: ['StatefulPartitionedCall:output:0', '^StatefulPartitionedCall'],
            attr: { T: { type: 'DT_FLOAT' } },
          },
        ],
        { identity: 'Identity:output:0' },
      ),
      fn(
        '__inference_call_5',
        ['x', 'matmul_readvariableop_resource', 'add_readvariableop_resource'],
        [
          {
            name: 'MatMul/ReadVariableOp',
            op: 'ReadVariableOp',
            input: ['matmul_readvariableop_resource'],
            attr: { dtype: { type: 'DT_FLOAT' } },
          },
          {
            name: 'MatMul',
            op: 'MatMul',
            input: ['x', 'MatMul/ReadVariableOp:value:0'],
            attr: { T: { type: 'DT_FLOAT' }, transpose_a: { b: false }, transpose_b: { b: false } },
          },
          {
            name: 'add/ReadVariableOp',
            op: 'ReadVariableOp',
            input: ['add_readvariableop_resource'],
            attr: { dtype: { type: 'DT_FLOAT' } },
          },
          {
            name: 'add',
            op: 'AddV2',
            input: ['MatMul:product:0', 'add/ReadVariableOp:value:0'],
            attr: { T: { type: 'DT_FLOAT' } },
          },
          { name: 'Relu', op: 'Relu', input: ['add:z:0'], attr: { T: { type: 'DT_FLOAT' } } },
          { name: 'Identity', op: 'Identity', input: ['Relu:activations:0'], attr: { T: { type: 'DT_FLOAT' } } },
        ],
        { identity: 'Identity:output:0' },
      ),
      fn(
        '__inference__traced_restore_20',
        ['file_prefix', 'assignvariableop_w', 'assignvariableop_1_b'],
        [
          {
            name: 'RestoreV2/tensor_names',
            op: 'Const',
            attr: {
              dtype: { type: 'DT_STRING' },
              value: {
                tensor: {
                  dtype: 'DT_STRING',
                  tensorShape: { dim: [{ size: 2 }] },
                  stringVal: [str('layer/w/.ATTRIBUTES/VARIABLE_VALUE'), str('layer/b/.ATTRIBUTES/VARIABLE_VALUE')],
                },
              },
            },
          },
          {
            name: 'RestoreV2/shape_and_slices',
            op: 'Const',
            attr: {
              dtype: { type: 'DT_STRING' },
              value: { tensor: { dtype: 'DT_STRING', tensorShape: { dim: [{ size: 2 }] }, stringVal: ['', ''] } },
            },
          },
          {
            name: 'RestoreV2',
            op: 'RestoreV2',
            input: ['file_prefix', 'RestoreV2/tensor_names:output:0', 'RestoreV2/shape_and_slices:output:0'],
          },
          { name: 'Identity', op: 'Identity', input: ['RestoreV2:tensors:0'] },
          { name: 'AssignVariableOp', op: 'AssignVariableOp', input: ['assignvariableop_w', 'Identity:output:0'] },
          { name: 'Identity_1', op: 'Identity', input: ['RestoreV2:tensors:1'] },
          {
            name: 'AssignVariableOp_1',
            op: 'AssignVariableOp',
            input: ['assignvariableop_1_b', 'Identity_1:output:0'],
          },
          { name: 'Identity_2', op: 'Identity', input: ['file_prefix', '^AssignVariableOp', '^AssignVariableOp_1'] },
        ],
        { identity_2: 'Identity_2:output:0' },
      ),
    ],
  };
  const nodes = [
    {
      name: 'w',
      op: 'VarHandleOp',
      attr: {
        dtype: { type: 'DT_FLOAT' },
        shape: { shape: { dim: [{ size: 4 }, { size: 3 }] } },
        shared_name: { s: str('w') },
      },
    },
    {
      name: 'b',
      op: 'VarHandleOp',
      attr: { dtype: { type: 'DT_FLOAT' }, shape: { shape: { dim: [{ size: 3 }] } }, shared_name: { s: str('b') } },
    },
    node.placeholder('serving_default_x', [-1, 4]),
    call('StatefulPartitionedCall', '__inference_signature_wrapper_9', ['serving_default_x', 'w', 'b']),
    node.placeholder('saver_filename', [], 'DT_STRING'),
    call('StatefulPartitionedCall_1', '__inference__traced_restore_20', ['saver_filename', 'w', 'b']),
  ];
  const sm = encode('tensorflow.SavedModel', {
    savedModelSchemaVersion: 1,
    metaGraphs: [
      {
        metaInfoDef: { tags: ['serve'], tensorflowVersion: '2.15.0' },
        graphDef: { node: nodes, library, versions: { producer: 1 } },
        signatureDef: {
          serving_default: {
            inputs: {
              x: { name: 'serving_default_x:0', dtype: 'DT_FLOAT', tensorShape: { dim: [{ size: -1 }, { size: 4 }] } },
            },
            outputs: {
              dense: {
                name: 'StatefulPartitionedCall:0',
                dtype: 'DT_FLOAT',
                tensorShape: { dim: [{ size: -1 }, { size: 3 }] },
              },
            },
            methodName: 'tensorflow/serving/predict',
          },
        },
      },
    ],
  });
  writeFileSync(join(dir, 'saved_model.pb'), sm);
  if (opts.withVariables) {
    mkdirSync(join(dir, 'variables'), { recursive: true });
    const bd = bundle({
      'layer/w/.ATTRIBUTES/VARIABLE_VALUE': { dtype: 'DT_FLOAT', shape: [4, 3], data: new Uint8Array(w.buffer) },
      'layer/b/.ATTRIBUTES/VARIABLE_VALUE': { dtype: 'DT_FLOAT', shape: [3], data: new Uint8Array(b.buffer) },
    });
    writeFileSync(join(dir, 'variables/variables.index'), bd.index);
    writeFileSync(join(dir, 'variables/variables.data-00000-of-00001'), bd.data);
  }
  return { w, b };
}

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
