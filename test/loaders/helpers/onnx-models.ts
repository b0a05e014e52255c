import { encodeOnnxModel } from '../../../shared/toolchain/loaders/onnx/proto.js';

/**
 * ONNX models built in code (protobufjs, ONNX's own field numbers), shaped the way torch.onnx.export writes them:
 * NCHW, Conv + BatchNormalization + Relu, pooling, Flatten + Gemm, opset 13, a symbolic batch dimension.
 */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32 - 0.5;
  };
}

const FLOAT = 1;
const INT64 = 7;
const STRING = 8;

function init(name: string, dims: number[], r: () => number, scale = 1, offset = 0): object {
  const n = dims.reduce((a, b) => a * b, 1);
  return { name, dims, dataType: FLOAT, floatData: Array.from({ length: n }, () => offset + r() * scale) };
}

const attrInts = (name: string, ints: number[]): object => ({ name, type: 7, ints });
const attrInt = (name: string, i: number): object => ({ name, type: 2, i });
const attrFloat = (name: string, f: number): object => ({ name, type: 1, f });

/** A small PyTorch-style image classifier: [N, 3, 16, 16] → [N, 10]. */
export function pytorchCnn(seed = 1): Uint8Array {
  const r = rng(seed);
  const bn = (p: string, c: number): object[] => [
    init(`${p}.weight`, [c], r, 0.4, 1),
    init(`${p}.bias`, [c], r, 0.2),
    init(`${p}.running_mean`, [c], r, 0.2),
    init(`${p}.running_var`, [c], r, 0.3, 0.8),
  ];
  const initializer = [
    init('conv1.weight', [8, 3, 3, 3], r, 0.5),
    init('conv1.bias', [8], r, 0.1),
    ...bn('bn1', 8),
    init('conv2.weight', [16, 8, 3, 3], r, 0.3),
    init('conv2.bias', [16], r, 0.1),
    ...bn('bn2', 16),
    init('dw.weight', [16, 1, 3, 3], r, 0.5),
    init('fc.weight', [10, 16], r, 0.5),
    init('fc.bias', [10], r, 0.1),
  ];
  const conv = (x: string, w: string, b: string | null, y: string, extra: object[] = []): object => ({
    opType: 'Conv',
    name: `/${y}/Conv`,
    input: b ? [x, w, b] : [x, w],
    output: [y],
    attribute: [
      attrInts('kernel_shape', [3, 3]),
      attrInts('pads', [1, 1, 1, 1]),
      attrInts('strides', [1, 1]),
      ...extra,
    ],
  });
  const bnNode = (x: string, p: string, y: string): object => ({
    opType: 'BatchNormalization',
    name: `/${p}/BatchNormalization`,
    input: [x, `${p}.weight`, `${p}.bias`, `${p}.running_mean`, `${p}.running_var`],
    output: [y],
    attribute: [attrFloat('epsilon', 1e-5), attrFloat('momentum', 0.9)],
  });
  const node = [
    conv('input', 'conv1.weight', 'conv1.bias', 'c1'),
    bnNode('c1', 'bn1', 'b1'),
    { opType: 'Relu', name: '/relu1/Relu', input: ['b1'], output: ['r1'] },
    {
      opType: 'MaxPool',
      name: '/pool/MaxPool',
      input: ['r1'],
      output: ['p1'],
      attribute: [attrInts('kernel_shape', [2, 2]), attrInts('strides', [2, 2]), attrInts('pads', [0, 0, 0, 0])],
    },
    conv('p1', 'conv2.weight', 'conv2.bias', 'c2'),
    bnNode('c2', 'bn2', 'b2'),
    { opType: 'Clip', name: '/relu6/Clip', input: ['b2', 'six_min', 'six_max'], output: ['r2'] },
    conv('r2', 'dw.weight', null, 'd1', [attrInt('group', 16)]),
    { opType: 'Relu', name: '/relu3/Relu', input: ['d1'], output: ['r3'] },
    { opType: 'GlobalAveragePool', name: '/gap/GlobalAveragePool', input: ['r3'], output: ['g'] },
    { opType: 'Flatten', name: '/Flatten', input: ['g'], output: ['f'], attribute: [attrInt('axis', 1)] },
    {
      opType: 'Gemm',
      name: '/fc/Gemm',
      input: ['f', 'fc.weight', 'fc.bias'],
      output: ['logits'],
      attribute: [attrFloat('alpha', 1), attrFloat('beta', 1), attrInt('transB', 1)],
    },
  ];
  const scalar = (name: string, v: number): object => ({ name, dims: [], dataType: FLOAT, floatData: [v] });
  const tensorType = (dims: (number | string)[]): object => ({
    tensorType: {
      elemType: FLOAT,
      shape: { dim: dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) },
    },
  });
  return encodeOnnxModel({
    irVersion: 8,
    producerName: 'pytorch',
    producerVersion: '2.1.0',
    opsetImport: [{ domain: '', version: 13 }],
    graph: {
      name: 'main_graph',
      node,
      initializer: [...initializer, scalar('six_min', 0), scalar('six_max', 6)],
      input: [{ name: 'input', type: tensorType(['batch_size', 3, 16, 16]) }],
      output: [{ name: 'logits', type: tensorType(['batch_size', 10]) }],
    },
  });
}

/** A model with an op TFLite has no builtin for (StringNormalizer: strings), to check the refusal. */
export function unsupportedModel(): Uint8Array {
  const tt = { tensorType: { elemType: STRING, shape: { dim: [{ dimValue: 2 }] } } };
  return encodeOnnxModel({
    irVersion: 8,
    opsetImport: [{ domain: '', version: 13 }],
    graph: {
      name: 'g',
      node: [
        {
          opType: 'StringNormalizer',
          name: 'the_normalizer',
          input: ['x'],
          output: ['y'],
          attribute: [{ name: 'case_change_action', type: 3, s: new TextEncoder().encode('LOWER') }],
        },
      ],
      input: [{ name: 'x', type: tt }],
      output: [{ name: 'y', type: tt }],
    },
  });
}

/**
 * Ops whose operands come at run time: x [2, 3, 4] → Slice(x, starts, ends, axes = [2]) → ReduceSum(axes,
 * keepdims = 0) → y [2, 2]. starts, ends and axes are graph inputs (int64 [1]); the model declares the shapes of s and
 * y.
 */
export function runtimeOperandsModel(): Uint8Array {
  const tt = (elemType: number, dims: number[]): object => ({
    tensorType: { elemType, shape: { dim: dims.map((d) => ({ dimValue: d })) } },
  });
  return encodeOnnxModel({
    irVersion: 8,
    opsetImport: [{ domain: '', version: 13 }],
    graph: {
      name: 'g',
      node: [
        { opType: 'Slice', name: 'slice', input: ['x', 'starts', 'ends', 'slice_axes'], output: ['s'] },
        {
          opType: 'ReduceSum',
          name: 'sum',
          input: ['s', 'axes'],
          output: ['y'],
          attribute: [attrInt('keepdims', 0)],
        },
      ],
      initializer: [{ name: 'slice_axes', dims: [1], dataType: INT64, int64Data: [2] }],
      input: [
        { name: 'x', type: tt(FLOAT, [2, 3, 4]) },
        { name: 'axes', type: tt(INT64, [1]) },
        { name: 'starts', type: tt(INT64, [1]) },
        { name: 'ends', type: tt(INT64, [1]) },
      ],
      output: [{ name: 'y', type: tt(FLOAT, [2, 2]) }],
      valueInfo: [{ name: 's', type: tt(FLOAT, [2, 3, 2]) }],
    },
  });
}

export { INT64 };
