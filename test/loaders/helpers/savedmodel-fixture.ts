import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { encode, node } from './graphdef.js';
import { writeTable } from './table.js';

/** A TensorBundle checkpoint (variables.index + one data shard) holding `tensors`. */
export function bundle(tensors: Record<string, { dtype: string; shape: number[]; data: Uint8Array }>): {
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

/**
 * A TF2-style SavedModel made in code: the serving signature calls a function through StatefulPartitionedCall, the
 * function reads two resource variables, and a restore function maps the variables to checkpoint keys.
 */
export function writeSavedModel(dir: string, opts: { withVariables: boolean }): { w: Float32Array; b: Float32Array } {
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
