import type { Command } from 'commander';
import { readFile, stat, writeFile } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { KilnError } from '../../common/errors.js';
import { fromTflite } from '../../toolchain/ir/from-tflite.js';
import { parseBuildConfigText } from '../../pipeline/build-config.js';
import { buildFailure, formatResult, resultJson, type BuildResult } from '../../pipeline/build-result.js';
import { loadConfig } from '../../pipeline/config.js';
import type { LocalModel } from '../../pipeline/local-model.js';
import { parseQuantizeConfig } from '../../toolchain/quantize/config.js';
import { readTflite } from '../../toolchain/tflite/reader.js';
import { localDatasetFiles, type DatasetFiles } from '../../toolchain/train/dataset/files.js';
import { looksLikeDataset } from '../../toolchain/train/dataset/read-dataset.js';
import { timed } from '../../toolchain/train/route.js';
import { trainFromDataset } from '../../toolchain/train/train-dataset.js';
import { trainedDataFiles } from '../../toolchain/train/trained-data.js';
import { trainingReport } from '../../toolchain/train/training-report.js';
import { classify } from '../../toolchain/train/transfer/transfer.js';
import { imageInputOf } from '../../toolchain/train/transfer/embed.js';
import { renderReportHtml } from '../../toolchain/verify/report/html.js';
import { VerifyReportSchema } from '../../toolchain/verify/report/schema.js';
import type { TrainingReport } from '../../toolchain/verify/report/training.js';
import { Progress, progressWanted } from '../progress.js';
import { buildLocalToDir } from './build.js';

export interface TrainCommandOptions {
  out: string;
  config?: string;
  base?: string;
  progress?: boolean;
}

async function configText(dir: string, configPath?: string): Promise<{ text: string; source: string } | null> {
  const path = configPath ?? join(dir, 'kiln.json');
  const text = await readFile(path, 'utf8').catch(() => null);
  if (text === null && configPath !== undefined)
    throw new KilnError('E_FILE_NOT_FOUND', `cannot read the build config ${configPath}`, {
      hint: 'Pass --config with a path to a kiln.json',
    });
  return text === null ? null : { text, source: path };
}

/** Whether `path` is a labelled image set (`kiln build` trains from it): a folder with a train block or class folders. */
export async function isDatasetFolder(path: string, configPath?: string): Promise<boolean> {
  const info = await stat(path).catch(() => null);
  if (!info?.isDirectory()) return false;
  const c = await configText(path, configPath).catch(() => null);
  let hasTrain = false;
  try {
    hasTrain = c !== null && (JSON.parse(c.text) as { train?: unknown }).train !== undefined;
  } catch {
    hasTrain = false;
  }
  const listing = await localDatasetFiles(path).list();
  return looksLikeDataset(
    listing.filter((e) => !e.path.endsWith('/')).map((e) => e.path),
    hasTrain,
  );
}

/**
 * The trained model as an upload for the usual pipeline: `model.tflite` and the data folders of a trained model
 * (shared/train/trained-data.ts: calibration/ the training images, validation/ the test split with labels.txt).
 */
async function uploadOf(
  files: DatasetFiles,
  name: string,
  raw: Record<string, unknown>,
  trained: Awaited<ReturnType<typeof trainFromDataset>>['trained'],
): Promise<LocalModel> {
  const { data } = await trainedDataFiles(files, trained);
  const out = new Map<string, Uint8Array>([['model.tflite', trained.model], ...data]);
  const test = trained.decoded.test;
  const { train: _train, ...rest } = raw;
  const verify = { ...((rest['verify'] as object | undefined) ?? {}), maxSamples: Math.max(1, test.paths.length) };
  const config = { ...rest, model: 'model.tflite', verify };
  return { kind: 'folder', name, files: out, configText: JSON.stringify(config), configSource: 'kiln.json (trained)' };
}

/**
 * `kiln train <dataset> -o DIR`: trains a classifier from a labelled image set (kiln.json `train`), then runs the
 * pipeline on it (quantize → compile → verify on the test split) and adds the training block to report.json/html.
 */
