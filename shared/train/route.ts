import type { CalibrationConfig } from '../data/input-config.js';
import type { TrainConfig, TrainRoute } from './config.js';
import type { DecodedDataset } from './dataset/decode.js';
import type { DatasetFiles } from './dataset/files.js';
import type { Dataset } from './dataset/read-dataset.js';
import type { EpochStats } from './transfer/head.js';

/** What every training route gets: the dataset (read and split), its files, the train block, the image settings. */
export interface RouteInput {
  files: DatasetFiles;
  dataset: Dataset;
  config: TrainConfig;
  /** kiln.json `quantize.calibration`: resize fit, channel order, normalization of the model input. */
  calibration: CalibrationConfig;
  /** Transfer learning's base model (file name and bytes), when the route takes one. */
  base?: { name: string; bytes: Uint8Array };
  onImage?: (done: number, total: number) => void;
  onEpoch?: (s: EpochStats) => void;
}

/** What every route returns: a .tflite classifier whose output i is `classes[i]`, and how it was trained. */
export interface TrainedModel {
  route: TrainRoute;
  /** The trained model (.tflite bytes): float (quantized by the quantize stage) or already integer. */
  model: Uint8Array;
  quantized: boolean;
  classes: string[];
  history: EpochStats[];
  epochs: number;
  base?: string;
  /** Transfer learning: where the base was cut. */
  cut?: {
    tensor: string;
    opIndex: number;
    opType: string;
    embeddingSize: number;
    dtype: string;
    baseClasses: number;
  };
  /** The decoded images (test images are scored after quantization; the report shows misclassified ones). */
  decoded: DecodedDataset;
  /** Top-1 of the float model on `decoded.test`, in order. */
  floatTestPredictions: number[];
  /** Wall time per phase, ms. */
  phases: Record<string, number>;
  warnings: string[];
}

export type TrainRouteFn = (input: RouteInput) => Promise<TrainedModel>;

/** Runs `f`, adding its wall time in ms to `phases[name]`. */
export async function timed<T>(phases: Record<string, number>, name: string, f: () => Promise<T>): Promise<T> {
  const t0 = performance.now();
  try {
    return await f();
  } finally {
    phases[name] = (phases[name] ?? 0) + Math.round(performance.now() - t0);
  }
}
