import { fileURLToPath } from 'node:url';
import protobuf from 'protobufjs';
import { KilnError } from '../../errors.js';
import type { OnnxModel, OnnxTensor } from './types.js';

/** ONNX's protos (shared/loaders/proto/onnx.proto), decoded with protobufjs. */
let root: protobuf.Root | undefined;

function types(): protobuf.Root {
  root ??= protobuf.loadSync(fileURLToPath(new URL('../proto/onnx.proto', import.meta.url)));
  return root;
}

const TO_OBJECT: protobuf.IConversionOptions = { longs: Number, enums: Number, defaults: false, arrays: true };

function decode<T>(typeName: string, bytes: Uint8Array, what: string): T {
  const T = types().lookupType(typeName);
  try {
    return T.toObject(T.decode(bytes), TO_OBJECT) as T;
  } catch (e) {
    throw new KilnError(
      'E_BAD_ARGUMENT',
      `${what} is not a valid ONNX ${typeName.replace('onnx.', '')}: ${(e as Error).message}`,
      { hint: 'Upload the .onnx file the exporter wrote, unmodified' },
    );
  }
}

export const decodeOnnxModel = (b: Uint8Array, what: string): OnnxModel => decode('onnx.ModelProto', b, what);
export const decodeOnnxTensor = (b: Uint8Array, what: string): OnnxTensor => decode('onnx.TensorProto', b, what);

/** Encodes a ModelProto from its object form (tests build models with it). */
export function encodeOnnxModel(model: object): Uint8Array {
  const T = types().lookupType('onnx.ModelProto');
  return T.encode(T.fromObject(model)).finish();
}

export function encodeOnnxTensor(tensor: object): Uint8Array {
  const T = types().lookupType('onnx.TensorProto');
  return T.encode(T.fromObject(tensor)).finish();
}

/**
 * Is this a serialized ModelProto? A structural scan of the top-level protobuf fields: every field well formed, and a
 * graph (field 7) present. SavedModel (fields 1, 2) and GraphDef (1, 2, 3, 4) never carry field 7.
 */
export function isOnnxModel(b: Uint8Array): boolean {
  let p = 0;
  let graph = false;
  const varint = (): number | null => {
    let v = 0;
    let mul = 1;
    for (let k = 0; k < 10; k++) {
      if (p >= b.length) return null;
      const x = b[p++]!;
      v += (x & 0x7f) * mul;
      mul *= 128;
      if (!(x & 0x80)) return v;
    }
    return null;
  };
  let fields = 0;
  while (p < b.length) {
    const key = varint();
    if (key === null) return false;
    const field = Math.floor(key / 8);
    const wire = key & 7;
    if (field < 1 || field > 25) return false;
    if (wire === 0) {
      if (varint() === null) return false;
    } else if (wire === 2) {
      const len = varint();
      if (len === null || p + len > b.length) return false;
      if (field === 7) graph = true;
      p += len;
    } else return false;
    // the graph and opsets come within the first few fields; no need to walk a long file
    if (++fields > 64) break;
  }
  return graph;
}
