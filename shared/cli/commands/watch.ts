import type { Command } from 'commander';
import { cloudClients, closeCloudClients } from '../../cloud/clients.js';
import { requireCredentials } from '../../cloud/credentials.js';
import { EventWatcher, isTerminalEvent } from '../../cloud/event-watcher.js';
import { formatResult, resultFromEvent } from '../../pipeline/build-result.js';
import { loadConfig } from '../../pipeline/config.js';
import type { KilnCloudEvent } from '../../pipeline/events.js';
import { KilnError } from '../../common/errors.js';

/**
 * `kiln watch`: prints build completion events (completed / failed) as they arrive, through its own subscription on
 * the events topic (KILN_EVENTS_TOPIC). Runs until Ctrl-C, or until --count events were printed.
 */
export interface WatchOptions {
  all?: boolean;
  count?: number;
  /** Called once the subscription exists (events published from then on are seen). */
  ready?: () => void;
  signal?: AbortSignal;
  print: (event: KilnCloudEvent) => void;
}

export async function watchEvents(opts: WatchOptions): Promise<number> {
  const config = loadConfig();
  const clients = cloudClients(config);
  await requireCredentials(clients, ['pubsub']);
  const watcher = await EventWatcher.open(clients.pubsub, config.topics.events);
  let printed = 0;
  try {
    await new Promise<void>((resolve) => {
      const finish = (): void => resolve();
      opts.signal?.addEventListener('abort', finish, { once: true });
      watcher.on((e) => {
        if (!opts.all && !isTerminalEvent(e)) return;
        opts.print(e);
        printed += 1;
        if (opts.count !== undefined && printed >= opts.count) finish();
      });
      opts.ready?.();
    });
  } finally {
    await watcher.close();
  }
  return printed;
}

export function register(program: Command): void {
  program
    .command('watch')
    .description('print build completion events as they arrive (a subscription on the events topic)')
    .option('--all', 'print every build event (started, stage succeeded/failed), not only completed/failed')
    .option('--count <n>', 'exit after n events')
    .option('--json', 'print each CloudEvent as one JSON line')
    .action(async (f: { all?: boolean; count?: string; json?: boolean }) => {
      if (f.count !== undefined && !/^[1-9]\d*$/.test(f.count))
        throw new KilnError('E_BAD_ARGUMENT', `--count needs a positive integer, got "${f.count}"`);
      const abort = new AbortController();
      const stop = (): void => abort.abort();
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
      try {
        await watchEvents({
          ...(f.all ? { all: true } : {}),
          ...(f.count ? { count: Number(f.count) } : {}),
          signal: abort.signal,
          ready: () => process.stderr.write('kiln watch: waiting for build events (Ctrl-C stops)\n'),
          print: (e) => {
            const result = resultFromEvent(e);
            process.stdout.write(
              f.json ? `${JSON.stringify(e)}\n` : result ? formatResult(result) : `${e.type} ${e.subject}\n`,
            );
          },
        });
      } finally {
        process.off('SIGINT', stop);
        process.off('SIGTERM', stop);
        await closeCloudClients();
      }
    });
}
