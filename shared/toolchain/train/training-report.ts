import sharp from 'sharp';
import type { ImageTarget } from '../data/images.js';
import type { TrainingReport } from '../verify/report/training.js';
import type { DecodedSplit } from './dataset/decode.js';
import type { TrainedModel } from './route.js';

const MAX_MISCLASSIFIED = 24;
const THUMB = 64;

const accuracy = (pred: readonly number[], labels: readonly number[]): number | null =>
  pred.length === 0 ? null : pred.filter((p, i) => p === labels[i]).length / pred.length;

async function thumbnail(px: Uint8Array, target: ImageTarget): Promise<string> {
  const png = await sharp(px, { raw: { width: target.width, height: target.height, channels: target.channels } })
    .resize(THUMB, THUMB, { fit: 'fill' })
    .png()
    .toBuffer();
  return `data:image/png;base64,${png.toString('base64')}`;
}

/**
 * report.json's training block: the route, the data, per-epoch figures, and the int8 model's test-split confusion
 * matrix, per-class accuracy and misclassified images (`int8Predictions`, from the quantized model the build made).
 */
export async function trainingReport(
  trained: TrainedModel,
  int8Predictions: readonly number[] | null,
  target: ImageTarget,
  phasesMs: Record<string, number>,
  warnings: readonly string[],
): Promise<TrainingReport> {
  return withInt8Scores(trainedReport(trained, phasesMs, warnings), trained.decoded.test, int8Predictions, target);
}

/**
 * The training block as training ends, before there is an int8 model: the float model's test accuracy, the history;
 * the int8 figures empty (null accuracy, a zero confusion matrix) until `withInt8Scores` fills them.
 */
export function trainedReport(
  trained: TrainedModel,
  phasesMs: Record<string, number>,
  warnings: readonly string[],
): TrainingReport {
  const test = trained.decoded.test;
  const k = trained.classes.length;
  const trainMs = ['embeddings', 'train head', 'train'].reduce((a, n) => a + (trained.phases[n] ?? 0), 0);
  return {
    route: trained.route,
    ...(trained.base !== undefined ? { base: trained.base } : {}),
    ...(trained.cut
      ? {
          cut: {
            tensor: trained.cut.tensor,
            opIndex: trained.cut.opIndex,
            opType: trained.cut.opType,
            embeddingSize: trained.cut.embeddingSize,
          },
        }
      : {}),
    classes: trained.classes,
    samples: {
      train: trained.decoded.train.paths.length,
      validation: trained.decoded.validation.paths.length,
      test: test.paths.length,
    },
    epochs: trained.epochs,
    trainSeconds: trainMs / 1000,
    testAccuracy: { float: accuracy(trained.floatTestPredictions, test.labels), int8: null },
    history: trained.history,
    confusion: Array.from({ length: k }, () => new Array<number>(k).fill(0)),
    perClass: trained.classes.map((c, ci) => ({
      class: c,
      test: test.labels.filter((y) => y === ci).length,
      correct: 0,
      accuracy: null,
    })),
    misclassified: [],
    phasesMs: { ...trained.phases, ...phasesMs },
    warnings: [...warnings],
  };
}

/**
 * The training block with the int8 model's figures on the test split (`test`: the split's paths, class indices and
 * decoded pixels, in the order of `int8Predictions`): int8 test accuracy, confusion matrix, per-class accuracy and
 * misclassified images. `kiln train` and the pipeline's verify stage both fill the block here.
 */
export async function withInt8Scores(
  report: TrainingReport,
  test: DecodedSplit,
  int8Predictions: readonly number[] | null,
  target: ImageTarget,
  phasesMs: Record<string, number> = {},
): Promise<TrainingReport> {
  const k = report.classes.length;
  const confusion = Array.from({ length: k }, () => new Array<number>(k).fill(0));
  const misclassified: TrainingReport['misclassified'] = [];
  if (int8Predictions)
    for (const [i, p] of int8Predictions.entries()) {
      const y = test.labels[i]!;
      confusion[y]![p]!++;
      if (p !== y && misclassified.length < MAX_MISCLASSIFIED)
        misclassified.push({
          path: test.paths[i]!,
          label: report.classes[y]!,
          predicted: report.classes[p] ?? String(p),
          image: await thumbnail(test.pixels[i]!, target),
        });
    }
  return {
    ...report,
    testAccuracy: {
      float: report.testAccuracy.float,
      int8: int8Predictions ? accuracy(int8Predictions, test.labels) : null,
    },
    confusion,
    perClass: report.classes.map((c, ci) => {
      const idx = test.labels.flatMap((y, i) => (y === ci ? [i] : []));
      const correct = int8Predictions ? idx.filter((i) => int8Predictions[i] === ci).length : 0;
      return {
        class: c,
        test: idx.length,
        correct,
        accuracy: idx.length && int8Predictions ? correct / idx.length : null,
      };
    }),
    misclassified,
    phasesMs: { ...report.phasesMs, ...phasesMs },
  };
}
