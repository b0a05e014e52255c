/**
 * Model loaders: whatever a user uploads (Keras .h5/.keras, SavedModel, frozen GraphDef, TF.js layers/graph models,
 * .tflite; as a file, folder, .zip or .tar.gz) → float IR → float .tflite, plus the source model for running it in
 * tfjs (parity checks, calibration).
 */
export { convertFiles, convertModel, toTfliteBytes, type ConvertResult, type TensorInfo } from './convert.js';
export { detectFormat, type Detected, type ModelFormat } from './detect.js';
export { MemoryFiles, openModelFiles, type ModelFiles } from './files.js';
export { DEFAULT_LIMITS, type UnpackLimits } from './limits.js';
export {
  convertOptionsFromConfig,
  parseInputSpecs,
  parseOutputNames,
  type ConvertOptions,
  type InputSpec,
} from './options.js';
export type { RewriteReport } from './rewrites/index.js';
export type { SourceModel, TfjsArtifacts } from './source.js';
