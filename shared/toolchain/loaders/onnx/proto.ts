import { fileURLToPath } from 'node:url';
import protobuf from 'protobufjs';
import { KilnError } from '../../../common/errors.js';
import type { OnnxModel, OnnxTensor } from './types.js';

/** ONNX's protos (shared/toolchain/loaders/proto/onnx.proto), decoded with protobufjs. */
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
 *
 * `prefix`: `b` is only the file's leading bytes (upload sniffing reads a few dozen): the scan stops where they end, and
 * a field cut off there (the graph, as a rule, being most of the file) counts as well formed.
 */
/** ModelProto's top-level fields and their wire types (0 varint, 2 length-delimited). */
const MODEL_FIELDS: Record<number, number> = { 1: 0, 2: 2, 3: 2, 4: 2, 5: 0, 6: 2, 7: 2, 8: 2, 14: 2, 20: 2, 25: 2 };

export function isOnnxModel(b: Uint8Array, prefix = false): boolean {
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
    if (key === null) return prefix && p >= b.length && fields > 0;
    const field = Math.floor(key / 8);
    const wire = key & 7;
    if (MODEL_FIELDS[field] !== wire) return false;
    if (wire === 0) {
      if (varint() === null) return prefix && p >= b.length;
    } else if (wire === 2) {
      const len = varint();
      if (len === null) return prefix && p >= b.length;
      if (field === 7) graph = true;
      if (p + len > b.length) return prefix;
      p += len;
    } else return false;
    // the graph and opsets come within the first few fields; no need to walk a long file
    if (++fields > 64) break;
  }
  return graph || (prefix && fields > 0 && p >= b.length);
}
