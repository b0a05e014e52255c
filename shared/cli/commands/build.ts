import type { Command } from 'commander';
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { buildInProcess, type UnitProgress } from '../../pipeline/build-in-process.js';
import { Progress, progressWanted, seconds } from '../progress.js';
import {
  buildFailure,
  formatResult,
  resultFromRecord,
  resultJson,
  type BuildResult,
} from '../../pipeline/build-result.js';
import { loadConfig } from '../../pipeline/config.js';
import { STAGE_CORES } from '../../pipeline/cores/index.js';
import type { StageCores } from '../../pipeline/core.js';
import { readLocalModel, type LocalModel } from '../../pipeline/local-model.js';
import { isDatasetFolder, trainToDir, printTraining } from './train.js';

/**
 * `kiln build <model> -o DIR`: the whole pipeline in this process (no emulators, no cloud), with the same stage cores
 * as the Cloud Functions. Every artifact lands in DIR under the name it has in the artifacts bucket, plus `build.json`
 * (the build record the pipeline keeps in Firestore).
 */
export interface BuildCommandOptions {
  out: string;
  config?: string;
  cores?: StageCores;
  /** Stage lines on stderr (default: when stderr is a terminal, or KILN_PROGRESS=1). */
  progress?: boolean;
}

/** One progress line per unit: `quantize … started`, `quantize done in 4.1 s`, `compile m13 failed: …`. */
export function unitLine(e: UnitProgress): string {
  const name = e.count > 1 ? `${e.stage} ${e.unit}` : e.stage;
  if (e.state === 'started') return `${name} …`;
  if (e.state === 'succeeded') return `${name} done in ${seconds(e.ms ?? 0)}`;
  return `${name} failed: ${e.error ?? 'unknown error'}`;
}

export async function buildToDir(model: string, opts: BuildCommandOptions): Promise<BuildResult> {
  const local = await readLocalModel(model, opts.config);
  return buildLocalToDir(local, pathToFileURL(resolve(model)).href, opts);
}

/** Builds a model already in memory (what `kiln train` trained) into DIR, as `kiln build` does. */
export async function buildLocalToDir(
  local: LocalModel,
  sourceUri: string,
  opts: BuildCommandOptions & { onUnit?: (e: UnitProgress) => void },
): Promise<BuildResult> {
  const out = resolve(opts.out);
  const write = async (name: string, bytes: Uint8Array): Promise<void> => {
    const file = join(out, name);
    await mkdir(dirname(file), { recursive: true });
    await writeFile(file, bytes);
  };
  const progress = new Progress('build', opts.progress ?? progressWanted());
  const { record } = await buildInProcess(local, {
    cores: opts.cores ?? STAGE_CORES,
    maxFanout: loadConfig().limits.maxFanout,
    sourceUri,
    onArtifact: write,
    onUnit: (e) => {
      progress.step(unitLine(e));
      opts.onUnit?.(e);
    },
  });
  await write('build.json', new TextEncoder().encode(`${JSON.stringify(record, null, 2)}\n`));
  return resultFromRecord(record, (name) => join(out, name));
}

export function register(program: Command): void {
  program
    .command('build')
    .description(
      'run the whole pipeline (convert → quantize → compile → verify) in this process and write every artifact to DIR',
    )
    .argument(
      '<model>',
      'a model file (.tflite, .h5, .keras, .zip, .tar.gz) or folder (SavedModel, TF.js, …), or a labelled image set to train from (see kiln train)',
    )
    .requiredOption('-o, --out <dir>', 'output folder')
    .option(
      '--config <kiln.json>',
      'build config (default: kiln.json in the folder or <name>.kiln.json beside the file)',
    )
    .option('--json', 'print {buildId, status, artifacts, summary, error?} as JSON')
    .action(async (model: string, flags: { out: string; config?: string; json?: boolean }) => {
      if (await isDatasetFolder(model, flags.config)) {
        // A labelled image set: train a model from it, then build that (as `kiln train`).
        const { result, training } = await trainToDir(model, {
          out: flags.out,
          ...(flags.config ? { config: flags.config } : {}),
        });
        printTraining(result, training, flags.json === true);
        const failure = buildFailure(result, `The artifacts made before the failure are in ${flags.out}`);
        if (failure) throw failure;
        return;
      }
      const result = await buildToDir(model, { out: flags.out, ...(flags.config ? { config: flags.config } : {}) });
      process.stdout.write(flags.json ? `${JSON.stringify(resultJson(result), null, 2)}\n` : formatResult(result));
      const failure = buildFailure(result, `The artifacts made before the failure are in ${flags.out}`);
      if (failure) throw failure;
    });
}
