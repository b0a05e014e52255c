/**
 * No-code training (`trainAutoml`): picks an Edge TPU-friendly CNN sized by the data and a time budget
 * (architecture.ts), trains it on tfjs's WebAssembly backend with Kiln's training kernels (kernels/register.ts), with
 * shift/flip augmentation, a warm-up + cosine learning-rate schedule and early stopping on the validation split, and
 * returns the best model with its per-epoch history.
 */
import * as tf from '@tensorflow/tfjs';
import { candidateArchitectures, type Architecture } from './architecture.js';
import { augmentBatch, seededRandom } from './augment.js';
import { useTrainingBackend } from './kernels/register.js';
import { ReplicaPool } from './parallel/replica-pool.js';

/** Images NHWC float32 (already normalised), one int label per image. */
export interface ImageSplit {
  images: Float32Array;
  labels: Int32Array;
  count: number;
}

export interface TrainingData {
  shape: [number, number, number];
  classNames: string[];
  train: ImageSplit;
  validation: ImageSplit;
}

export interface AutomlOptions {
  /** Wall-time budget for training (architecture choice included). */
  timeBudgetMs: number;
  /** Random horizontal flips (right for most photos and Fashion-MNIST; wrong for digits or text). Default false. */
  flipHorizontal?: boolean;
  /** Random shifts of up to this many pixels (default: 1/14 of the smaller side). */
  maxShift?: number;
  batchSize?: number;
  maxEpochs?: number;
  /** Epochs without a better validation accuracy before stopping (default 4). */
  patience?: number;
  peakLearningRate?: number;
  /**
   * Threads for data-parallel training (this one plus workers; default 1). Fewer are used on small training sets:
   * one per MIN_SAMPLES_PER_REPLICA images, so a worker's start-up is never most of the run.
   */
  threads?: number;
  /** Architecture by name (see candidateArchitectures), skipping the timed choice. */
  architecture?: string;
  seed?: number;
  onEpoch?: (e: EpochRecord) => void;
}

export interface EpochRecord {
  epoch: number;
  loss: number;
  trainAccuracy: number;
  valAccuracy: number;
  learningRate: number;
  ms: number;
}

export interface AutomlResult {
  model: tf.LayersModel;
  architecture: Architecture;
  history: EpochRecord[];
  bestEpoch: number;
  bestValAccuracy: number;
  /** Why training ended. */
  stopped: 'max-epochs' | 'early-stopping' | 'time-budget';
  /** Training steps per second measured while choosing the architecture, per candidate. */
  probes: { name: string; samplesPerSecond: number }[];
  /** Data-parallel replicas trained on (threads). */
  threads: number;
  trainMs: number;
}

/** Epochs the schedule aims for when the budget allows. */
const TARGET_EPOCHS = 15;

function batchOf(
  split: ImageSplit,
  order: Int32Array,
  from: number,
  to: number,
  per: number,
): [Float32Array, Int32Array] {
  const x = new Float32Array((to - from) * per);
  const y = new Int32Array(to - from);
  for (let i = from; i < to; i++) {
    const j = order[i]!;
    x.set(split.images.subarray(j * per, (j + 1) * per), (i - from) * per);
    y[i - from] = split.labels[j]!;
  }
  return [x, y];
}

/** Accuracy of `model` on a split (batches of 256). */
export function accuracy(model: tf.LayersModel, split: ImageSplit, shape: readonly number[]): number {
  const per = shape.reduce((a, b) => a * b, 1);
  let right = 0;
  for (let i = 0; i < split.count; i += 256) {
    const n = Math.min(256, split.count - i);
    const pred = tf.tidy(() => {
      const x = tf.tensor(split.images.subarray(i * per, (i + n) * per), [n, ...shape]);
      return (model.predict(x) as tf.Tensor).argMax(-1).dataSync();
    });
    for (let k = 0; k < n; k++) if (pred[k] === split.labels[i + k]) right++;
  }
  return split.count ? right / split.count : 0;
}

/** Training images per replica below which another thread is not worth starting. */
export const MIN_SAMPLES_PER_REPLICA = 4096;

const setupOf = (a: Architecture, data: TrainingData) => ({
  architecture: a,
  shape: data.shape,
  classes: data.classNames.length,
});

/** Training samples per second of an architecture on `pool`, from a few timed steps after a warm-up. */
async function probe(pool: ReplicaPool, a: Architecture, data: TrainingData, batch: number): Promise<number> {
  await pool.start(setupOf(a, data));
  const per = data.shape[0] * data.shape[1] * data.shape[2];
  const order = Int32Array.from({ length: Math.min(batch, data.train.count) }, (_, i) => i);
  const [xv, yv] = batchOf(data.train, order, 0, order.length, per);
  await pool.step(xv, yv, order.length, 1e-3);
  const steps = 3;
  const t0 = performance.now();
  for (let i = 0; i < steps; i++) await pool.step(xv, yv, order.length, 1e-3);
  return (steps * order.length) / ((performance.now() - t0) / 1000);
}

/** Learning rate at `progress` ∈ [0, 1] of the planned run: linear warm-up over the first 5 %, then cosine to 2 %. */
export function learningRateAt(progress: number, peak: number): number {
  const warm = 0.05;
  if (progress < warm) return peak * (0.1 + (0.9 * progress) / warm);
  const t = Math.min(1, (progress - warm) / (1 - warm));
  return peak * (0.02 + 0.98 * 0.5 * (1 + Math.cos(Math.PI * t)));
}

