import { modelIdOf } from './ids.js';

/**
 * Which uploads start a build. Pure: decided from the object name and metadata alone.
 *  - A single model file (.tflite, .h5, .keras, .onnx, .zip, .tar.gz/.tgz) at the top level of the uploads bucket.
 *  - A folder (SavedModel, TF.js with shards, calibration images, …) when its `kiln.json` is written; write it last.
 *  - Objects Kiln wrote itself (metadata `kiln-artifact`) never start a build.
 * `kiln.json` beside a top-level single file (`<name>.kiln.json`) configures that file's build.
 */
export const SINGLE_FILE_FORMATS = [
  { suffix: '.tflite', format: 'tflite' },
  { suffix: '.h5', format: 'keras-h5' },
  { suffix: '.hdf5', format: 'keras-h5' },
  { suffix: '.keras', format: 'keras-v3' },
  { suffix: '.onnx', format: 'onnx' },
  { suffix: '.zip', format: 'zip' },
  { suffix: '.tar.gz', format: 'tar.gz' },
  { suffix: '.tgz', format: 'tar.gz' },
] as const;

export const ARTIFACT_MARKER_KEY = 'kiln-artifact';

export type UploadKind =
  | { kind: 'single-file'; modelId: string; format: string; modelObject: string; configObject: string }
  | { kind: 'folder'; modelId: string; prefix: string; configObject: string }
  | { kind: 'ignored'; reason: string };

export function classifyUpload(object: string, metadata: Record<string, string> | undefined): UploadKind {
  if (metadata?.[ARTIFACT_MARKER_KEY] !== undefined) return { kind: 'ignored', reason: 'written by Kiln' };
  if (object.endsWith('/')) return { kind: 'ignored', reason: 'a folder marker object (its name ends in /)' };
  if (object === 'kiln.json') return { kind: 'ignored', reason: 'kiln.json at the top level names no folder' };
  if (object.endsWith('/kiln.json')) {
    const prefix = object.slice(0, -'kiln.json'.length);
    return { kind: 'folder', modelId: modelIdOf(prefix.slice(0, -1)), prefix, configObject: object };
  }
  if (object.endsWith('.kiln.json')) return { kind: 'ignored', reason: 'config of a single-file upload' };
  const lower = object.toLowerCase();
  const match = SINGLE_FILE_FORMATS.find((f) => lower.endsWith(f.suffix));
  if (!match) return { kind: 'ignored', reason: 'not a model file' };
  if (object.includes('/'))
    return { kind: 'ignored', reason: 'inside a folder: the folder builds when its kiln.json is written' };
  const stem = object.slice(0, -match.suffix.length);
  return {
    kind: 'single-file',
    modelId: modelIdOf(object),
    format: match.format,
    modelObject: object,
    configObject: `${stem}.kiln.json`,
  };
}
