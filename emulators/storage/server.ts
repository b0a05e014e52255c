/**
 * Kiln's local Cloud Storage emulator: the GCS JSON API subset used by `@google-cloud/storage`,
 * persisted on disk, with Eventarc-style CloudEvent delivery for object events.
 *
 *   const emu = await startStorageEmulator({ port: 0, dataDir: '.kiln/storage' });
 *   const storage = new Storage({ apiEndpoint: emu.url, projectId: 'kiln-local' });
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { handleRequest } from './app.js';
import { parseOptions, type EmulatorOptionsInput, type SubscriberInput } from './config.js';
import type { AppContext } from './context.js';
import { EventDispatcher, type Subscriber } from './events.js';
import { createLogger, type LogSink } from './log.js';
import { Store } from './store.js';
import { UploadSessions } from './uploads.js';

export type { EmulatorOptionsInput, StorageEventType, SubscriberInput } from './config.js';
export { DEFAULT_PORT, DEFAULT_DATA_DIR, STORAGE_EVENT_TYPES } from './config.js';
export type { Subscriber, StorageCloudEvent } from './events.js';
export type { LogSink } from './log.js';

export interface StorageEmulatorOptions extends EmulatorOptionsInput {
  /** Receives each structured log line (default: stdout). */
  logSink?: LogSink;
}

export interface StorageEmulator {
  /** e.g. `http://127.0.0.1:9023`; use as `apiEndpoint` or STORAGE_EMULATOR_HOST. */
  readonly url: string;
  readonly port: number;
  readonly host: string;
  readonly dataDir: string;
  /** Registers an event subscriber; returns it with its id. */
  addSubscriber(subscriber: SubscriberInput): Subscriber;
  removeSubscriber(id: string): boolean;
  subscribers(): Subscriber[];
  /** Resolves when every queued event delivery has succeeded or been given up. */
  eventsIdle(): Promise<void>;
  /** Stops the server, aborts open connections and pending event deliveries. */
  close(): Promise<void>;
}

function listen(server: Server, port: number, host: string): Promise<AddressInfo> {
  return new Promise((resolve, reject) => {
    const onError = (err: Error): void => reject(err);
    server.once('error', onError);
    server.listen(port, host, () => {
      server.off('error', onError);
      resolve(server.address() as AddressInfo);
    });
  });
}

export async function startStorageEmulator(options: StorageEmulatorOptions = {}): Promise<StorageEmulator> {
  const { logSink, ...rest } = options;
  const config = parseOptions(rest);
  const log = createLogger(config.logLevel, logSink).child({ component: 'storage-emulator' });
  const store = await Store.open(config.dataDir, log);
  const uploads = await UploadSessions.open(config.dataDir, store, log);
  const events = new EventDispatcher(config.delivery, log);
  for (const s of config.subscribers) events.addSubscriber(s);

  let url = `http://${config.host}:${config.port}`;
  const app: AppContext = { store, uploads, events, log, publicUrl: () => url };
  const inflight = new Set<Promise<void>>();
  const server = createServer((req, res) => {
    const p = handleRequest(app, req, res).finally(() => inflight.delete(p));
    inflight.add(p);
  });
  server.keepAliveTimeout = 5_000;

  const address = await listen(server, config.port, config.host);
  url = `http://${config.host}:${address.port}`;
  log.info('storage emulator listening', { url, port: address.port, dataDir: config.dataDir });

  let closing: Promise<void> | undefined;
  const close = (): Promise<void> =>
    (closing ??= (async () => {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await Promise.allSettled([...inflight]);
      events.close();
      await closed;
      log.info('storage emulator stopped', { url });
    })());

  return {
    url,
    port: address.port,
    host: config.host,
    dataDir: config.dataDir,
    addSubscriber: (s) => events.addSubscriber(s),
    removeSubscriber: (id) => events.removeSubscriber(id),
    subscribers: () => events.listSubscribers(),
    eventsIdle: () => events.idle(),
    close,
  };
}
