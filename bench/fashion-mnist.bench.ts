/**
 * No-code training on Fashion-MNIST, through the path a user's dataset takes: the IDX files are written out as an
 * image-folder dataset (PNG per image, one subfolder per class, train/ and test/), read back with the image-folder
 * reader, trained with trainAutoml (time budget KILN_BENCH_TRAIN_MINUTES, default 25), exported through the TF.js
 * layers loader, quantized (calibrated on training images), compiled (predicted Edge TPU mapping) and scored: float
 * accuracy (tfjs) and quantized accuracy (Kiln's interpreter) on all 10,000 test images. Skipped without
 * /usr/share/datasets/fashion-mnist. Reference in the same run: tfjs's stock cpu backend training the same network.
 * Run alone: npm run bench -- --only fashion-mnist
 */
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import sharp from 'sharp';
import * as tf from '@tensorflow/tfjs';
import { compileModel } from '../shared/edgetpu/compile-model.js';
import { toTfliteBytes } from '../shared/loaders/convert.js';
import { quantizeModel } from '../shared/quantize/quantize-model.js';
import { buildModel } from '../shared/train/architecture.js';
import { accuracy, trainAutoml, type ImageSplit } from '../shared/train/automl.js';
import { seededRandom } from '../shared/train/augment.js';
import { convertTrained } from '../shared/train/export.js';
import { readImageFolderMinimal } from '../shared/train/image-folder-minimal.js';
import { quantizedAccuracy } from '../shared/train/score.js';

const DATA = '/usr/share/datasets/fashion-mnist';
const CLASSES = ['tshirt', 'trouser', 'pullover', 'dress', 'coat', 'sandal', 'shirt', 'sneaker', 'bag', 'boot'];
const BUDGET_MIN = Number(process.env['KILN_BENCH_TRAIN_MINUTES'] ?? 25);

/** The one dataset-reading call (swap for the full dataset reader when it lands). */
const readDataset = readImageFolderMinimal;

function idx(file: string): { dims: number[]; data: Uint8Array } {
  const b = gunzipSync(readFileSync(join(DATA, file)));
  const rank = b[3]!;
  const dims = Array.from({ length: rank }, (_, i) => b.readUInt32BE(4 + 4 * i));
  return { dims, data: new Uint8Array(b.buffer, b.byteOffset + 4 + 4 * rank, b.length - 4 - 4 * rank) };
}

async function writeSplit(dir: string, images: string, labels: string): Promise<number> {
  const x = idx(images);
  const y = idx(labels);
  const [n, h, w] = x.dims as [number, number, number];
  for (const c of CLASSES) mkdirSync(join(dir, c), { recursive: true });
  const CONCURRENCY = 16;
  for (let i = 0; i < n; i += CONCURRENCY) {
    await Promise.all(
      Array.from({ length: Math.min(CONCURRENCY, n - i) }, (_, k) => {
        const j = i + k;
        const px = Buffer.from(x.data.subarray(j * h * w, (j + 1) * h * w));
        return sharp(px, { raw: { width: w, height: h, channels: 1 } })
          .png()
          .toFile(join(dir, CLASSES[y.data[j]!]!, `${String(j).padStart(5, '0')}.png`));
      }),
    );
  }
  return n;
}

/** A shuffled hold-out: `count` images for validation, the rest for training. */
function holdOut(
  all: ImageSplit,
  per: number,
  count: number,
  seed: number,
): { train: ImageSplit; validation: ImageSplit } {
  const rand = seededRandom(seed);
  const order = Int32Array.from({ length: all.count }, (_, i) => i);
  for (let i = all.count - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [order[i], order[j]] = [order[j]!, order[i]!];
  }
  const take = (ids: Int32Array): ImageSplit => {
    const images = new Float32Array(ids.length * per);
    const labels = new Int32Array(ids.length);
    ids.forEach((id, k) => {
      images.set(all.images.subarray(id * per, (id + 1) * per), k * per);
      labels[k] = all.labels[id]!;
    });
    return { images, labels, count: ids.length };
  };
  return { validation: take(order.subarray(0, count)), train: take(order.subarray(count)) };
}