export async function trainAutoml(data: TrainingData, options: AutomlOptions): Promise<AutomlResult> {
  await useTrainingBackend();
  const replicas = Math.max(1, Math.min(options.threads ?? 1, Math.floor(data.train.count / MIN_SAMPLES_PER_REPLICA)));
  const pool = new ReplicaPool(replicas);
  try {
    return await trainOn(pool, data, options);
  } finally {
    pool.close();
  }
}

async function trainOn(pool: ReplicaPool, data: TrainingData, options: AutomlOptions): Promise<AutomlResult> {
  const t0 = performance.now();
  const batch = options.batchSize ?? 64;
  const maxEpochs = options.maxEpochs ?? 40;
  const patience = options.patience ?? 4;
  const peak = options.peakLearningRate ?? 2e-3;
  const rand = seededRandom(options.seed ?? 1);
  const per = data.shape[0] * data.shape[1] * data.shape[2];
  const n = data.train.count;
  const aug = {
    maxShift: options.maxShift ?? Math.max(1, Math.round(Math.min(data.shape[0], data.shape[1]) / 14)),
    flipHorizontal: options.flipHorizontal ?? false,
  };

  // Choose the largest candidate that fits TARGET_EPOCHS into the budget (the smallest when none does).
  const candidates = candidateArchitectures(data.shape, n);
  const probes: AutomlResult['probes'] = [];
  let arch = candidates[0]!;
  if (options.architecture) {
    const named = candidates.find((c) => c.name === options.architecture);
    if (!named)
      throw new Error(`unknown architecture ${options.architecture}: one of ${candidates.map((c) => c.name)}`);
    arch = named;
  } else {
    for (const c of candidates) {
      const sps = await probe(pool, c, data, batch);
      probes.push({ name: c.name, samplesPerSecond: +sps.toFixed(1) });
      const left = options.timeBudgetMs - (performance.now() - t0);
      if ((TARGET_EPOCHS * n) / sps <= left / 1000) arch = c;
      else break;
    }
  }
  const epochSec = (sps: number): number => n / sps;
  const measured = probes.find((p) => p.name === arch.name)?.samplesPerSecond;
  let plannedEpochs = Math.max(
    1,
    Math.min(
      maxEpochs,
      measured ? Math.floor((options.timeBudgetMs - (performance.now() - t0)) / 1000 / epochSec(measured)) : maxEpochs,
    ),
  );

  await pool.start(setupOf(arch, data));
  const model = pool.model;
  const history: EpochRecord[] = [];
  let best = -1;
  let bestEpoch = 0;
  let bestWeights: tf.Tensor[] | null = null;
  let stopped: AutomlResult['stopped'] = 'max-epochs';
  const order = Int32Array.from({ length: n }, (_, i) => i);
  const stepsPerEpoch = Math.ceil(n / batch);
  for (let epoch = 0; epoch < plannedEpochs; epoch++) {
    const e0 = performance.now();
    for (let i = n - 1; i > 0; i--) {
      const j = Math.floor(rand() * (i + 1));
      const t = order[i]!;
      order[i] = order[j]!;
      order[j] = t;
    }
    let lossSum = 0;
    let accSum = 0;
    let lr = peak;
    let seen = 0;
    let overBudget = false;
    for (let s = 0; s < stepsPerEpoch; s++) {
      // The budget holds inside an epoch too: a partial epoch is still validated and may be the best.
      if (s > 0 && performance.now() - t0 > options.timeBudgetMs) {
        overBudget = true;
        break;
      }
      lr = learningRateAt((epoch * stepsPerEpoch + s) / (plannedEpochs * stepsPerEpoch), peak);
      const from = s * batch;
      const to = Math.min(n, from + batch);
      const [xv, yv] = batchOf(data.train, order, from, to, per);
      const step = await pool.step(augmentBatch(xv, to - from, data.shape, aug, rand), yv, to - from, lr);
      lossSum += step.lossSum;
      accSum += step.correct;
      seen += to - from;
    }
    const valAccuracy = accuracy(model, data.validation, data.shape);
    const rec: EpochRecord = {
      epoch: epoch + 1,
      loss: +(lossSum / seen).toFixed(4),
      trainAccuracy: +(accSum / seen).toFixed(4),
      valAccuracy: +valAccuracy.toFixed(4),
      learningRate: +lr.toExponential(3),
      ms: Math.round(performance.now() - e0),
    };
    history.push(rec);
    options.onEpoch?.(rec);
    if (valAccuracy > best) {
      best = valAccuracy;
      bestEpoch = epoch + 1;
      tf.dispose(bestWeights ?? []);
      bestWeights = model.getWeights().map((w) => w.clone());
    } else if (epoch + 1 - bestEpoch >= patience) {
      stopped = 'early-stopping';
      break;
    }
    if (overBudget) {
      stopped = 'time-budget';
      break;
    }
    // Re-plan from the measured epoch time: the schedule must end inside the budget.
    const left = options.timeBudgetMs - (performance.now() - t0);
    const fits = Math.floor(left / rec.ms);
    if (fits < 1) {
      stopped = epoch + 1 < plannedEpochs ? 'time-budget' : 'max-epochs';
      break;
    }
    plannedEpochs = Math.min(maxEpochs, Math.max(epoch + 2, Math.min(plannedEpochs, epoch + 1 + fits)));
  }
  if (bestWeights) {
    model.setWeights(bestWeights);
    tf.dispose(bestWeights);
  }
  return {
    model,
    architecture: arch,
    history,
    bestEpoch,
    bestValAccuracy: best,
    stopped,
    probes,
    threads: pool.replicas,
    trainMs: Math.round(performance.now() - t0),
  };
}
