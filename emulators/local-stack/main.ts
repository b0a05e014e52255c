/**
 * `npx tsx emulators/local-stack/main.ts` — starts the local stack and keeps it running until Ctrl-C.
 * Environment: KILN_* (docs/pipeline.md). Prints the emulator endpoints to export in another shell.
 */
import { isKilnError } from '../../shared/common/errors.js';
import { startLocalStack } from './stack.js';

async function main(): Promise<void> {
  const stack = await startLocalStack();
  const e = stack.endpoints;
  process.stderr.write(
    [
      'Kiln local stack is running. In another shell:',
      `  export STORAGE_EMULATOR_HOST=${e.storage} PUBSUB_EMULATOR_HOST=${e.pubsub} FIRESTORE_EMULATOR_HOST=${e.firestore}`,
      `Upload models to gs://${stack.config.buckets.uploads}; artifacts appear in gs://${stack.config.buckets.artifacts};`,
      `build events arrive on the topic ${stack.config.topics.events}. Ctrl-C stops everything.`,
      '',
    ].join('\n'),
  );
  const shutdown = (): void => {
    stack.stop().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once('SIGINT', shutdown);
  process.once('SIGTERM', shutdown);
}

main().catch((err: unknown) => {
  process.stderr.write(
    `kiln local stack: ${isKilnError(err) ? err.oneLine() : String((err as Error)?.stack ?? err)}\n`,
  );
  process.exit(isKilnError(err) && err.kind === 'bad-input' ? 2 : 1);
});
