import { KilnError } from '../../common/errors.js';
import { isGzip, readTarGz } from '../../toolchain/loaders/archive/tar.js';
import { isZip, readZip } from '../../toolchain/loaders/archive/zip.js';
import { convertFiles, toTfliteBytes } from '../../toolchain/loaders/convert.js';
import { MemoryFiles, type ModelFiles } from '../../toolchain/loaders/files.js';
import { convertOptionsFromConfig } from '../../toolchain/loaders/options.js';
import { CALIBRATION_DATA, FLOAT_MODEL, UPLOAD_PREFIX, VALIDATION_DATA, dataFolder } from '../artifacts.js';
import type { StageCore } from '../core.js';
import { checkConvertedModel } from '../model-checks.js';
import { dataFilesOf } from '../upload-data.js';

/**
 * convert: the upload (`upload/...` inputs) → `model.float.tflite` (or the uploaded .tflite as is, re-serialized
 * through the IR) via shared/loaders. Summary: source format, packaging, inputs/outputs, op counts.
 */
/**
 * The upload as ModelFiles (a single archive is unpacked in memory; a single file or a folder is used as is), and the
 * calibration/validation data that came with it.
 */
export function uploadFiles(
  artifacts: ReadonlyMap<string, Uint8Array>,
  label: string,
  single: boolean,
): { model: ModelFiles; data: Map<string, Uint8Array> } {
  const files = new Map<string, Uint8Array>();
  for (const [name, bytes] of artifacts)
    if (name.startsWith(UPLOAD_PREFIX)) files.set(name.slice(UPLOAD_PREFIX.length), bytes);
  if (files.size === 0)
    throw new KilnError('E_FILE_NOT_FOUND', `${label}: the upload has no files`, { hint: 'Upload the model again' });
  if (single) {
    const [[name, bytes]] = [...files] as [[string, Uint8Array]];
    const unpacked = isZip(bytes) ? readZip(bytes) : isGzip(bytes) ? readTarGz(bytes) : null;
    if (unpacked)
      return { model: new MemoryFiles(label, unpacked, isZip(bytes) ? 'zip' : 'tar.gz'), data: dataFilesOf(unpacked) };
    return { model: new MemoryFiles(label, files, 'file', name), data: new Map() };
  }
  return { model: new MemoryFiles(label, files, 'folder'), data: dataFilesOf(files) };
}

export const convertCore: StageCore = async ({ artifacts, config, build }) => {
  const { model: files, data } = uploadFiles(artifacts, build.inputUri, build.inputKind === 'single-file');
  const opts = convertOptionsFromConfig((config as { convert?: unknown }).convert);
  const result = convertFiles(files, opts);
  checkConvertedModel(result.model);
  return {
    // Calibration/validation data travels on as build artifacts under the same names (shared/pipeline/upload-data.ts).
    artifacts: { [FLOAT_MODEL]: toTfliteBytes(result.model), ...Object.fromEntries(data) },
    summary: {
      format: result.format,
      packaging: result.packaging,
      entry: result.entry,
      inputs: result.inputs,
      outputs: result.outputs,
      ...(result.inputLayout ? { inputLayout: result.inputLayout } : {}),
      totalOps: Object.values(result.ops).reduce((a, b) => a + b, 0),
      data: {
        calibrationFiles: [...data.keys()].filter((n) => n.startsWith(dataFolder(CALIBRATION_DATA))).length,
        validationFiles: [...data.keys()].filter((n) => n.startsWith(dataFolder(VALIDATION_DATA))).length,
      },
      ops: result.ops,
    },
  };
};
