import { KilnError } from '../../common/errors.js';
import { memoryDatasetFiles } from '../../toolchain/train/dataset/files.js';
import { encodeTrainingRecord, TRAINING_SCHEMA, trainedDataFiles } from '../../toolchain/train/trained-data.js';
import { trainFromDataset } from '../../toolchain/train/train-dataset.js';
import { trainedReport } from '../../toolchain/train/training-report.js';
import { timed } from '../../toolchain/train/route.js';
import {
  CALIBRATION_DATA,
  FLOAT_MODEL,
  TRAINING_REPORT,
  UPLOAD_PREFIX,
  VALIDATION_DATA,
  dataFolder,
} from '../artifacts.js';
import type { StageCore } from '../core.js';
import { parseGsUri } from '../ids.js';

/**
 * train (the `dataset` route): the upload — a labelled image set, read only through its `upload/<path>` inputs, so
 * nothing outside the dataset is read — → a trained classifier as `model.float.tflite` (float, or already integer for
 * an integer base: quantize passes it as is), the training images as `calibration/`, the test split as labelled
 * `validation/` (class folders and `labels.txt` in class order), and `training.json` (the training block so far and the
 * test list; verify adds the int8 figures). Bad datasets fail with the dataset checks' one bad-input error.
 */
export const trainCore: StageCore = async ({ artifacts, config, build }) => {
  const files = new Map<string, Uint8Array>();
  for (const [name, bytes] of artifacts)
    if (name.startsWith(UPLOAD_PREFIX)) files.set(name.slice(UPLOAD_PREFIX.length), bytes);
  if (files.size === 0)
    throw new KilnError('E_FILE_NOT_FOUND', `${build.inputUri}: the upload has no files`, {
      hint: 'Upload the dataset again',
    });
  // The dataset's place (a CSV's gs:// paths must lie inside it): the folder of the upload's kiln.json.
  const where = build.inputUri.startsWith('gs://') ? parseGsUri(build.inputUri) : null;
  const prefix = where ? where.object.slice(0, where.object.lastIndexOf('/') + 1) : undefined;
  const dataset = memoryDatasetFiles(
    build.inputUri.slice(0, build.inputUri.lastIndexOf('/') + 1),
    files,
    where && prefix !== undefined ? { bucket: where.bucket, prefix } : {},
  );
  const phases: Record<string, number> = {};
  const { trained } = await timed(phases, 'train (total)', () => trainFromDataset(dataset, { config }));
  const { data, test } = await trainedDataFiles(dataset, trained);
  const report = trainedReport(trained, phases, trained.warnings);
  const count = (folder: string) => [...data.keys()].filter((n) => n.startsWith(dataFolder(folder))).length;
  return {
    artifacts: {
      [FLOAT_MODEL]: trained.model,
      ...Object.fromEntries(data),
      [TRAINING_REPORT]: encodeTrainingRecord({ schema: TRAINING_SCHEMA, report, test }),
    },
    summary: {
      route: trained.route,
      ...(trained.base !== undefined ? { base: trained.base } : {}),
      classes: trained.classes,
      samples: report.samples,
      epochs: trained.epochs,
      trainSeconds: report.trainSeconds,
      quantized: trained.quantized,
      testAccuracy: { float: report.testAccuracy.float },
      data: { calibrationFiles: count(CALIBRATION_DATA), validationFiles: count(VALIDATION_DATA) },
      warnings: trained.warnings,
    },
  };
};
