/**
 * No-code training on Fashion-MNIST, through the path a user's dataset takes: the IDX files are written out as an
 * image-folder dataset (PNG per image, one subfolder per class, train/ and test/ split folders, kiln.json with a
 * `train` block), read and split by the dataset reader, trained by the `automl` route (time budget
 * KILN_BENCH_TRAIN_MINUTES, default 25), exported through the TF.js layers loader, quantized (calibrated on training
 * images), compiled (predicted Edge TPU mapping) and scored: float accuracy (tfjs) and int8 accuracy (Kiln's
 * interpreter) on all 10,000 test images. Skipped without /usr/share/datasets/fashion-mnist. Reference in the same
 * run: tfjs's stock cpu backend training the same network.
 * Run alone: npm run bench -- --only fashion-mnist
 */
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import sharp from 'sharp';
import * as tf from '@tensorflow/tfjs';
import { normalizePixels } from '../shared/toolchain/data/images.js';
import { compileModel } from '../shared/toolchain/edgetpu/compile-model.js';
import { fromTflite } from '../shared/toolchain/ir/from-tflite.js';
import { toTfliteBytes } from '../shared/toolchain/loaders/convert.js';
import { quantizeModel } from '../shared/toolchain/quantize/quantize-model.js';
import { readTflite } from '../shared/toolchain/tflite/reader.js';
import { buildModel, candidateArchitectures } from '../shared/toolchain/train/architecture.js';
import { localDatasetFiles } from '../shared/toolchain/train/dataset/files.js';
import { TrainConfigSchema } from '../shared/toolchain/train/config.js';
import { trainFromDataset } from '../shared/toolchain/train/train-dataset.js';
import { imageInputOf } from '../shared/toolchain/train/transfer/embed.js';
import { classify } from '../shared/toolchain/train/transfer/transfer.js';
import { CalibrationConfigSchema } from '../shared/toolchain/data/input-config.js';

