/**
 * Helpers for tests that run against the storage emulator: a throwaway emulator in a temp
 * directory, and a tiny HTTP receiver that records CloudEvent deliveries.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startStorageEmulator, type StorageEmulator, type StorageEmulatorOptions } from './server.js';

export interface TestEmulator extends StorageEmulator {
  /** Structured log entries emitted so far. */
  readonly logs: Record<string, unknown>[];
  /** Stops the emulator (if running) and deletes its data directory. */
  dispose(): Promise<void>;
}

export async function makeTempDir(prefix = 'kiln-storage-'): Promise<string> {
  return mkdtemp(join(tmpdir(), prefix));
}

/** Starts an emulator on an ephemeral port; logs are captured instead of printed. */
export async function startTestEmulator(options: StorageEmulatorOptions = {}): Promise<TestEmulator> {
  const ownsDir = options.dataDir === undefined;
  const dataDir = options.dataDir ?? (await makeTempDir());
  const logs: Record<string, unknown>[] = [];
  const emulator = await startStorageEmulator({
    port: 0,
    logLevel: 'debug',
    logSink: (line) => logs.push(JSON.parse(line) as Record<string, unknown>),
    ...options,
    dataDir,
  });
  return {
    ...emulator,
    logs,
    dispose: async () => {
      await emulator.close();
      if (ownsDir) await rm(dataDir, { recursive: true, force: true });
    },
  };
}

export interface ReceivedRequest {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: Buffer;
  /** Status this receiver answered with. */
  status: number;
}

export interface EventReceiver {
  url: string;
  readonly requests: ReceivedRequest[];
  /** Resolves with the n-th (1-based) request once it has arrived. */
  nth(n: number): Promise<ReceivedRequest>;
  close(): Promise<void>;
}

/**
 * Starts an HTTP receiver on 127.0.0.1 with an ephemeral port. `respond` picks the status for the
 * n-th request (1-based) and may return a promise to hold the response open.
 */
export async function startEventReceiver(
  respond: (n: number, req: Omit<ReceivedRequest, 'status'>) => number | Promise<number> = () => 204,
): Promise<EventReceiver> {
  const requests: ReceivedRequest[] = [];
  const waiters = new Map<number, ((r: ReceivedRequest) => void)[]>();
  let count = 0;
  const server = createServer((req, res) => {
    const n = ++count;
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const received = {
        method: req.method ?? '',
        url: req.url ?? '',
        headers: req.headers,
        body: Buffer.concat(chunks),
      };
      void Promise.resolve(respond(n, received)).then((status) => {
        const entry = { ...received, status };
        requests[n - 1] = entry;
        res.writeHead(status, { 'Content-Length': 0 }).end();
        for (const w of waiters.get(n) ?? []) w(entry);
        waiters.delete(n);
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/`,
    requests,
    nth: (n) => {
      const existing = requests[n - 1];
      if (existing) return Promise.resolve(existing);
      return new Promise((resolve) => waiters.set(n, [...(waiters.get(n) ?? []), resolve]));
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** A loopback URL nothing is listening on (bound, then released). */
export async function unusedLocalUrl(): Promise<string> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return `http://127.0.0.1:${port}/`;
}
