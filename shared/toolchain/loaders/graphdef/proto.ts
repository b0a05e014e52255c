import { fileURLToPath } from 'node:url';
import protobuf from 'protobufjs';
import { KilnError } from '../../../common/errors.js';

/** The TF protos Kiln owns (shared/toolchain/loaders/proto/*.proto), decoded with protobufjs into their JSON form. */
let root: protobuf.Root | undefined;

function types(): protobuf.Root {
  root ??= protobuf.loadSync(fileURLToPath(new URL('../proto/saved_model.proto', import.meta.url)));
  return root;
}

const TO_JSON: protobuf.IConversionOptions = { longs: String, enums: String, bytes: String, defaults: false };

function decode<T>(typeName: string, bytes: Uint8Array, what: string): T {
  const T = types().lookupType(typeName);
  try {
    return T.toObject(T.decode(bytes), TO_JSON) as T;
  } catch (e) {
    throw new KilnError(
      'E_BAD_ARGUMENT',
      `${what} is not a valid ${typeName.replace('tensorflow.', '')}: ${(e as Error).message}`,
      {
        hint: 'Upload the .pb file TensorFlow wrote, unmodified',
      },
    );
  }
}

export const decodeGraphDef = (b: Uint8Array, what: string): Record<string, any> =>
  decode('tensorflow.GraphDef', b, what);
export const decodeSavedModel = (b: Uint8Array, what: string): Record<string, any> =>
  decode('tensorflow.SavedModel', b, what);
export const decodeBundleEntry = (b: Uint8Array, what: string): Record<string, any> =>
  decode('tensorflow.BundleEntryProto', b, what);
export const decodeBundleHeader = (b: Uint8Array, what: string): Record<string, any> =>
  decode('tensorflow.BundleHeaderProto', b, what);