const DATA = '/usr/share/datasets/fashion-mnist';
const CLASSES = ['tshirt', 'trouser', 'pullover', 'dress', 'coat', 'sandal', 'shirt', 'sneaker', 'bag', 'boot'];
const BUDGET_MIN = Number(process.env['KILN_BENCH_TRAIN_MINUTES'] ?? 25);

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
    const train = TrainConfigSchema.parse({
      route: 'automl',
      timeBudgetSeconds: BUDGET_MIN * 60,
      split: { validation: 5000 / 60000, test: 0 },
      augmentation: { flip: true },
    });
    const calibration = CalibrationConfigSchema.parse({ normalization: { scale: 1 / 255, offset: 0 } });
    writeFileSync(join(root, 'kiln.json'), JSON.stringify({ train, quantize: { calibration } }));
    const epochMs: number[] = [];
    const { trained, dataset } = await trainFromDataset(localDatasetFiles(root), {
      config: { train, quantize: { calibration } },
      onEpoch: (e) => {
        epochMs.push(e.ms ?? 0);
        process.stdout.write(`  epoch ${e.epoch}: ${JSON.stringify(e)}\n`);
      },
    });
    lap('readAndTrainMs');
    load['afterTrain'] = loadavg().map((l) => +l.toFixed(1));
    const test = trained.decoded.test;
    const right = (pred: number[]) =>
      pred.filter((p, i) => p === test.labels[i]).length / Math.max(1, test.labels.length);
    const floatTest = right(trained.floatTestPredictions);

    const floatIr = fromTflite(readTflite(trained.model));
    const { target } = imageInputOf(floatIr);
    const shape: [number, number, number] = [target.height, target.width, target.channels];
    const samples = trained.decoded.train.pixels
      .slice(0, 500)
      .map((px) => [normalizePixels(px, shape[2], calibration)]);
    const q = await quantizeModel(floatIr, { samples, sampleSource: 'training images', debugSamples: 0 });
    const bytes = toTfliteBytes(q.model);
    lap('quantizeMs');
    const compiled = compileModel([{ path: 'fashion-mnist.tflite', bytes }]).models[0]!;
    lap('compileMs');
    const int8Test = right(classify(q.model, test, calibration));
    lap('scoreMs');

    // Reference: tfjs's stock cpu backend on the same network (a few steps of 16).
    await tf.setBackend('cpu');
    const architecture =
      candidateArchitectures(shape, trained.decoded.train.labels.length).find((a) =>
        trained.warnings.some((w) => w.includes(`architecture ${a.name},`)),
      ) ?? candidateArchitectures(shape, trained.decoded.train.labels.length)[0]!;
    const ref = buildModel(architecture, shape, CLASSES.length);
    const per = shape[0] * shape[1] * shape[2];
    const first16 = new Float32Array(16 * per);
    trained.decoded.train.pixels
      .slice(0, 16)
      .forEach((px, i) => first16.set(normalizePixels(px, shape[2], calibration), i * per));
    ref.compile({ optimizer: tf.train.adam(1e-3), loss: 'sparseCategoricalCrossentropy' });
    const x = tf.tensor(first16, [16, ...shape]);
    const y = tf.tensor(Float32Array.from(trained.decoded.train.labels.slice(0, 16)));
    await ref.trainOnBatch(x, y);
    const r0 = performance.now();
    await ref.trainOnBatch(x, y);
    const cpuSps = 16 / ((performance.now() - r0) / 1000);
    lap('referenceMs');
    const epochs = trained.history;
    const meanEpochMs = epochMs.length ? Math.round(epochMs.reduce((a, b) => a + b, 0) / epochMs.length) : 0;
    const wasmSps = meanEpochMs ? (trained.decoded.train.labels.length / meanEpochMs) * 1000 : 0;
    const totalMs = Object.values(phases).reduce((a, b) => a + b, 0);
    // What Kiln does with the user's upload: everything but writing the images out (the user's side) and the reference.
    const kilnMs = totalMs - phases['writeImagesMs']! - phases['referenceMs']!;
    load['end'] = loadavg().map((l) => +l.toFixed(1));
    const out = {
      int8TestAccuracy: +int8Test.toFixed(4),
      floatTestAccuracy: +floatTest.toFixed(4),
      testImages: test.labels.length,
      samples: {
        train: dataset.splits.train.length,
        validation: dataset.splits.validation.length,
        test: dataset.splits.test.length,
      },
      architecture,
      epochs: epochs.length,
      routeNotes: trained.warnings,
      trainPhasesMs: trained.phases,
      meanEpochMs,
      epochMs,
      trainSamplesPerSecond: +wasmSps.toFixed(1),
      referenceCpuSamplesPerSecond: +cpuSps.toFixed(2),
      speedupOverCpuBackend: +(wasmSps / cpuSps).toFixed(1),
      edgetpu: { totalOps: compiled.totalOps, tpuOps: compiled.tpuOps, cpuOps: compiled.cpuOps },
      quantizedOps: q.report.ops,
      phasesMs: phases,
      totalMinutes: +(totalMs / 60000).toFixed(2),
      kilnMinutes: +(kilnMs / 60000).toFixed(2),
      budgetMinutes: BUDGET_MIN,
      loadAverage: load,
      history: epochs,
    };
    return {
      ...out,
      summary:
        `fashion-mnist: int8 test ${out.int8TestAccuracy}, float ${out.floatTestAccuracy}, ${out.epochs} epochs of ` +
        `${architecture.name} (${meanEpochMs} ms each, ${out.trainSamplesPerSecond} samples/s = ` +
        `${out.speedupOverCpuBackend}× tfjs cpu), Edge TPU ${compiled.tpuOps}/${compiled.totalOps} ops, ` +
        `${out.kilnMinutes} min from upload to scored int8 model (${out.totalMinutes} with writing the images and the ` +
        `reference), load ${load['start']!.join('/')}`,
    };
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}
