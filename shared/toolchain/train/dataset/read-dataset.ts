import { KilnError } from '../../../common/errors.js';
import { checkCounts, classCounts } from './checks.js';
import type { DatasetFiles } from './files.js';
import { indexCsv, indexFolders, nameSome, type DatasetIndex } from './layout.js';
import { DEFAULT_FRACTIONS, splitImages, type SplitImages } from './split.js';

export interface DatasetOptions {
  /** Seed of the split Kiln makes for the splits the dataset lacks (default 1). */
  seed?: number;
  /** The CSV that lists the images (relative to the dataset); default: the one `.csv` at the top of the folder. */
  csv?: string;
  fractions?: { validation: number; test: number };
}

/** A labelled image set, split: what training, calibration and verification read. */
export interface Dataset {
  /** The folder or gs:// prefix, for messages and reports. */
  label: string;
  layout: DatasetIndex['layout'];
  classes: string[];
  splits: SplitImages;
  /** Images per class over all splits. */
  counts: Record<string, number>;
  warnings: string[];
  seed: number;
}

/** Top-level CSVs that are not image lists. */
const NOT_IMAGE_LISTS = new Set(['labels.csv']);

function fail(label: string, errors: readonly string[]): never {
  throw new KilnError('E_BAD_ARGUMENT', `the dataset ${label} cannot be trained on: ${errors.join('; ')}`, {
    hint: 'Fix the dataset and upload it again (docs/train.md describes the layouts)',
    details: { errors },
  });
}

/**
 * Reads a dataset's layout through `files` (a local folder or a bucket prefix), checks it, and splits it
 * deterministically. Throws one bad-input KilnError listing every problem; returns warnings for what training can
 * live with. Reads only the CSV (when there is one): images are decoded later, at the model's input size.
 */
export async function readDataset(files: DatasetFiles, opts: DatasetOptions = {}): Promise<Dataset> {
  const entries = await files.list();
  const seed = opts.seed ?? 1;
  let csv = opts.csv;
  if (csv === undefined) {
    const csvs = entries
      .map((e) => e.path)
      .filter((p) => !p.includes('/') && p.toLowerCase().endsWith('.csv') && !NOT_IMAGE_LISTS.has(p.toLowerCase()));
    if (csvs.length > 1)
      fail(files.label, [
        `it holds several CSV files (${nameSome(csvs)}); name the image list in kiln.json "train": {"csv": "…"}`,
      ]);
    csv = csvs[0];
  }
  let index: DatasetIndex;
  if (csv !== undefined) {
    const entry = entries.find((e) => e.path === csv);
    if (!entry || entry.escapes)
      fail(files.label, [`the CSV ${csv} is not in the dataset folder; put it there or fix "train.csv" in kiln.json`]);
    const text = Buffer.from(await files.read(csv)).toString('utf8');
    index = indexCsv(csv, text, entries, {
      ...(files.bucket !== undefined ? { bucket: files.bucket } : {}),
      ...(files.prefix !== undefined ? { prefix: files.prefix } : {}),
    });
  } else {
    index = indexFolders(entries);
  }
  const splits = splitImages(index.images, seed, opts.fractions ?? DEFAULT_FRACTIONS);
  const found = checkCounts(files.label, index.classes, index.emptyClasses, splits);
  const errors = [...index.errors, ...found.errors];
  if (errors.length > 0) fail(files.label, errors);
  return {
    label: files.label,
    layout: index.layout,
    classes: index.classes,
    splits,
    counts: classCounts(index.classes, splits),
    warnings: [...index.warnings, ...found.warnings],
    seed,
  };
}

/** Files that make a folder a model upload (its `calibration/` and `validation/` images are data, not a dataset). */
const MODEL_FILE = /(\.(tflite|h5|hdf5|keras|pb|pbtxt|onnx|zip|tgz|tar\.gz)|(^|\/)model\.json)$/i;

/**
 * Whether a file listing looks like a dataset rather than a model (pure): a kiln.json train block, or — with no model
 * file in it — at least two class folders of images outside `validation/`/`test/` (a model upload's validation data
 * alone never makes it a dataset).
 */
export function looksLikeDataset(paths: readonly string[], hasTrainBlock: boolean): boolean {
  if (hasTrainBlock) return true;
  if (paths.some((p) => MODEL_FILE.test(p))) return false;
  const index = indexFolders(paths.map((path) => ({ path })));
  const training = index.images.filter((i) => i.split === undefined || i.split === 'train');
  return new Set(training.map((i) => i.label)).size >= 2;
}