export async function trainToDir(
  dir: string,
  opts: TrainCommandOptions,
): Promise<{ result: BuildResult; training: TrainingReport }> {
  const phases: Record<string, number> = {};
  const c = await configText(dir, opts.config);
  const config = parseBuildConfigText(c?.text ?? '{}', loadConfig().limits.maxFanout, c?.source ?? 'kiln.json');
  const raw = JSON.parse(c?.text ?? '{}') as Record<string, unknown>;
  const files = localDatasetFiles(dir);
  const progress = new Progress('train', opts.progress ?? progressWanted());
  const { trained } = await timed(phases, 'train (total)', () =>
    trainFromDataset(files, {
      config,
      ...(opts.base !== undefined ? { basePath: opts.base } : {}),
      onImage: (done, total) => progress.update('decode', done, total),
      onEpoch: (e) =>
        progress.step(
          `epoch ${e.epoch}: loss ${e.loss.toFixed(4)}, accuracy ${e.accuracy.toFixed(3)}${e.validationAccuracy !== undefined ? `, validation ${e.validationAccuracy.toFixed(3)}` : ''}`,
        ),
    }),
  );
  progress.stop();
  const local = await uploadOf(files, basename(resolve(dir)), raw, trained);
  const out = resolve(opts.out);
  const result = await buildLocalToDir(local, pathToFileURL(resolve(dir)).href, {
    out,
    ...(opts.progress !== undefined ? { progress: opts.progress } : {}),
    onUnit: (e) => {
      if (e.ms !== undefined) phases[e.count > 1 ? `${e.stage} ${e.unit}` : e.stage] = e.ms;
    },
  });
  await writeFile(join(out, 'labels.txt'), `${trained.classes.join('\n')}\n`);
  let int8: number[] | null = null;
  const int8Bytes = await readFile(join(out, 'model.int8.tflite')).catch(() => null);
  const ir = fromTflite(readTflite(new Uint8Array(trained.model)));
  const { target } = imageInputOf(ir);
  if (int8Bytes) {
    const q = fromTflite(readTflite(new Uint8Array(int8Bytes.buffer, int8Bytes.byteOffset, int8Bytes.byteLength)));
    int8 = await timed(phases, 'score test split', () =>
      Promise.resolve(
        classify(q, trained.decoded.test, parseQuantizeConfig({ quantize: config.quantize }).calibration),
      ),
    );
  }
  const training = await trainingReport(trained, int8, target, phases, trained.warnings);
  const reportPath = join(out, 'report.json');
  const reportText = await readFile(reportPath, 'utf8').catch(() => null);
  if (reportText !== null) {
    const report = VerifyReportSchema.parse({ ...JSON.parse(reportText), training });
    await writeFile(reportPath, `${JSON.stringify(report, null, 2)}\n`);
    await writeFile(join(out, 'report.html'), renderReportHtml(report));
  } else {
    await writeFile(join(out, 'training.json'), `${JSON.stringify(training, null, 2)}\n`);
  }
  return { result, training };
}

/** The build result and the training figures: text, or `--json` with a `training` summary. */
export function printTraining(result: BuildResult, t: TrainingReport, json: boolean): void {
  const pct = (x: number | null) => (x === null ? '—' : `${(x * 100).toFixed(1)}%`);
  if (json) {
    const training = {
      route: t.route,
      ...(t.base ? { base: t.base } : {}),
      classes: t.classes,
      samples: t.samples,
      epochs: t.epochs,
      trainSeconds: t.trainSeconds,
      testAccuracy: t.testAccuracy,
    };
    process.stdout.write(`${JSON.stringify({ ...resultJson(result), training }, null, 2)}\n`);
    return;
  }
  const lines = [
    `trained ${t.route}${t.base ? ` from ${t.base}` : ''}: ${t.classes.length} classes (${t.classes.join(', ')}), ${t.samples.train} train / ${t.samples.validation} validation / ${t.samples.test} test images, ${t.epochs} epochs in ${t.trainSeconds.toFixed(1)} s`,
    ...(t.cut
      ? [`  cut at ${t.cut.opType} #${t.cut.opIndex} input ${t.cut.tensor} (embedding ${t.cut.embeddingSize})`]
      : []),
    `  test accuracy: float ${pct(t.testAccuracy.float)}, int8 ${pct(t.testAccuracy.int8)}`,
    ...t.warnings.map((w) => `  warning: ${w}`),
  ];
  process.stdout.write(`${lines.join('\n')}\n${formatResult(result)}`);
}

export function register(program: Command): void {
  program
    .command('train')
    .description(
      'train an Edge TPU classifier from a labelled image set (class folders or a CSV), then quantize, compile and verify it on the test split',
    )
    .argument(
      '<dataset>',
      'a folder: one sub-folder of images per class (optional train/ validation/ test/), or a CSV of [SET,]path,label',
    )
    .requiredOption('-o, --out <dir>', 'output folder')
    .option('--config <kiln.json>', 'build config with a "train" block (default: kiln.json in the dataset folder)')
    .option('--base <model>', 'base model for transfer learning (default: kiln.json train.base)')
    .option('--json', 'print {buildId, status, artifacts, summary, training, error?} as JSON')
    .action(async (dataset: string, flags: { out: string; config?: string; base?: string; json?: boolean }) => {
      const { result, training } = await trainToDir(dataset, {
        out: flags.out,
        ...(flags.config ? { config: flags.config } : {}),
        ...(flags.base ? { base: flags.base } : {}),
      });
      printTraining(result, training, flags.json === true);
      const failure = buildFailure(result, `The artifacts made before the failure are in ${flags.out}`);
      if (failure) throw failure;
    });
}
