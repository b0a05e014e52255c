/**
 * ONNX protos as protobufjs decodes them (shared/toolchain/loaders/proto/onnx.proto; camelCase fields, int64 as numbers, bytes as
 * Uint8Array, repeated fields always present).
 */
export interface OnnxTensor {
  dims: number[];
  dataType?: number;
  floatData: number[];
  int32Data: number[];
  stringData: Uint8Array[];
  int64Data: number[];
  name?: string;
  rawData?: Uint8Array;
  externalData: { key?: string; value?: string }[];
  dataLocation?: number;
  doubleData: number[];
  uint64Data: number[];
}

export interface OnnxAttr {
  name: string;
  refAttrName?: string;
  type?: number;
  f?: number;
  i?: number;
  s?: Uint8Array;
  t?: OnnxTensor;
  g?: OnnxGraph;
  floats: number[];
  ints: number[];
  strings: Uint8Array[];
  tensors: OnnxTensor[];
  graphs: OnnxGraph[];
}

export interface OnnxNode {
  input: string[];
  output: string[];
  name?: string;
  opType: string;
  domain?: string;
  attribute: OnnxAttr[];
}

export interface OnnxDim {
  dimValue?: number;
  dimParam?: string;
}

export interface OnnxType {
  tensorType?: { elemType?: number; shape?: { dim: OnnxDim[] } };
  sequenceType?: unknown;
  mapType?: unknown;
  optionalType?: unknown;
}

export interface OnnxValueInfo {
  name: string;
  type?: OnnxType;
}

export interface OnnxGraph {
  node: OnnxNode[];
  name?: string;
  initializer: OnnxTensor[];
  sparseInitializer: unknown[];
  input: OnnxValueInfo[];
  output: OnnxValueInfo[];
  valueInfo: OnnxValueInfo[];
}

export interface OnnxModel {
  irVersion?: number;
  opsetImport: { domain?: string; version?: number }[];
  producerName?: string;
  producerVersion?: string;
  graph?: OnnxGraph;
  functions: { name?: string; domain?: string }[];
}
