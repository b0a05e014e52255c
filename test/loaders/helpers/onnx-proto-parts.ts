/**
 * The parts every ONNX model a test builds in code is made of: element type numbers, value infos, initializers,
 * attributes, the one-graph ModelProto, and the conversion of its bytes. The test helpers (onnx-graph, onnx-node,
 * onnx-node-case, onnx-port-model) shape their own APIs from these.
 */
import { convertFiles, type ConvertResult } from '../../../shared/toolchain/loaders/convert.js';
import { MemoryFiles } from '../../../shared/toolchain/loaders/files.js';
import { encodeOnnxModel } from '../../../shared/toolchain/loaders/onnx/proto.js';

/** ONNX element types (TensorProto.DataType), by Kiln dtype name ('float' too, for float32). */
export const ONNX_ELEM = {
  float32: 1,
  float: 1,
  uint8: 2,
  int8: 3,
  int16: 5,
  int32: 6,
  int64: 7,
  bool: 9,
  uint32: 12,
} as const;
export type OnnxElemName = keyof typeof ONNX_ELEM;

/** A ValueInfoProto; no shape declared when `dims` is absent. */
export function valueInfo(name: string, elem: OnnxElemName, dims?: number[]): object {
  const shape = dims ? { shape: { dim: dims.map((d) => ({ dimValue: d })) } } : {};
  return { name, type: { tensorType: { elemType: ONNX_ELEM[elem], ...shape } } };
}

/** An initializer: float32 as floatData, int64 as int64Data, the other integers and bool as int32Data. */
export function initializer(name: string, elem: OnnxElemName, dims: number[], values: number[]): object {
  const base = { name, dims, dataType: ONNX_ELEM[elem] };
  if (ONNX_ELEM[elem] === 1) return { ...base, floatData: values };
  if (elem === 'int64') return { ...base, int64Data: values };
  return { ...base, int32Data: values };
}

/** AttributeProto encoders by kind. */
export const attribute = {
  f: (name: string, f: number): object => ({ name, type: 1, f }),
  i: (name: string, i: number): object => ({ name, type: 2, i }),
  s: (name: string, s: string): object => ({ name, type: 3, s: new TextEncoder().encode(s) }),
  floats: (name: string, floats: number[]): object => ({ name, type: 6, floats }),
  ints: (name: string, ints: number[]): object => ({ name, type: 7, ints }),
  /** A graph (control-flow bodies): nodes, initializers, inputs and outputs as GraphProto fields. */
  g: (name: string, g: { nodes: object[]; inputs: object[]; outputs: object[]; initializers?: object[] }): object => ({
    name,
    type: 5,
    g: { name, node: g.nodes, initializer: g.initializers ?? [], input: g.inputs, output: g.outputs },
  }),
  strings: (name: string, strings: string[]): object => ({
    name,
    type: 8,
    strings: strings.map((s) => new TextEncoder().encode(s)),
  }),
};

/** A ModelProto of one graph in the default domain at `opset` (as plain bytes: no Buffer views to misalign). */
export function graphModel(g: {
  nodes: object[];
  inputs: object[];
  outputs: object[];
  initializers?: object[];
  opset: number;
}): Uint8Array {
  return new Uint8Array(
    encodeOnnxModel({
      irVersion: 8,
      opsetImport: [{ domain: '', version: g.opset }],
      graph: { name: 'g', node: g.nodes, initializer: g.initializers ?? [], input: g.inputs, output: g.outputs },
    }),
  );
}

/** The conversion of an .onnx file's bytes, as `kiln convert` reads an upload. */
export function convertOnnxBytes(bytes: Uint8Array, name = 'model.onnx'): ConvertResult {
  return convertFiles(new MemoryFiles(name, new Map([[name, bytes]]), 'file', name));
}
