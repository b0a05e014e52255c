import { fileURLToPath } from 'node:url';
import protobuf from 'protobufjs';
import { rng } from '../../../shared/common/rng.js';

/** Writes GraphDef protos in tests from their JSON form, with the project's own graph.proto. */
const root = protobuf.loadSync(
  fileURLToPath(new URL('../../../shared/toolchain/loaders/proto/saved_model.proto', import.meta.url)),
);

export function encode(typeName: string, json: object): Uint8Array {
  const T = root.lookupType(typeName);
  return T.encode(T.fromObject(json)).finish();
}

export const graphDef = (nodes: object[]): Uint8Array =>
  encode('tensorflow.GraphDef', { node: nodes, versions: { producer: 27 } });

const b64 = (a: Float32Array | Int32Array): string =>
  Buffer.from(a.buffer, a.byteOffset, a.byteLength).toString('base64');
const s = (v: string): { s: string } => ({ s: Buffer.from(v).toString('base64') });
const ints = (v: number[]): { list: { i: string[] } } => ({ list: { i: v.map(String) } });
const shape = (dims: number[]) => ({ dim: dims.map((d) => ({ size: String(d) })) });

export const node = {
  placeholder: (name: string, dims: number[], dtype = 'DT_FLOAT') => ({
    name,
    op: 'Placeholder',
    attr: { dtype: { type: dtype }, shape: { shape: shape(dims) } },
  }),
  constF: (name: string, dims: number[], values: Float32Array) => ({
    name,
    op: 'Const',
    attr: {
      dtype: { type: 'DT_FLOAT' },
      value: { tensor: { dtype: 'DT_FLOAT', tensorShape: shape(dims), tensorContent: b64(values) } },
    },
  }),
  constScalar: (name: string, v: number) => ({
    name,
    op: 'Const',
    attr: { dtype: { type: 'DT_FLOAT' }, value: { tensor: { dtype: 'DT_FLOAT', tensorShape: {}, floatVal: [v] } } },
  }),
  constI64: (name: string, values: number[]) => ({
    name,
    op: 'Const',
    attr: {
      dtype: { type: 'DT_INT64' },
      value: { tensor: { dtype: 'DT_INT64', tensorShape: shape([values.length]), int64Val: values.map(String) } },
    },
  }),
  constI32: (name: string, values: number[]) => ({
    name,
    op: 'Const',
    attr: {
      dtype: { type: 'DT_INT32' },
      value: {
        tensor: { dtype: 'DT_INT32', tensorShape: shape([values.length]), tensorContent: b64(Int32Array.from(values)) },
      },
    },
  }),
  op: (name: string, op: string, input: string[], attr: Record<string, object> = {}) => ({
    name,
    op,
    input,
    attr: { T: { type: 'DT_FLOAT' }, ...attr },
  }),
  s,
  ints,
};

/** conv → bias → batch norm → relu6 → depthwise (stride 2) → mean → ×(constant product) → matmul + bias → softmax, plus a side branch. */
export function sampleGraph(seed = 3): Uint8Array {
  const r = rng(seed);
  const rand = (n: number, lo = -1, hi = 1): Float32Array =>
    Float32Array.from({ length: n }, () => lo + (hi - lo) * r());
  const { placeholder, constF, constScalar, constI64, op } = node;
  return graphDef([
    placeholder('x', [-1, 6, 6, 2]),
    constF('w1', [3, 3, 2, 4], rand(72)),
    op('conv', 'Conv2D', ['x', 'w1'], { strides: ints([1, 1, 1, 1]), padding: s('SAME'), data_format: s('NHWC') }),
    constF('b1', [4], rand(4)),
    op('bias', 'BiasAdd', ['conv', 'b1'], { data_format: s('NHWC') }),
    constF('gamma', [4], rand(4, 0.5, 1.5)),
    constF('beta', [4], rand(4)),
    constF('mean', [4], rand(4)),
    constF('var', [4], rand(4, 0.2, 1)),
    op('bn', 'FusedBatchNormV3', ['bias', 'gamma', 'beta', 'mean', 'var'], {
      epsilon: { f: 0.001 },
      is_training: { b: false },
      data_format: s('NHWC'),
      U: { type: 'DT_FLOAT' },
    }),
    op('relu', 'Relu6', ['bn']),
    constF('dwk', [3, 3, 4, 1], rand(36)),
    op('dw', 'DepthwiseConv2dNative', ['relu', 'dwk'], {
      strides: ints([1, 2, 2, 1]),
      padding: s('VALID'),
      data_format: s('NHWC'),
      dilations: ints([1, 1, 1, 1]),
    }),
    constI64('axes', [1, 2]),
    op('gap', 'Mean', ['dw', 'axes'], { keep_dims: { b: false }, Tidx: { type: 'DT_INT64' } }),
    constF('c1', [4], rand(4, 0.5, 2)),
    constScalar('c2', 3),
    op('cprod', 'Mul', ['c1', 'c2']),
    op('scaled', 'Mul', ['gap', 'cprod', '^relu']),
    constF('wfc', [4, 3], rand(12)),
    op('mm', 'MatMul', ['scaled', 'wfc'], { transpose_a: { b: false }, transpose_b: { b: false } }),
    constF('bfc', [3], rand(3)),
    op('logits', 'AddV2', ['mm', 'bfc']),
    op('probs', 'Softmax', ['logits']),
    op('side', 'Sqrt', ['x']),
  ]);
}
