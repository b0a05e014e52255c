import { KilnError } from '../../errors.js';
import { isGzip, readTarGz } from '../../loaders/archive/tar.js';
import { isZip, readZip } from '../../loaders/archive/zip.js';
import { convertFiles, toTfliteBytes } from '../../loaders/convert.js';
import { MemoryFiles, type ModelFiles } from '../../loaders/files.js';
import type { StageCore } from '../core.js';
import { checkConvertedModel } from '../model-checks.js';

/**
 * convert: the upload (`upload/...` inputs) → `model.float.tflite` (or the uploaded .tflite as is, re-serialized
 * through the IR) via shared/loaders. Summary: source format, packaging, inputs/outputs, op counts.
 */
export const UPLOAD_PREFIX = 'upload/';

/** The upload as ModelFiles: a single archive is unpacked in memory; a single file or a folder is used as is. */
export function uploadFiles(artifacts: ReadonlyMap<string, Uint8Array>, label: string, single: boolean): ModelFiles {
  const files = new Map<string, Uint8Array>();
  for (const [name, bytes] of artifacts)
    if (name.startsWith(UPLOAD_PREFIX)) files.set(name.slice(UPLOAD_PREFIX.length), bytes);
  if (files.size === 0)
    throw new KilnError('E_FILE_NOT_FOUND', `${label}: the upload has no files`, { hint: 'Upload the model again' });
  if (single) {
    const [[name, bytes]] = [...files] as [[string, Uint8Array]];
    if (isZip(bytes)) return new MemoryFiles(label, readZip(bytes), 'zip');
    if (isGzip(bytes)) return new MemoryFiles(label, readTarGz(bytes), 'tar.gz');
    return new MemoryFiles(label, files, 'file', name);
  }
  return new MemoryFiles(label, files, 'folder');
}

export const convertCore: StageCore = async ({ artifacts, config, build }) => {
  const files = uploadFiles(artifacts, build.inputUri, build.inputKind === 'single-file');
  const opts = (config as { convert?: Record<string, unknown> }).convert ?? {};
  const result = convertFiles(files, opts);
  checkConvertedModel(result.model);
  return {
    artifacts: { 'model.float.tflite': toTfliteBytes(result.model) },
    summary: {
      format: result.format,
      packaging: result.packaging,
      entry: result.entry,
      inputs: result.inputs,
      outputs: result.outputs,
      totalOps: Object.values(result.ops).reduce((a, b) => a + b, 0),
      ops: result.ops,
    },
  };
};
