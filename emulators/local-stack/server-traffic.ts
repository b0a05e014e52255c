import type { Server } from 'node:http';
import type { Socket } from 'node:net';

/**
 * The requests and connections of a functions host's servers (source or bundle mode): cutting one function's
 * connections as a crashed instance would (fault injection), and waiting for the requests under way before the stack
 * closes the clients they use (drain).
 */
export class ServerTraffic {
  private readonly sockets = new Map<string, Set<Socket>>();
  private inFlight = 0;
  private drained: (() => void) | undefined;

  /** Keeps the connections of `server` under `name` and counts its requests. */
  watch(name: string, server: Server): void {
    const open = new Set<Socket>();
    this.sockets.set(name, open);
    server.on('connection', (socket: Socket) => {
      open.add(socket);
      socket.once('close', () => open.delete(socket));
    });
    server.on('request', (_req, res) => {
      this.inFlight++;
      res.once('close', () => {
        if (--this.inFlight === 0) this.drained?.();
      });
    });
  }

  /** Destroys every open connection to one function; returns how many were cut. */
  dropConnections(name: string): number {
    const open = [...(this.sockets.get(name) ?? [])];
    for (const socket of open) socket.destroy();
    return open.length;
  }

  /** Resolves once no request is under way, or after `drainMs`. */
  async drain(drainMs: number): Promise<void> {
    if (this.inFlight === 0) return;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, drainMs);
      this.drained = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }
}
