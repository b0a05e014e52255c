import { basename } from 'node:path';
import { z } from 'zod';
import type { IrModel } from '../ir/model.js';
import type { CalibrationConfig } from '../data/input-config.js';
import { loadPixels } from '../data/images.js';
import { TrainingReportSchema, type TrainingReport } from '../verify/report/training.js';
import type { DecodedSplit } from './dataset/decode.js';
import type { DatasetFiles } from './dataset/files.js';
import type { TrainedModel } from './route.js';
import { withInt8Scores } from './training-report.js';
import { imageInputOf } from './transfer/embed.js';
import { classify } from './transfer/transfer.js';

/**
 * What a trained model takes into quantize → compile → verify: `calibration/` the training images (only for a float
 * model; an integer model passes quantize as is), `validation/<class>/…` the test split with `validation/labels.txt` in
 * class order — so verify scores the test split, which neither training nor calibration saw — and the training record
 * (`training.json`: the training block so far and which validation file is which test image). `kiln train` and the
 * pipeline's train stage both lay the data out here.
 */
export const TRAINING_SCHEMA = 'dev.kiln.training.v1';

export const TrainingRecordSchema = z.strictObject({
  schema: z.literal(TRAINING_SCHEMA),
  /** The training block without the int8 figures (training-report.ts `trainedReport`). */
  report: TrainingReportSchema,
  /** The test split in order: its file under `validation/`, its path in the dataset, its class index. */
  test: z.array(z.strictObject({ file: z.string(), path: z.string(), label: z.number().int().min(0) })),
});
export type TrainingRecord = z.infer<typeof TrainingRecordSchema>;

/** File names inside the build's data folders: flat, unique, from the dataset path. */
const flatName = (i: number, label: string, path: string): string =>
  `${String(i).padStart(5, '0')}-${label}-${basename(path)}`;

/** The data folders of a trained model (names start with `calibration/` or `validation/`) and its test list. */
export async function trainedDataFiles(
  files: DatasetFiles,
  trained: TrainedModel,
): Promise<{ data: Map<string, Uint8Array>; test: TrainingRecord['test'] }> {
  const data = new Map<string, Uint8Array>();
  const { train, test } = trained.decoded;
  if (!trained.quantized)
    for (const [i, p] of train.paths.entries())
      data.set(`calibration/${flatName(i, trained.classes[train.labels[i]!]!, p)}`, await files.read(p));
  const list: TrainingRecord['test'] = [];
  for (const [i, p] of test.paths.entries()) {
    const label = trained.classes[test.labels[i]!]!;
    const file = `validation/${label}/${flatName(i, label, p)}`;
    data.set(file, await files.read(p));
    list.push({ file, path: p, label: test.labels[i]! });
  }
  data.set('validation/labels.txt', new TextEncoder().encode(`${trained.classes.join('\n')}\n`));
  return { data, test: list };
}

export function encodeTrainingRecord(r: TrainingRecord): Uint8Array {
  return new TextEncoder().encode(`${JSON.stringify(TrainingRecordSchema.parse(r), null, 2)}\n`);
}

export function parseTrainingRecord(bytes: Uint8Array): TrainingRecord {
  return TrainingRecordSchema.parse(JSON.parse(new TextDecoder().decode(bytes)));
}

/**
 * The training block with the int8 model's figures: the test images of the record (read from `files`, names as in the
 * record) decoded at the model input as training decoded them, classified by the int8 model (shared/train's
 * `classify`, as `kiln train` does).
 */
export async function scoreTrainingRecord(
  record: TrainingRecord,
  files: ReadonlyMap<string, Uint8Array>,
  int8: IrModel,
  cfg: CalibrationConfig,
): Promise<TrainingReport> {
  const { target } = imageInputOf(int8);
  const split: DecodedSplit = { paths: [], labels: [], pixels: [] };
  for (const t of record.test) {
    const bytes = files.get(t.file);
    if (!bytes) throw new Error(`the test image ${t.file} of training.json is missing from the build`);
    split.paths.push(t.path);
    split.labels.push(t.label);
    split.pixels.push(await loadPixels(bytes, t.path, target, { ...cfg, resize: undefined }));
  }
  const t0 = performance.now();
  const predictions = classify(int8, split, cfg);
  return withInt8Scores(record.report, split, predictions, target, {
    'score test split': Math.round(performance.now() - t0),
  });
}
