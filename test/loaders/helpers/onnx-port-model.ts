import type { ExecutionContext } from 'ava';
import { toTfliteBytes } from '../../../shared/toolchain/loaders/convert.js';
import {
  attribute,
  convertOnnxBytes,
  graphModel,
  initializer as onnxInitializer,
  valueInfo as onnxValueInfo,
} from './onnx-proto-parts.js';
import { TfliteRuntime } from '../../../shared/toolchain/runtime/tflite-runtime.js';

/** ONNX element types by name (TensorProto.DataType). */
export const ELEM = { float: 1, int32: 6, int64: 7, bool: 9 } as const;
export type Elem = keyof typeof ELEM;

export interface Port {
  name: string;
  elem: Elem;
  /** Omitted: no shape declared (outputs only). */
  dims?: number[];
  /** Constant value (an initializer instead of a graph input). */
  init?: number[];
}

export const attrInt = attribute.i;
export const attrStr = attribute.s;

const initializer = (p: Port): object => onnxInitializer(p.name, p.elem, p.dims ?? [p.init!.length], p.init!);
const valueInfo = (p: Port): object => onnxValueInfo(p.name, p.elem, p.dims);

/** A one-node ONNX model: `inputs` with `init` become initializers, the rest graph inputs. */
export function nodeModel(
  opType: string,
  inputs: Port[],
  outputs: Port[],
  attribute: object[] = [],
  opset = 18,
): Uint8Array {
  return graphModel({
    opset,
    nodes: [{ opType, name: 'n', input: inputs.map((p) => p.name), output: outputs.map((p) => p.name), attribute }],
    initializers: inputs.filter((p) => p.init).map(initializer),
    inputs: inputs.filter((p) => !p.init).map(valueInfo),
    outputs: outputs.map(valueInfo),
  });
}

export type Feed = Float32Array | Int32Array | BigInt64Array | Uint8Array;

const ORT_TYPE = (a: Feed, elem: Elem): string =>
  elem === 'bool' ? 'bool' : a instanceof Float32Array ? 'float32' : a instanceof Int32Array ? 'int32' : 'int64';

/**
 * Converts the model, runs it in the TFLite runtime and in onnxruntime on each feed set (graph inputs in order), and
 * asserts the outputs agree (floats within 1e-6 relative, integers exactly). Returns the converted model's op types.
 */
export async function expectSameAsOrt(
  t: ExecutionContext,
  bytes: Uint8Array,
  inputs: Port[],
  feeds: Feed[][],
): Promise<string[]> {
  const r = convertOnnxBytes(bytes);
  const ort = await import('onnxruntime-node');
  const session = await ort.InferenceSession.create(bytes);
  const rt = await TfliteRuntime.load(toTfliteBytes(r.model));
  const live = inputs.filter((p) => !p.init);
  try {
    for (const [k, feed] of feeds.entries()) {
      const ortFeeds = Object.fromEntries(
        live.map((p, i) => {
          const a = feed[i]!;
          const data = p.elem === 'bool' ? Array.from(a as Uint8Array, Boolean) : a;
          return [p.name, new ort.Tensor(ORT_TYPE(a, p.elem) as 'float32', data as Float32Array, p.dims!)];
        }),
      );
      const want = await session.run(ortFeeds);
      const got = await rt.run(feed.map((a) => new Uint8Array(a.buffer, a.byteOffset, a.byteLength)));
      session.outputNames.forEach((name, i) => {
        const w = want[name]!;
        const g = got[i]!;
        const bytesG = g.bytes.slice();
        const gv: number[] =
          w.type === 'float32'
            ? Array.from(new Float32Array(bytesG.buffer))
            : w.type === 'int64'
              ? Array.from(new BigInt64Array(bytesG.buffer), Number)
              : w.type === 'int32'
                ? Array.from(new Int32Array(bytesG.buffer))
                : Array.from(bytesG);
        const wv = Array.from(w.data as ArrayLike<number | bigint | boolean>, Number);
        t.deepEqual(gv.length, wv.length, `feed ${k} output ${name}: size`);
        const bad = wv.findIndex(
          (x, j) =>
            !(Math.abs(gv[j]! - x) <= 1e-6 * Math.max(1, Math.abs(x)) || (Number.isNaN(x) && Number.isNaN(gv[j]))),
        );
        t.is(
          bad,
          -1,
          `feed ${k} output ${name}[${bad}]: ${gv[bad]} vs ${wv[bad]} (got ${gv.join()}, want ${wv.join()})`,
        );
      });
    }
  } finally {
    rt.close();
  }
  return r.model.graph.ops.map((o) => o.type);
}
