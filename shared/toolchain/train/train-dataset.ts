import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { KilnError } from '../../common/errors.js';
import { parseQuantizeConfig } from '../quantize/config.js';
import { TrainConfigSchema, type TrainConfig } from './config.js';
import type { DatasetFiles } from './dataset/files.js';
import { resolveCsvPath } from './dataset/layout.js';
import { readDataset, type Dataset } from './dataset/read-dataset.js';
import type { RouteInput, TrainedModel } from './route.js';
import { trainRoute } from './routes.js';
import type { EpochStats } from './transfer/head.js';

export interface TrainDatasetOptions {
  /** The parsed kiln.json (its `train` and `quantize` blocks are read). */
  config: { train?: TrainConfig | undefined; quantize?: unknown };
  /** A base model named outside the dataset (the CLI's `--base`): a local file the user chose. */
  basePath?: string;
  onImage?: (done: number, total: number) => void;
  onEpoch?: (s: EpochStats) => void;
}

export interface TrainDatasetResult {
  dataset: Dataset;
  trained: TrainedModel;
  config: TrainConfig;
}

/** The transfer route's base: `--base`, else `train.base` read through the dataset port (inside the dataset only). */
async function baseModel(files: DatasetFiles, train: TrainConfig, basePath?: string): Promise<RouteInput['base']> {
  if (basePath !== undefined) {
    const b = await readFile(basePath).catch(() => {
      throw new KilnError('E_FILE_NOT_FOUND', `${basePath}: no such base model file`, { hint: 'Check --base' });
    });
    return { name: basename(basePath), bytes: new Uint8Array(b.buffer, b.byteOffset, b.byteLength) };
  }
  if (train.base === undefined) return undefined;
  const r = resolveCsvPath(train.base, {
    ...(files.bucket !== undefined ? { bucket: files.bucket } : {}),
    ...(files.prefix !== undefined ? { prefix: files.prefix } : {}),
    csvDir: '',
  });
  if ('problem' in r)
    throw new KilnError('E_BAD_ARGUMENT', `kiln.json train.base ${train.base} ${r.problem}`, {
      hint: 'Put the base model in the dataset folder and name it relative to kiln.json',
    });
  const listed = (await files.list()).find((e) => e.path === r.path);
  if (!listed || listed.escapes)
    throw new KilnError('E_FILE_NOT_FOUND', `kiln.json train.base ${train.base} is not in the dataset ${files.label}`, {
      hint: 'Upload the base model with the dataset, or fix train.base',
    });
  return { name: basename(r.path), bytes: await files.read(r.path) };
}

/**
 * Trains a model from a labelled image set (the toolchain half of the train stage): reads and checks the dataset,
 * loads the base model for transfer learning, runs the route kiln.json `train.route` names. The result is a .tflite
 * for the usual quantize → compile → verify, plus what the report needs.
 */
export async function trainFromDataset(files: DatasetFiles, opts: TrainDatasetOptions): Promise<TrainDatasetResult> {
  const config = opts.config.train ?? TrainConfigSchema.parse({});
  const route = trainRoute(config.route);
  const dataset = await readDataset(files, {
    seed: config.seed,
    fractions: config.split,
    ...(config.csv !== undefined ? { csv: config.csv } : {}),
  });
  const base = await baseModel(files, config, opts.basePath);
  const trained = await route({
    files,
    dataset,
    config,
    calibration: parseQuantizeConfig({ quantize: opts.config.quantize ?? {} }).calibration,
    ...(base ? { base } : {}),
    ...(opts.onImage ? { onImage: opts.onImage } : {}),
    ...(opts.onEpoch ? { onEpoch: opts.onEpoch } : {}),
  });
  return { dataset, trained, config };
}
