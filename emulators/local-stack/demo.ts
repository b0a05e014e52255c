import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { formatResult, type BuildResult } from '../../shared/pipeline/build-result.js';
import { readLocalModel } from '../../shared/pipeline/local-model.js';
import { isTerminalEvent } from '../../shared/cloud/event-watcher.js';
import { resultFromEvent } from '../../shared/pipeline/build-result.js';
import { STRIPES_CONFIG, STRIPES_FILE, stripesModel } from '../../shared/toolchain/samples/stripes.js';
import { cloudClients } from '../../shared/cloud/clients.js';
import { createResultsServer, type ResultsServer } from '../../shared/results/server.js';
import { openLocalSession, type LocalSession } from './session.js';

/**
 * `npm start`: the local serverless stack with the bundled sample model built through it. Starts the emulators and
 * functions, writes the sample (a CNN Kiln makes itself, shared/toolchain/samples/stripes.ts) with its kiln.json, uploads it,
 * waits for the completion event, prints the summary and where everything is, then keeps running and prints every
 * further build until Ctrl-C (or returns after the first build with `once`).
 */
export interface DemoOptions {
  /** Return after the sample build instead of running until a signal. */
  once?: boolean;
  /** Working folder for the sample and the pipeline log (default `.kiln/demo` under the current directory). */
  dir?: string;
  write?: (text: string) => void;
  /** Resolves when the demo should stop (default: SIGINT or SIGTERM). */
  until?: Promise<void>;
}

export interface DemoResult {
  sample: BuildResult;
  /** Builds of other uploads seen while the demo ran. */
  others: BuildResult[];
}

function signalled(): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      process.off('SIGINT', done);
      process.off('SIGTERM', done);
      resolve();
    };
    process.once('SIGINT', done);
    process.once('SIGTERM', done);
  });
}

export function whereToLook(session: LocalSession, result: BuildResult, resultsUrl?: string): string[] {
  const { config, endpoints } = session.stack;
  return [
    '',
    'Where to look:',
    ...(resultsUrl ? [`  results page    ${resultsUrl}`] : []),
    `  artifacts       gs://${config.buckets.artifacts}/${result.modelId}/${result.buildId}/ (storage emulator ${endpoints.storage})`,
    `  build record    models/${result.modelId}/builds/${result.buildId} (Firestore emulator ${endpoints.firestore}, project ${config.projectId})`,
    `  build events    topic ${config.topics.events} (Pub/Sub emulator ${endpoints.pubsub})`,
    '',
    'Upload more models from another shell (each build is printed here):',
    `  export STORAGE_EMULATOR_HOST=${endpoints.storage} PUBSUB_EMULATOR_HOST=${endpoints.pubsub} FIRESTORE_EMULATOR_HOST=${endpoints.firestore} KILN_PROJECT_ID=${config.projectId}`,
    '  npx kiln upload path/to/model.h5 --wait      # or: npx kiln watch',
    '',
  ];
}

export async function runDemo(opts: DemoOptions = {}): Promise<DemoResult> {
  const write = opts.write ?? ((t: string) => process.stdout.write(t));
  const dir = opts.dir ?? join(process.cwd(), '.kiln', 'demo');
  await mkdir(dir, { recursive: true });
  const modelPath = join(dir, STRIPES_FILE);
  await writeFile(modelPath, stripesModel());
  await writeFile(
    join(dir, STRIPES_FILE.replace(/\.tflite$/, '.kiln.json')),
    `${JSON.stringify(STRIPES_CONFIG, null, 2)}\n`,
  );
  const logs = join(dir, 'pipeline.log');
  write('Starting the local stack: Pub/Sub and Firestore emulators, storage emulator, functions…\n');
  const session = await openLocalSession({ logs, progress: (line) => write(`  ${line}\n`) });
  const others: BuildResult[] = [];
  let results: ResultsServer | undefined;
  try {
    const clients = cloudClients(session.stack.config);
    results = await createResultsServer({ firestore: clients.firestore, storage: clients.storage });
    const { endpoints, config } = session.stack;
    write(
      `Local stack ready: storage ${endpoints.storage}, Pub/Sub ${endpoints.pubsub}, Firestore ${endpoints.firestore}, results page ${results.url}; pipeline logs in ${logs}\n`,
    );
    write(`Uploading the sample model ${modelPath} to gs://${config.buckets.uploads}/ …\n`);
    const sample = await session.build(await readLocalModel(modelPath));
    write(formatResult(sample));
    write(whereToLook(session, sample, results.url).join('\n'));
    if (opts.once) return { sample, others };
    session.watcher.on((e) => {
      if (!isTerminalEvent(e) || e.data.buildId === sample.buildId) return;
      const r = resultFromEvent(e)!;
      others.push(r);
      write(formatResult(r));
    });
    write('Kiln is running; Ctrl-C stops everything.\n');
    await (opts.until ?? signalled());
    write('Stopping…\n');
    return { sample, others };
  } finally {
    await results?.close();
    await session.stop();
  }
}