export async function run(): Promise<Record<string, unknown>> {
  if (!existsSync(join(DATA, 'train-images-idx3-ubyte.gz'))) return { skipped: `${DATA} not found` };
  const phases: Record<string, number> = {};
  const load: Record<string, number[]> = { start: loadavg().map((l) => +l.toFixed(1)) };
  let t = performance.now();
  const lap = (name: string): void => {
    const now = performance.now();
    phases[name] = Math.round(now - t);
    t = now;
  };
  const root = join(tmpdir(), `kiln-bench-fashion-mnist-${process.pid}`);
  try {
    await writeSplit(join(root, 'train'), 'train-images-idx3-ubyte.gz', 'train-labels-idx1-ubyte.gz');
    await writeSplit(join(root, 'test'), 't10k-images-idx3-ubyte.gz', 't10k-labels-idx1-ubyte.gz');
    lap('writeImagesMs');
    const trainAll = await readDataset(join(root, 'train'));
    const test = await readDataset(join(root, 'test'), trainAll.classNames);
    lap('readMs');
    const shape = trainAll.shape;
    const per = shape[0] * shape[1] * shape[2];
    const { train, validation } = holdOut(trainAll, per, 5000, 1);

    const result = await trainAutoml(
      { shape, classNames: trainAll.classNames, train, validation },
      {
        timeBudgetMs: BUDGET_MIN * 60_000,
        flipHorizontal: true,
        onEpoch: (e) => process.stdout.write(`  epoch ${e.epoch}: ${JSON.stringify(e)}\n`),
      },
    );
    lap('trainMs');
    load['afterTrain'] = loadavg().map((l) => +l.toFixed(1));
    const floatTest = accuracy(result.model, test, shape);
    lap('floatScoreMs');

    const converted = await convertTrained(result.model);
    const samples = Array.from({ length: 500 }, (_, i) => [train.images.slice(i * per, (i + 1) * per)]);
    const q = await quantizeModel(converted.model, { samples, sampleSource: 'training images', debugSamples: 0 });
    const bytes = toTfliteBytes(q.model);
    lap('quantizeMs');
    const compiled = compileModel([{ path: 'fashion-mnist.tflite', bytes }]).models[0]!;
    lap('compileMs');
    const int8Test = quantizedAccuracy(bytes, test, per);
    lap('scoreMs');

    // Reference: tfjs's stock cpu backend on the same network (a few steps of 16).
    await tf.setBackend('cpu');
    const ref = buildModel(result.architecture, shape, CLASSES.length);
    ref.compile({ optimizer: tf.train.adam(1e-3), loss: 'sparseCategoricalCrossentropy' });
    const x = tf.tensor(train.images.subarray(0, 16 * per), [16, ...shape]);
    const y = tf.tensor(Float32Array.from(train.labels.subarray(0, 16)));
    await ref.trainOnBatch(x, y);
    const r0 = performance.now();
    await ref.trainOnBatch(x, y);
    const cpuSps = 16 / ((performance.now() - r0) / 1000);
    lap('referenceMs');
    const epochs = result.history;
    const epochMs = epochs.length ? Math.round(epochs.reduce((s, e) => s + e.ms, 0) / epochs.length) : 0;
    const wasmSps = epochMs ? (train.count / epochMs) * 1000 : 0;
    const totalMs = Object.values(phases).reduce((a, b) => a + b, 0);
    load['end'] = loadavg().map((l) => +l.toFixed(1));
    const out = {
      int8TestAccuracy: +int8Test.toFixed(4),
      floatTestAccuracy: +floatTest.toFixed(4),
      testImages: test.count,
      architecture: result.architecture,
      probes: result.probes,
      epochs: epochs.length,
      bestEpoch: result.bestEpoch,
      bestValAccuracy: result.bestValAccuracy,
      stopped: result.stopped,
      meanEpochMs: epochMs,
      trainSamplesPerSecond: +wasmSps.toFixed(1),
      referenceCpuSamplesPerSecond: +cpuSps.toFixed(2),
      speedupOverCpuBackend: +(wasmSps / cpuSps).toFixed(1),
      edgetpu: { totalOps: compiled.totalOps, tpuOps: compiled.tpuOps, cpuOps: compiled.cpuOps },
      quantizedOps: q.report.ops,
      phasesMs: phases,
      totalMinutes: +(totalMs / 60000).toFixed(2),
      budgetMinutes: BUDGET_MIN,
      loadAverage: load,
      history: epochs,
    };
    return {
      ...out,
      summary:
        `fashion-mnist: int8 test ${out.int8TestAccuracy}, float ${out.floatTestAccuracy}, ${out.epochs} epochs of ` +
        `${result.architecture.name} (${epochMs} ms each, ${out.trainSamplesPerSecond} samples/s = ` +
        `${out.speedupOverCpuBackend}× tfjs cpu), Edge TPU ${compiled.tpuOps}/${compiled.totalOps} ops, ` +
        `${out.totalMinutes} min total, load ${load['start']!.join('/')}`,
    };
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}
