import { readFile, stat } from 'node:fs/promises';
import { KilnError } from '../common/errors.js';

/** Reads a user-named input file, turning "missing", "is a folder" and "empty" into one-line bad-input errors. */
export async function readInputFile(file: string): Promise<Uint8Array> {
  let info;
  try {
    info = await stat(file);
  } catch {
    throw new KilnError('E_FILE_NOT_FOUND', `${file}: no such file`, { hint: 'Check the path' });
  }
  if (!info.isFile()) throw new KilnError('E_BAD_ARGUMENT', `${file} is not a file`, { hint: 'Name a .tflite file' });
  const bytes = await readFile(file);
  return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}
