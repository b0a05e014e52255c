import { KilnError } from '../common/errors.js';
import { isOnnxModel } from '../toolchain/loaders/onnx/proto.js';

/**
 * A first look at a single-file upload: its leading bytes must match the format its name claims. Pure and cheap; deep
 * validation is the convert stage's job. A mismatch fails the build before any stage runs.
 */
const MAGIC: Record<string, { offset: number; bytes: number[]; what: string }> = {
  tflite: { offset: 4, bytes: [0x54, 0x46, 0x4c, 0x33], what: 'a TFLite flatbuffer (identifier "TFL3")' },
  'keras-h5': { offset: 0, bytes: [0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a], what: 'an HDF5 file' },
  'keras-v3': { offset: 0, bytes: [0x50, 0x4b, 0x03, 0x04], what: 'a .keras (zip) archive' },
  zip: { offset: 0, bytes: [0x50, 0x4b, 0x03, 0x04], what: 'a zip archive' },
  'tar.gz': { offset: 0, bytes: [0x1f, 0x8b], what: 'a gzip stream' },
};

/** How many leading bytes ingest reads to classify a single-file upload (every magic number lies within them). */
export const SNIFF_BYTES = 64;

/** `whole`: `head` is the entire file (false: its first bytes, as ingest reads them). */
export function checkUploadBytes(name: string, format: string, head: Uint8Array, whole = true): void {
  if (head.length === 0) {
    throw new KilnError('E_FILE_EMPTY', `${name} is empty`, { hint: 'Upload the model file again' });
  }
  if (format === 'onnx') {
    // no magic number: a protobuf ModelProto, checked by its top-level fields (as far as `head` reaches)
    if (!isOnnxModel(head, !whole))
      throw new KilnError('E_BAD_ARGUMENT', `${name} is not an ONNX model (no ModelProto graph)`, {
        hint: 'The file is corrupt or has the wrong extension; upload the .onnx the exporter wrote',
      });
    return;
  }
  const magic = MAGIC[format];
  if (!magic) return;
  const ok = magic.bytes.every((b, i) => head[magic.offset + i] === b);
  if (!ok) {
    const code = format === 'tflite' ? 'E_TFLITE_IDENTIFIER' : 'E_BAD_ARGUMENT';
    throw new KilnError(code, `${name} is not ${magic.what}`, {
      hint: 'The file is corrupt or has the wrong extension; upload the original model',
    });
  }
}
