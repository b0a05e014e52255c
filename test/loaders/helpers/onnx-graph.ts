import { toTfliteBytes } from '../../../shared/toolchain/loaders/convert.js';
import type { IrModel } from '../../../shared/toolchain/ir/model.js';
import {
  attribute,
  convertOnnxBytes,
  graphModel,
  initializer as onnxInitializer,
  valueInfo,
} from './onnx-proto-parts.js';
import { TfliteRuntime } from '../../../shared/toolchain/runtime/tflite-runtime.js';

/** ONNX element types by name (TensorProto.DataType). */
export type OnnxTypeName = 'float32' | 'uint8' | 'int8' | 'int32' | 'int64';

export interface GraphTensor {
  name: string;
  type: OnnxTypeName;
  dims: number[];
}

export interface Init extends GraphTensor {
  values: number[];
}

export interface OnnxNodeSpec {
  op: string;
  inputs: string[];
  outputs: string[];
  /** number: an int attribute; { f }: a float; { floats }: floats; arrays: ints or strings. */
  attrs?: Record<string, number | { f: number } | string | number[] | string[] | { floats: number[] }>;
}

/** A deterministic generator in [-0.5, 0.5). */
export function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32 - 0.5;
  };
}

function attr(name: string, v: NonNullable<OnnxNodeSpec['attrs']>[string]): object {
  if (typeof v === 'number') return attribute.i(name, v);
  if (typeof v === 'string') return attribute.s(name, v);
  if (!Array.isArray(v)) return 'f' in v ? attribute.f(name, v.f) : attribute.floats(name, v.floats);
  if (v.length > 0 && typeof v[0] === 'string') return attribute.strings(name, v as string[]);
  return attribute.ints(name, v as number[]);
}

const initializer = (t: Init): object => onnxInitializer(t.name, t.type, t.dims, t.values);

/** One-graph ONNX model: nodes, initializers, run-time inputs and outputs with their fixed shapes. */
export function onnxGraph(g: {
  nodes: OnnxNodeSpec[];
  inputs: GraphTensor[];
  outputs: GraphTensor[];
  inits?: Init[];
  opset?: number;
}): Uint8Array {
  const vi = (t: GraphTensor): object => valueInfo(t.name, t.type, t.dims);
  return graphModel({
    opset: g.opset ?? 14,
    nodes: g.nodes.map((n, k) => ({
      opType: n.op,
      name: `${n.op.toLowerCase()}${k}`,
      input: n.inputs,
      output: n.outputs,
      attribute: Object.entries(n.attrs ?? {}).map(([name, v]) => attr(name, v)),
    })),
    initializers: (g.inits ?? []).map(initializer),
    inputs: g.inputs.map(vi),
    outputs: g.outputs.map(vi),
  });
}

export function convertOnnx(bytes: Uint8Array): IrModel {
  return convertOnnxBytes(bytes, 'm.onnx').model;
}

const ARRAYS = {
  float32: Float32Array,
  uint8: Uint8Array,
  int8: Int8Array,
  int32: Int32Array,
} as const;
type Arr = Float32Array | Uint8Array | Int8Array | Int32Array;

/** Runs the ONNX model in onnxruntime and its conversion in the TFLite runtime on the same inputs. */
export async function bothRuntimes(
  bytes: Uint8Array,
  inputs: (GraphTensor & { values: ArrayLike<number> })[],
  outputs: GraphTensor[],
): Promise<{ want: Arr[]; got: Arr[] }> {
  const ort = await import('onnxruntime-node');
  const session = await ort.InferenceSession.create(bytes);
  const feeds: Record<string, InstanceType<typeof ort.Tensor>> = {};
  const typed = inputs.map((i) => {
    if (i.type === 'int64') throw new Error('int64 inputs are not fed by this helper');
    return ARRAYS[i.type].from(i.values);
  });
  inputs.forEach(
    (i, k) => (feeds[i.name] = new ort.Tensor(i.type === 'float32' ? 'float32' : i.type, typed[k]!, i.dims)),
  );
  const res = await session.run(feeds);
  const want = outputs.map((o) => res[o.name]!.data as Arr);
  const rt = await TfliteRuntime.load(toTfliteBytes(convertOnnx(bytes)));
  try {
    const outs = await rt.run(typed.map((a) => new Uint8Array(a.buffer, a.byteOffset, a.byteLength)));
    const got = outputs.map((o, k) => {
      const b = outs[k]!.bytes.slice();
      if (o.type === 'int64') throw new Error('int64 outputs are not read by this helper');
      return new ARRAYS[o.type](b.buffer, 0, b.byteLength / ARRAYS[o.type].BYTES_PER_ELEMENT);
    });
    return { want, got };
  } finally {
    rt.close();
  }
}

/** The largest |a − b| / (atol/rtol + |b|)-style error: |a − b| − rtol·|b|, over all elements (≤ atol passes). */
export function worstError(a: ArrayLike<number>, b: ArrayLike<number>, rtol = 1e-4): number {
  let worst = 0;
  for (let i = 0; i < b.length; i++) worst = Math.max(worst, Math.abs(a[i]! - b[i]!) - rtol * Math.abs(b[i]!));
  return a.length === b.length ? worst : Infinity;
}
