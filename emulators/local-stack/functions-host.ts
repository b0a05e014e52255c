import { getTestServer } from '@google-cloud/functions-framework/testing';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { FUNCTION_NAMES } from '../../functions/index.js';

/**
 * Serves every Kiln function in this process, each on its own 127.0.0.1 port, through the functions framework's own
 * server (the same request handling — CloudEvent parsing, Pub/Sub push conversion — as `functions-framework`).
 */
export type FunctionName = (typeof FUNCTION_NAMES)[number];

export interface FunctionsHost {
  urls: Record<FunctionName, string>;
  close(): Promise<void>;
}

export async function startFunctionsHost(basePort = 0): Promise<FunctionsHost> {
  const servers: Server[] = [];
  const urls = {} as Record<FunctionName, string>;
  for (const [i, name] of FUNCTION_NAMES.entries()) {
    const server = getTestServer(name) as unknown as Server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(basePort === 0 ? 0 : basePort + i, '127.0.0.1', resolve);
    });
    servers.push(server);
    urls[name] = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }
  return {
    urls,
    close: async () => {
      await Promise.all(
        servers.map(
          (s) =>
            new Promise<void>((resolve) => {
              s.close(() => resolve());
              s.closeAllConnections();
            }),
        ),
      );
    },
  };
}
