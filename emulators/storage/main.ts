/**
 * CLI: `node --import tsx emulators/storage/main.ts [--port 9023] [--data-dir .kiln/storage]`
 * Env: KILN_STORAGE_PORT, KILN_STORAGE_DIR, KILN_STORAGE_LOG_LEVEL, KILN_STORAGE_SUBSCRIBERS (JSON array).
 * Flags win over the environment.
 */
import { Command, InvalidArgumentError } from 'commander';
import { optionsFromEnv, type EmulatorOptionsInput, type SubscriberInput } from './config.js';
import { createLogger } from './log.js';
import { startStorageEmulator } from './server.js';

function parsePort(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new InvalidArgumentError('not a valid port');
  return n;
}

function collectSubscriber(value: string, previous: SubscriberInput[]): SubscriberInput[] {
  try {
    return [...previous, JSON.parse(value) as SubscriberInput];
  } catch {
    throw new InvalidArgumentError(
      'expected JSON like {"bucket":"b","eventType":"google.cloud.storage.object.v1.finalized","url":"http://127.0.0.1:8080/"}',
    );
  }
}

async function main(): Promise<void> {
  const program = new Command()
    .name('kiln-storage-emulator')
    .description('Local Cloud Storage (JSON API) emulator with Eventarc-style CloudEvent delivery')
    .option('-p, --port <port>', 'port to listen on (env KILN_STORAGE_PORT, default 9023)', parsePort)
    .option('-d, --data-dir <dir>', 'data directory (env KILN_STORAGE_DIR, default .kiln/storage)')
    .option('--log-level <level>', 'debug | info | warn | error | silent (env KILN_STORAGE_LOG_LEVEL)')
    .option('--subscriber <json>', 'event subscriber {bucket?, eventType, url}; repeatable', collectSubscriber, [])
    .parse();
  const flags = program.opts<{ port?: number; dataDir?: string; logLevel?: string; subscriber: SubscriberInput[] }>();

  const options: EmulatorOptionsInput = optionsFromEnv();
  if (flags.port !== undefined) options.port = flags.port;
  if (flags.dataDir !== undefined) options.dataDir = flags.dataDir;
  if (flags.logLevel !== undefined) options.logLevel = flags.logLevel as EmulatorOptionsInput['logLevel'];
  if (flags.subscriber.length > 0) options.subscribers = [...(options.subscribers ?? []), ...flags.subscriber];

  const emulator = await startStorageEmulator(options);
  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    createLogger(options.logLevel ?? 'info').info('shutting down', { component: 'storage-emulator', signal });
    emulator.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once('SIGINT', () => stop('SIGINT'));
  process.once('SIGTERM', () => stop('SIGTERM'));
}

main().catch((err: unknown) => {
  createLogger('error').error('storage emulator failed to start', { component: 'storage-emulator', error: err });
  process.exit(1);
});
