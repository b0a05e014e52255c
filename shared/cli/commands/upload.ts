import type { Command } from 'commander';
import { cloudClients, closeCloudClients } from '../../cloud/clients.js';
import { requireCredentials } from '../../cloud/credentials.js';
import { EventWatcher } from '../../cloud/event-watcher.js';
import { uploadModel, type UploadedModel } from '../../cloud/upload-model.js';
import { buildFailure, formatResult, resultFromEvent } from '../../pipeline/build-result.js';
import { loadConfig } from '../../pipeline/config.js';
import { EVENT_TYPES, type KilnCloudEvent } from '../../pipeline/events.js';
import { Progress, progressWanted, seconds as duration } from '../progress.js';
import { readLocalModel } from '../../pipeline/local-model.js';
import { KilnError } from '../../common/errors.js';

/**
 * `kiln upload <model> [--wait]`: puts a model into the configured uploads bucket (KILN_UPLOADS_BUCKET; the local stack
 * when STORAGE_EMULATOR_HOST is set, Google Cloud otherwise). With --wait it subscribes to the events topic first and
 * prints the build's completion (or failure) event.
 */
export interface UploadOptions {
  config?: string;
  as?: string;
  wait?: boolean;
  timeoutMs?: number;
  /** Progress lines on stderr while waiting (default: when stderr is a terminal, or KILN_PROGRESS=1). */
  progress?: boolean;
}

/** A progress line for one build event while `kiln upload --wait` waits, or undefined for the terminal events. */
export function eventLine(e: KilnCloudEvent): string | undefined {
  const d = e.data as { stage?: string; durationMs?: number; unit?: string; error?: { message?: string } };
  if (e.type === EVENT_TYPES.started) return 'build started';
  if (e.type === EVENT_TYPES.stageSucceeded) return `${d.stage} done in ${duration(d.durationMs ?? 0)}`;
  if (e.type === EVENT_TYPES.stageFailed) return `${d.stage} failed: ${d.error?.message ?? 'unknown error'}`;
  return undefined;
}

export async function uploadAndWait(
  model: string,
  opts: UploadOptions,
): Promise<{ upload: UploadedModel; event?: KilnCloudEvent }> {
  const local = await readLocalModel(model, opts.config);
  const config = loadConfig();
  const clients = cloudClients(config);
  await requireCredentials(clients, opts.wait ? ['storage', 'pubsub'] : ['storage']);
  const progress = new Progress('upload', opts.progress ?? progressWanted());
  const watcher = opts.wait ? await EventWatcher.open(clients.pubsub, config.topics.events) : undefined;
  try {
    const upload = await uploadModel(clients.storage, config.buckets.uploads, local, opts.as ? { as: opts.as } : {});
    if (!watcher) return { upload };
    progress.step(`uploaded ${upload.uri}; waiting for build ${upload.buildId}`);
    const event = await watcher.waitForBuild(upload.buildId, opts.timeoutMs, (e) => {
      const line = eventLine(e);
      if (line) progress.step(line);
    });
    return { upload, event };
  } finally {
    progress.stop();
    await watcher?.close();
  }
}

const seconds = (v: string): number => {
  if (!/^\d+$/.test(v)) throw new KilnError('E_BAD_ARGUMENT', `--timeout needs whole seconds, got "${v}"`);
  return Number(v) * 1000;
};

export function register(program: Command): void {
  program
    .command('upload')
    .description(
      'upload a model to the uploads bucket (local stack or Google Cloud); --wait prints its completion event',
    )
    .argument('<model>', 'a model file (.tflite, .h5, .keras, .onnx, .zip, .tar.gz) or folder')
    .option('--wait', 'wait for the build and print its completed/failed event')
    .option('--as <name>', 'file or folder name in the bucket (default: the local name)')
    .option(
      '--config <kiln.json>',
      'build config (default: kiln.json in the folder or <name>.kiln.json beside the file)',
    )
    .option('--timeout <seconds>', 'with --wait: give up after this long (default 1800)')
    .option('--json', 'print JSON (the upload, or with --wait the whole CloudEvent)')
    .action(
      async (model: string, f: { wait?: boolean; as?: string; config?: string; timeout?: string; json?: boolean }) => {
        try {
          const { upload, event } = await uploadAndWait(model, {
            ...(f.config ? { config: f.config } : {}),
            ...(f.as ? { as: f.as } : {}),
            wait: Boolean(f.wait),
            ...(f.timeout ? { timeoutMs: seconds(f.timeout) } : {}),
          });
          if (!event) {
            process.stdout.write(
              f.json
                ? `${JSON.stringify(upload, null, 2)}\n`
                : `uploaded ${upload.uri} (generation ${upload.generation}); build ${upload.buildId} of ${upload.modelId}\n`,
            );
            return;
          }
          const result = resultFromEvent(event)!;
          process.stdout.write(f.json ? `${JSON.stringify(event, null, 2)}\n` : formatResult(result));
          const failure = buildFailure(result);
          if (failure) throw failure;
        } finally {
          await closeCloudClients();
        }
      },
    );
}
