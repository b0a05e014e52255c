/**
 * Every artifact name the pipeline's stages read and write, in one place. The stage table (stages.ts) declares with
 * these which stage writes and which reads each one; the cores (cores/*.ts) use them instead of string literals. A
 * fanned-out stage's unit writes its artifacts under `<unit key>/` (stages.ts `unitArtifactName`); readers of such an
 * artifact match it with `artifactMatches`.
 *
 * Names are part of the public contract: they are the object names under `gs://<artifacts>/<modelId>/<buildId>/`, the
 * keys of `artifacts` in build events and build records, and the file names `kiln build -o DIR` writes.
 */

/** The upload's files as the first stage reads them: `upload/<relative path>` (a folder) or `upload/<file name>`. */
export const UPLOAD_PREFIX = 'upload/';

/** convert → the float model as TFLite (train: the trained model, float or already integer). */
export const FLOAT_MODEL = 'model.float.tflite';
/** train → how the model was trained and its test split (training-artifact.ts); verify adds int8 scores. */
export const TRAINING_REPORT = 'training.json';
/** quantize → the full-integer model. */
export const INT8_MODEL = 'model.int8.tflite';
/** quantize → per-tensor calibration statistics (when calibration ran). */
export const CALIBRATION_STATS = 'calibration-stats.json';
/** quantize → what the quantizer did and how well. */
export const QUANTIZE_REPORT = 'quantize-report.json';
/** compile → the Edge TPU model (only where the real edgetpu_compiler is installed). */
export const EDGETPU_MODEL = 'model.int8_edgetpu.tflite';
/** compile → the compiler's log (the real one's, or Kiln's prediction of it). */
export const COMPILE_LOG = 'compile.log';
/** compile → the compile report (placement, memory, segments). */
export const COMPILE_REPORT = 'compile-report.json';
/** compile → the i-th segment of a segmented model (Kiln's prediction only). */
/** Every segment, as the stage table declares them (`<i>` is a number). */
export const SEGMENT_MODELS = 'segment-<i>.tflite';
export const segmentModel = (index: number): string => SEGMENT_MODELS.replace('<i>', String(index));
/** verify → the build report (accuracy, placement, latency, verdict) and its page. */
export const REPORT_JSON = 'report.json';
export const REPORT_HTML = 'report.html';

/** The real compiler's output files for `model.int8.tflite`: its model and its log (renamed `compile.log`). */
export const COMPILER_MODEL_SUFFIX = '_edgetpu.tflite';
export const COMPILER_LOG_SUFFIX = '_edgetpu.log';
export const COMPILER_LOG_OF_INT8 = 'model.int8_edgetpu.log';

/** Data that travels with the upload (upload-data.ts), kept as artifacts under these folders by the first stage. */
export const CALIBRATION_DATA = 'calibration';
export const VALIDATION_DATA = 'validation';
/** Label files a validation folder may carry (class order, or `file,label` rows). */
export const VALIDATION_LABEL_FILES = ['labels.txt', 'labels.csv'] as const;

/** The one artifact naming the data files (data-manifest.ts): they are not listed in the build document. */
export const DATA_MANIFEST = 'data-files.json';

/** A data folder as an artifact reference: every file under `<folder>/`. */
export const dataFolder = (folder: string): string => `${folder}/`;

/**
 * Whether the artifact `name` is the declared artifact `declared`: the same name, the same name under a unit's folder
 * (`m13/compile-report.json` for `compile-report.json`), or a file of a declared data folder (`calibration/`).
 */
export function artifactMatches(declared: string, name: string): boolean {
  if (declared.endsWith('/')) return name.startsWith(declared);
  if (declared.includes('<i>')) {
    const [head, tail] = declared.split('<i>') as [string, string];
    const base = name.slice(name.lastIndexOf('/') + 1);
    return (
      base.startsWith(head) && base.endsWith(tail) && /^\d+$/.test(base.slice(head.length, -tail.length || undefined))
    );
  }
  return name === declared || name.endsWith(`/${declared}`);
}
