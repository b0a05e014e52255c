import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DEFAULT_DATA } from '../../../scripts/onnx-conformance.js';
import { typedView, type AnyTypedArray, type DType } from '../../../shared/toolchain/ir/dtype.js';
import { toTfliteBytes, type ConvertResult } from '../../../shared/toolchain/loaders/convert.js';
import { decodeOnnxModel, decodeOnnxTensor, encodeOnnxModel } from '../../../shared/toolchain/loaders/onnx/proto.js';
import { tensorFromOnnx } from '../../../shared/toolchain/loaders/onnx/tensor.js';
import { TfliteRuntime } from '../../../shared/toolchain/runtime/tflite-runtime.js';

import {
  attribute,
  convertOnnxBytes,
  graphModel,
  initializer,
  valueInfo,
  type OnnxElemName,
} from './onnx-proto-parts.js';

export interface IoSpec {
  name: string;
  dtype: OnnxElemName;
  dims: number[];
}

export const attr = attribute;

/** An initializer (onnx-proto-parts' `initializer`). */
export const init = initializer;

/** A one-node ONNX model. */
export function nodeModel(o: {
  op: string;
  opset?: number;
  inputs: IoSpec[];
  outputs: IoSpec[];
  /** Node input names, '' for omitted optional ones; default: the graph inputs and initializers in order. */
  nodeInputs?: string[];
  attrs?: object[];
  inits?: object[];
}): Uint8Array {
  const initNames = (o.inits ?? []).map((i) => (i as { name: string }).name);
  return graphModel({
    opset: o.opset ?? 13,
    nodes: [
      {
        opType: o.op,
        name: 'n',
        input: o.nodeInputs ?? [...o.inputs.map((i) => i.name), ...initNames],
        output: o.outputs.map((x) => x.name),
        attribute: o.attrs ?? [],
      },
    ],
    initializers: o.inits ?? [],
    inputs: o.inputs.map((i) => valueInfo(i.name, i.dtype, i.dims)),
    outputs: o.outputs.map((x) => valueInfo(x.name, x.dtype, x.dims)),
  });
}

export function convertOnnx(bytes: Uint8Array): ConvertResult {
  return convertOnnxBytes(bytes);
}

/** Runs the converted model in the TFLite runtime; outputs as typed arrays of their dtypes. */
export async function runTflite(conv: ConvertResult, inputs: AnyTypedArray[]): Promise<AnyTypedArray[]> {
  const rt = await TfliteRuntime.load(toTfliteBytes(conv.model));
  try {
    const outs = await rt.run(inputs.map((a) => new Uint8Array(a.buffer, a.byteOffset, a.byteLength)));
    return outs.map((o, i) => typedView(conv.outputs[i]!.dtype as DType, o.bytes));
  } finally {
    rt.close();
  }
}

export const NODE_DATA = `${DEFAULT_DATA}/node`;

function readPb(path: string): { dtype: DType; shape: number[]; values: AnyTypedArray } {
  const t = tensorFromOnnx(decodeOnnxTensor(new Uint8Array(readFileSync(path)), path), path);
  const copy = new Uint8Array(t.data);
  return { dtype: t.dtype, shape: t.shape, values: typedView(t.dtype, copy) };
}

/**
 * One of ONNX's node tests: the model (graph inputs listed in `asConstants` turned into initializers holding the
 * test's data), its remaining inputs and its expected outputs.
 */
export function nodeCase(
  name: string,
  asConstants: string[] = [],
): { bytes: Uint8Array; inputs: AnyTypedArray[]; expected: AnyTypedArray[] } {
  const dir = join(NODE_DATA, name);
  const set = join(dir, 'test_data_set_0');
  const raw = new Uint8Array(readFileSync(join(dir, 'model.onnx')));
  const m = decodeOnnxModel(raw, name) as unknown as {
    graph: { input: { name: string }[]; initializer: object[] };
  };
  const files = (prefix: string): string[] =>
    readdirSync(set)
      .filter((f) => f.startsWith(prefix))
      .sort((a, b) => Number(a.slice(prefix.length, -3)) - Number(b.slice(prefix.length, -3)));
  const inputs: AnyTypedArray[] = [];
  const graphInputs = [...m.graph.input];
  files('input_').forEach((f, i) => {
    const gi = graphInputs[i]!;
    if (asConstants.includes(gi.name)) {
      const pb = decodeOnnxTensor(new Uint8Array(readFileSync(join(set, f))), f) as unknown as object;
      m.graph.initializer.push({ ...pb, name: gi.name });
      m.graph.input = m.graph.input.filter((x) => x !== gi);
    } else inputs.push(readPb(join(set, f)).values);
  });
  // a plain Uint8Array (protobufjs decodes a Node Buffer's bytes fields as unaligned views)
  const bytes = asConstants.length ? new Uint8Array(encodeOnnxModel(m)) : raw;
  return { bytes, inputs, expected: files('output_').map((f) => readPb(join(set, f)).values) };
}
