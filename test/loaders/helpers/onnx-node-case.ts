import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { typedView, type AnyTypedArray, type DType } from '../../../shared/toolchain/ir/dtype.js';
import { convertFiles, toTfliteBytes, type ConvertResult } from '../../../shared/toolchain/loaders/convert.js';
import { MemoryFiles } from '../../../shared/toolchain/loaders/files.js';
import { decodeOnnxModel, decodeOnnxTensor, encodeOnnxModel } from '../../../shared/toolchain/loaders/onnx/proto.js';
import { tensorFromOnnx } from '../../../shared/toolchain/loaders/onnx/tensor.js';
import { TfliteRuntime } from '../../../shared/toolchain/runtime/tflite-runtime.js';

/** ONNX element types by Kiln dtype (ONNX's TensorProto.DataType numbers). */
export const ELEM: Record<string, number> = { float32: 1, uint8: 2, int8: 3, int32: 6, int64: 7, bool: 9 };

export interface IoSpec {
  name: string;
  dtype: keyof typeof ELEM;
  dims: number[];
}

export const attr = {
  i: (name: string, i: number): object => ({ name, type: 2, i }),
  f: (name: string, f: number): object => ({ name, type: 1, f }),
  s: (name: string, s: string): object => ({ name, type: 3, s: new TextEncoder().encode(s) }),
  ints: (name: string, ints: number[]): object => ({ name, type: 7, ints }),
};

/** An initializer: float32 as floatData, int64 as int64Data, 8/32-bit integers as int32Data. */
export function init(name: string, dtype: keyof typeof ELEM, dims: number[], values: number[]): object {
  const data =
    dtype === 'float32' ? { floatData: values } : dtype === 'int64' ? { int64Data: values } : { int32Data: values };
  return { name, dims, dataType: ELEM[dtype], ...data };
}

const tt = (s: IoSpec): object => ({
  tensorType: { elemType: ELEM[s.dtype], shape: { dim: s.dims.map((d) => ({ dimValue: d })) } },
});

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
  const encoded = encodeOnnxModel({
    irVersion: 8,
    opsetImport: [{ domain: '', version: o.opset ?? 13 }],
    graph: {
      name: 'g',
      node: [
        {
          opType: o.op,
          name: 'n',
          input: o.nodeInputs ?? [...o.inputs.map((i) => i.name), ...initNames],
          output: o.outputs.map((x) => x.name),
          attribute: o.attrs ?? [],
        },
      ],
      initializer: o.inits ?? [],
      input: o.inputs.map((i) => ({ name: i.name, type: tt(i) })),
      output: o.outputs.map((x) => ({ name: x.name, type: tt(x) })),
    },
  });
  return new Uint8Array(encoded);
}

export function convertOnnx(bytes: Uint8Array): ConvertResult {
  return convertFiles(new MemoryFiles('model.onnx', new Map([['model.onnx', bytes]]), 'file', 'model.onnx'), {});
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

export const NODE_DATA = '/usr/share/libonnx-testdata/data/node';
export const nodeDataPresent = existsSync(NODE_DATA);

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
