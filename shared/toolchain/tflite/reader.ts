import { KilnError, isKilnError } from '../../common/errors.js';
import { CheckedByteBuffer } from './checked-byte-buffer.js';
import type { TfliteBuffer, TfliteModel } from './model.js';
import { fb } from './schema.js';
import { validateModel } from './validate.js';

const IDENTIFIER = 'TFL3';

/**
 * Reads a .tflite file into a typed model. Buffers are views into `bytes` (keep `bytes` alive and unmodified).
 * Malformed input always surfaces as a KilnError (E_TFLITE_*), never as a raw TypeError/RangeError.
 */
export function readTflite(bytes: Uint8Array, opts: { validate?: boolean } = {}): TfliteModel {
  if (bytes.length === 0) {
    throw new KilnError('E_FILE_EMPTY', 'the model file is empty (0 bytes)', {
      hint: 'Upload the .tflite file again; the copy is empty',
    });
  }
  if (bytes.length < 8) {
    throw new KilnError(
      'E_TFLITE_MALFORMED',
      `the model file is only ${bytes.length} bytes, too short to be a TFLite model`,
      {
        hint: 'Upload the complete .tflite file',
      },
    );
  }
  const ident = String.fromCharCode(bytes[4]!, bytes[5]!, bytes[6]!, bytes[7]!);
  if (ident !== IDENTIFIER) {
    throw new KilnError(
      'E_TFLITE_IDENTIFIER',
      `not a TFLite model: file identifier is ${JSON.stringify(ident)}, expected "TFL3"`,
      {
        hint: 'Give a .tflite file written by the TFLite converter (or a Keras/SavedModel/TF.js model for `kiln convert`)',
      },
    );
  }
  const model = decode(bytes);
  if (opts.validate !== false) validateModel(model, bytes.length);
  return model;
}

function decode(bytes: Uint8Array): TfliteModel {
  const bb = new CheckedByteBuffer(bytes);
  try {
    const m = fb.Model.getRootAsModel(bb);
    const list = <T>(n: number, get: (i: number) => T | null): T[] => {
      const out: T[] = [];
      for (let i = 0; i < n; i++) {
        const v = get(i);
        if (v !== null) out.push(v);
      }
      return out;
    };
    const buffers: TfliteBuffer[] = list(m.buffersLength(), (i) => {
      const b = m.buffers(i);
      if (!b) return null;
      return { data: bufferView(bb, b), offset: b.offset(), size: b.size() };
    });
    const description = m.description();
    return {
      version: m.version(),
      description: description === null ? null : String(description),
      operatorCodes: list(m.operatorCodesLength(), (i) => m.operatorCodes(i)?.unpack() ?? null),
      subgraphs: list(m.subgraphsLength(), (i) => m.subgraphs(i)?.unpack() ?? null),
      buffers,
      metadataBuffer: list(m.metadataBufferLength(), (i) => m.metadataBuffer(i)),
      metadata: list(m.metadataLength(), (i) => m.metadata(i)?.unpack() ?? null),
      signatureDefs: list(m.signatureDefsLength(), (i) => m.signatureDefs(i)?.unpack() ?? null),
    };
  } catch (e) {
    if (isKilnError(e)) throw e;
    throw new KilnError('E_TFLITE_MALFORMED', `not a valid TFLite flatbuffer (${(e as Error).message})`, {
      hint: 'The file is truncated or corrupt; re-export the model from the TFLite converter',
      cause: e,
    });
  }
}

/** Zero-copy view of a Buffer table's `data` vector. */
function bufferView(bb: CheckedByteBuffer, b: InstanceType<typeof fb.Buffer>): Uint8Array {
  const len = b.dataLength();
  if (len === 0) return new Uint8Array(0);
  const field = bb.__offset(b.bb_pos, 4);
  const start = bb.__vector(b.bb_pos + field);
  return bb.byteView(start, len);
}
