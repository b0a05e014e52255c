import type { Command } from 'commander';
import { join } from 'node:path';
import { openLocalSession } from './session.js';
import { buildFailure, formatResult, resultJson, type BuildResult } from '../../shared/pipeline/build-result.js';
import { readLocalModel } from '../../shared/pipeline/local-model.js';
import { BUILD_COMMANDS, CLOUD_COMMANDS } from '../../shared/cli/commands/index.js';

/**
 * `kiln local --once <model>`: the whole serverless pipeline on this machine (official Pub/Sub and Firestore
 * emulators, Kiln's storage emulator, every function), one upload, its completion event's data, then everything stops.
 * Exit 0 succeeded, 2 failed because of the input, 1 any other failure.
 */
export interface LocalOnceOptions {
  config?: string;
  /** Pipeline log file (default .kiln/local/pipeline.log). */
  logs?: string;
  timeoutMs?: number;
}

export async function localOnce(model: string, opts: LocalOnceOptions = {}): Promise<BuildResult> {
  const local = await readLocalModel(model, opts.config);
  const session = await openLocalSession({
    logs: opts.logs ?? join(process.cwd(), '.kiln', 'local', 'pipeline.log'),
    // The first run after a change of the functions builds and installs their bundle: say so rather than hang.
    progress: (line) => process.stderr.write(`kiln local: ${line}\n`),
  });
  try {
    return await session.build(local, opts.timeoutMs !== undefined ? { timeoutMs: opts.timeoutMs } : {});
  } finally {
    await session.stop();
  }
}

export function register(program: Command): void {
  program
    .command('local')
    .description(
      'start the local serverless stack (emulators + functions), build one model through it, print the result',
    )
    .argument('<model>', 'a model file (.tflite, .h5, .keras, .zip, .tar.gz) or folder')
    .requiredOption(
      '--once',
      'run one build, print its completion event, stop (the only mode; `npm start` keeps running)',
    )
    .option(
      '--config <kiln.json>',
      'build config (default: kiln.json in the folder or <name>.kiln.json beside the file)',
    )
    .option('--logs <file>', 'pipeline log file (default .kiln/local/pipeline.log)')
    .option('--json', 'print {buildId, status, artifacts, summary, error?} as JSON')
    .action(async (model: string, flags: { config?: string; logs?: string; json?: boolean }) => {
      const result = await localOnce(model, {
        ...(flags.config ? { config: flags.config } : {}),
        ...(flags.logs ? { logs: flags.logs } : {}),
      });
      process.stdout.write(flags.json ? `${JSON.stringify(resultJson(result), null, 2)}\n` : formatResult(result));
      const failure = buildFailure(result);
      if (failure) throw failure;
    });
}

/** The whole `kiln` command set: shared/'s commands with `kiln local` between the build and the cloud ones. */
export const KILN_COMMANDS = [...BUILD_COMMANDS, register, ...CLOUD_COMMANDS];
