import { KilnError } from '../../../common/errors.js';
import type { IrModel } from '../../ir/model.js';
import type { Detected } from '../detect.js';
import type { ModelFiles } from '../files.js';
import type { ConvertOptions } from '../options.js';
import { decodeOnnxModel } from './proto.js';
import { onnxToIr, type InputLayout } from './to-ir.js';

/** An .onnx file (ModelProto) → float IR. */
export function loadOnnx(
  files: ModelFiles,
  det: Detected,
  opts: ConvertOptions,
): { model: IrModel; layout: InputLayout[] } {
  const bytes = files.read(det.entry);
  if (!bytes) throw new KilnError('E_FILE_NOT_FOUND', `${det.entry}: no such file`);
  const model = decodeOnnxModel(bytes, det.entry);
  return onnxToIr(model, det.entry, opts);
}
