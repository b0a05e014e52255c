import { toTfliteBytes, type ConvertResult } from '../../../shared/toolchain/loaders/convert.js';
import { attribute, convertOnnxBytes, graphModel } from './onnx-proto-parts.js';
import { TfliteRuntime } from '../../../shared/toolchain/runtime/tflite-runtime.js';

/** One ONNX node as a model (graph inputs and outputs with fixed shapes), converted and run in the TFLite runtime. */

export const FLOAT = 1;
export const INT32 = 6;
export const INT64 = 7;

export type Attr =
  | { name: string; f: number }
  | { name: string; i: number }
  | { name: string; s: string }
  | { name: string; ints: number[] };

export interface Io {
  name: string;
  type: number;
  shape: number[];
}

function attr(a: Attr): object {
  if ('f' in a) return attribute.f(a.name, a.f);
  if ('i' in a) return attribute.i(a.name, a.i);
  if ('s' in a) return attribute.s(a.name, a.s);
  return attribute.ints(a.name, a.ints);
}

const tt = (io: Io): object => ({
  name: io.name,
  type: { tensorType: { elemType: io.type, shape: { dim: io.shape.map((d) => ({ dimValue: d })) } } },
});

export function nodeModel(
  opType: string,
  inputs: Io[],
  outputs: Io[],
  attrs: Attr[] = [],
  opset = 13,
  name = `the_${opType.toLowerCase()}`,
): Uint8Array {
  return graphModel({
    opset,
    nodes: [
      {
        opType,
        name,
        input: inputs.map((i) => i.name),
        output: outputs.map((o) => o.name),
        attribute: attrs.map(attr),
      },
    ],
    inputs: inputs.map(tt),
    outputs: outputs.map(tt),
  });
}

export const convertOnnx = (bytes: Uint8Array): ConvertResult => convertOnnxBytes(bytes);

export type Feed = Float32Array | Int32Array | BigInt64Array;

/** Converts the model and runs it on `feeds`; the outputs as numbers. */
export async function runOnnx(bytes: Uint8Array, feeds: Feed[]): Promise<{ ops: string[]; outputs: number[][] }> {
  const r = convertOnnx(bytes);
  const rt = await TfliteRuntime.load(toTfliteBytes(r.model));
  try {
    const outs = await rt.run(feeds.map((f) => new Uint8Array(f.buffer, f.byteOffset, f.byteLength)));
    return {
      ops: r.model.graph.ops.map((o) => o.type),
      outputs: outs.map((o) => {
        const b = o.bytes.slice().buffer;
        if (o.dtype === 'float32') return Array.from(new Float32Array(b));
        if (o.dtype === 'int32') return Array.from(new Int32Array(b));
        if (o.dtype === 'int64' || o.dtype === 'kTfLiteInt64') return Array.from(new BigInt64Array(b), Number);
        throw new Error(`output dtype ${o.dtype}`);
      }),
    };
  } finally {
    rt.close();
  }
}

/** Deterministic values in [lo, hi). */
export function values(n: number, seed: number, lo = -1, hi = 1): Float32Array {
  let s = seed >>> 0;
  return Float32Array.from({ length: n }, () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return lo + ((hi - lo) * s) / 2 ** 32;
  });
}

/** The largest |a − e| over the elements. */
export function maxError(a: ArrayLike<number>, e: ArrayLike<number>): number {
  if (a.length !== e.length) return Infinity;
  let worst = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i]! - e[i]!);
    if (!(d <= worst)) worst = Number.isNaN(a[i]!) && Number.isNaN(e[i]!) ? worst : d;
  }
  return worst;
}
