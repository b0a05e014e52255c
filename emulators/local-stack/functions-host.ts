import { getTestServer } from '@google-cloud/functions-framework/testing';
import type { Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import '../../functions/index.js';
import { FUNCTION_NAMES, type FunctionName } from '../../functions/manifest.js';

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
  const sockets = new Map<FunctionName, Set<Socket>>();
  let inFlight = 0;
  let drained: (() => void) | undefined;
  for (const [i, name] of FUNCTION_NAMES.entries()) {
    const server = getTestServer(name) as unknown as Server;
    const open = new Set<Socket>();
    sockets.set(name, open);
    server.on('connection', (socket: Socket) => {
      open.add(socket);
      socket.once('close', () => open.delete(socket));
    });
    server.on('request', (_req, res) => {
      inFlight++;
      res.once('close', () => {
        if (--inFlight === 0) drained?.();
      });
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(basePort === 0 ? 0 : basePort + i, '127.0.0.1', resolve);
    });
    servers.push(server);
    urls[name] = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }
  return {
    urls,
    dropConnections: (name) => {
      const open = [...(sockets.get(name) ?? [])];
      for (const socket of open) socket.destroy();
      return open.length;
    },
    close: async (drainMs = 15_000) => {
      for (const s of servers) s.close();
      if (inFlight > 0) {
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, drainMs);
          drained = () => {
            clearTimeout(timer);
            resolve();
          };
        });
      }
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
