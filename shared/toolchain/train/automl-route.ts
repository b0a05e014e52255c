import { availableParallelism } from 'node:os';
import * as tf from '@tensorflow/tfjs';
import sharp from 'sharp';
import { KilnError } from '../../common/errors.js';
import { normalizePixels, type ImageTarget } from '../data/images.js';
import { trainAutoml, type ImageSplit, type TrainingData } from './automl.js';
import { decodeDataset, type DecodedSplit } from './dataset/decode.js';
import { trainedTflite } from './export.js';
import { timed, type RouteInput, type TrainedModel } from './route.js';

/** Default training budget when kiln.json sets no `train.timeBudgetSeconds`: ten minutes. */
export const DEFAULT_AUTOML_BUDGET_S = 600;

/**
 * The model input of a CNN trained from scratch: kiln.json `train.inputSize`, else the size of the first training
 * image; grey when that image is grey, else RGB.
 */
async function targetOf(input: RouteInput): Promise<ImageTarget> {
  const first = input.dataset.splits.train[0];
  if (!first) throw new KilnError('E_BAD_ARGUMENT', 'the dataset has no training images', { hint: 'Add images' });
  const meta = await sharp(await input.files.read(first.path))
    .metadata()
    .catch(() => null);
  const channels = meta?.channels === 1 || meta?.channels === 2 ? 1 : 3;
  const size = input.config.inputSize;
  if (size !== undefined) {
    const [height, width] = typeof size === 'number' ? [size, size] : size;
    return { height, width, channels };
  }
  if (!meta?.height || !meta.width)
    throw new KilnError('E_BAD_ARGUMENT', `cannot read the size of ${first.path}`, {
      hint: 'Set "train": {"inputSize": [height, width]} in kiln.json',
    });
  return { height: meta.height, width: meta.width, channels };
}

/** Decoded pixels → normalized floats as quantize and verify will feed them (kiln.json `quantize.calibration`). */
function splitOf(split: DecodedSplit, target: ImageTarget, cfg: RouteInput['calibration']): ImageSplit {
  const per = target.height * target.width * target.channels;
  const images = new Float32Array(split.pixels.length * per);
  split.pixels.forEach((px, i) => images.set(normalizePixels(px, target.channels, cfg), i * per));
  return { images, labels: Int32Array.from(split.labels), count: split.pixels.length };
}

/**
 * Route 2, no-code training: a CNN that maps wholly to the Edge TPU, picked and trained by trainAutoml within the time
 * budget, exported through Kiln's TF.js front end as a float .tflite (the quantize stage makes it int8).
 */
export async function trainAutomlRoute(input: RouteInput): Promise<TrainedModel> {
  const { config, dataset } = input;
  const phases: Record<string, number> = {};
  const target = await targetOf(input);
  const decoded = await timed(phases, 'decode images', () =>
    decodeDataset(input.files, dataset, target, input.calibration, input.onImage),
  );
  const shape: [number, number, number] = [target.height, target.width, target.channels];
  const data: TrainingData = {
    shape,
    classNames: dataset.classes,
    train: splitOf(decoded.train, target, input.calibration),
    validation: splitOf(decoded.validation, target, input.calibration),
  };
  const result = await timed(phases, 'train', () =>
    trainAutoml(data, {
      timeBudgetMs: (config.timeBudgetSeconds ?? DEFAULT_AUTOML_BUDGET_S) * 1000,
      flipHorizontal: config.augmentation.flip,
      maxEpochs: config.epochs,
      seed: config.seed,
      threads: config.threads ?? availableParallelism(),
      onEpoch: (e) =>
        input.onEpoch?.({
          epoch: e.epoch,
          loss: e.loss,
          accuracy: e.trainAccuracy,
          validationAccuracy: e.valAccuracy,
          ms: e.ms,
        }),
    }),
  );
  const test = splitOf(decoded.test, target, input.calibration);
  const per = shape[0] * shape[1] * shape[2];
  const floatTestPredictions: number[] = [];
  for (let i = 0; i < test.count; i += 256) {
    const n = Math.min(256, test.count - i);
    const pred = tf.tidy(() =>
      (result.model.predict(tf.tensor(test.images.subarray(i * per, (i + n) * per), [n, ...shape])) as tf.Tensor)
        .argMax(-1)
        .dataSync(),
    );
    floatTestPredictions.push(...Array.from(pred));
  }
  const model = await timed(phases, 'export', () => trainedTflite(result.model));
  result.model.dispose();
  return {
    route: 'automl',
    model,
    quantized: false,
    classes: dataset.classes,
    history: result.history.map((e) => ({
      epoch: e.epoch,
      loss: e.loss,
      accuracy: e.trainAccuracy,
      validationAccuracy: e.valAccuracy,
    })),
    epochs: result.history.length,
    decoded,
    floatTestPredictions,
    phases,
    warnings: [
      ...dataset.warnings,
      ...decoded.warnings,
      `automl: architecture ${result.architecture.name}, best validation accuracy ${result.bestValAccuracy.toFixed(3)} at epoch ${result.bestEpoch}, stopped by ${result.stopped}, ${result.threads} training thread${result.threads === 1 ? '' : 's'}`,
    ],
  };
}
