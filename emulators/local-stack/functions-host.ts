import { getTestServer } from '@google-cloud/functions-framework/testing';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import '../../functions/index.js';
import { FUNCTION_NAMES, type FunctionName } from '../../functions/manifest.js';
import { ServerTraffic } from './server-traffic.js';

/**
 * Source mode of the local stack (KILN_FUNCTIONS_FROM=source): serves every Kiln function from the TypeScript source in
 * this process, each on its own 127.0.0.1 port, through the functions framework's own server (the same request
 * handling — CloudEvent parsing, Pub/Sub push conversion — as `functions-framework`). Tests that swap a stage core in
 * this process use it; the default is the installed bundle (bundle-host.ts).
 */
export type { FunctionName };

export interface FunctionsHost {
  urls: Record<FunctionName, string>;
  /**
   * Fault injection: destroys every open connection to one function, as if its instance crashed mid-request. The
   * caller (Pub/Sub push, the storage emulator) sees the request fail and redelivers. Returns how many were cut.
   */
  dropConnections(name: FunctionName): number;
  /**
   * Stops taking requests, lets the ones under way finish (up to `drainMs`, default 15 s) so no handler is left using
   * clients the caller closes next, then cuts what is left.
   */
  close(drainMs?: number): Promise<void>;
}

export async function startFunctionsHost(basePort = 0): Promise<FunctionsHost> {
  const servers: Server[] = [];
  const urls = {} as Record<FunctionName, string>;
  const traffic = new ServerTraffic();
  for (const [i, name] of FUNCTION_NAMES.entries()) {
    const server = getTestServer(name) as unknown as Server;
    traffic.watch(name, server);
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(basePort === 0 ? 0 : basePort + i, '127.0.0.1', resolve);
    });
    servers.push(server);
    urls[name] = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }
  return {
    urls,
    dropConnections: (name) => traffic.dropConnections(name),
    close: async (drainMs = 15_000) => {
      for (const s of servers) s.close();
      await traffic.drain(drainMs);
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
