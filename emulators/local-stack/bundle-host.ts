import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer, request, Agent, type Server } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { FUNCTION_NAMES, FUNCTION_SIGNATURES, type FunctionName } from '../../functions/manifest.js';
import type { FunctionsHost } from './functions-host.js';
import { freePort } from './ports.js';
import { ServerTraffic } from './server-traffic.js';

/**
 * Serves every Kiln function from the installed deploy bundle the way Cloud Functions runs it: one
 * `functions-framework --target=<name> --signature-type=<signature>` process per function, started in the bundle folder
 * (its package.json `main` is what the framework loads), listening on the PORT its environment names. In front of each
 * instance, on the function's public 127.0.0.1 port, a small HTTP front end (Cloud Functions has one too): it is what
 * fault injection cuts and what the drain on stop counts. An instance that exits on its own is replaced, as Cloud
 * Functions replaces a crashed one; requests meanwhile get 503 and their senders redeliver.
 */
export interface BundleHostOptions {
  bundleDir: string;
  /** First public port (0: ephemeral ports). */
  basePort: number;
  /** The environment of one function instance (function-env.ts). */
  env: (name: FunctionName, signature: string, port: number) => Record<string, string>;
  /** Each line an instance writes (its stdout carries the pipeline's JSON log lines). */
  onLine: (name: FunctionName, stream: 'stdout' | 'stderr', line: string) => void;
}

const READY_TIMEOUT_MS = 120_000;

/** The functions framework's executable inside an installed bundle (its package.json `bin`). */
export function frameworkMain(bundleDir: string): string {
  const dir = join(bundleDir, 'node_modules', '@google-cloud', 'functions-framework');
  const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { bin: Record<string, string> };
  return join(dir, pkg.bin['functions-framework']!);
}

function portOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(port, '127.0.0.1');
    s.once('connect', () => (s.destroy(), resolve(true)));
    s.once('error', () => resolve(false));
  });
}

interface Instance {
  child: ChildProcess;
  exited: Promise<number | null>;
}

export async function startBundleHost(o: BundleHostOptions): Promise<FunctionsHost> {
  const main = frameworkMain(o.bundleDir);
  const instances = new Map<FunctionName, Instance>();
  const servers: Server[] = [];
  const urls = {} as Record<FunctionName, string>;
  const agent = new Agent({ keepAlive: true });
  let stopping = false;
  const traffic = new ServerTraffic();

  const spawnInstance = (name: FunctionName, port: number): Instance => {
    const signature = FUNCTION_SIGNATURES[name];
    const child = spawn(process.execPath, [main, `--target=${name}`, `--signature-type=${signature}`], {
      cwd: o.bundleDir,
      env: o.env(name, signature, port),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    for (const stream of ['stdout', 'stderr'] as const) {
      createInterface({ input: child[stream]! }).on('line', (line) => o.onLine(name, stream, line));
    }
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    void exited.then((code) => {
      if (stopping || instances.get(name)?.child !== child) return;
      o.onLine(name, 'stderr', `instance exited (code ${code}); starting a new one`);
      setTimeout(() => {
        if (!stopping) instances.set(name, spawnInstance(name, port));
      }, 500);
    });
    return { child, exited };
  };

  const startInstance = async (name: FunctionName): Promise<number> => {
    const port = await freePort();
    const instance = spawnInstance(name, port);
    instances.set(name, instance);
    const deadline = Date.now() + READY_TIMEOUT_MS;
    let exitCode: number | null | undefined;
    void instance.exited.then((c) => (exitCode = c));
    while (!(await portOpen(port))) {
      if (exitCode !== undefined) throw new Error(`function ${name} exited (code ${exitCode}) before serving`);
      if (Date.now() > deadline) throw new Error(`function ${name} did not listen on port ${port} within 120 s`);
      await new Promise((r) => setTimeout(r, 100));
    }
    return port;
  };

  const frontEnd = (name: FunctionName, port: number): Server => {
    const server = createServer((req, res) => {
      res.once('close', () => {
        if (!res.writableFinished) upstream.destroy();
      });
      const upstream = request(
        { host: '127.0.0.1', port, method: req.method, path: req.url, headers: req.headers, agent },
        (answer) => {
          res.writeHead(answer.statusCode ?? 502, answer.statusMessage, answer.headers);
          answer.pipe(res);
        },
      );
      upstream.on('error', (e) => {
        if (res.headersSent) return void res.destroy();
        res.writeHead(503, { 'content-type': 'text/plain' }).end(`function ${name} is not reachable: ${e.message}\n`);
      });
      req.pipe(upstream);
    });
    traffic.watch(name, server);
    return server;
  };

  const killAll = (): void => {
    for (const { child } of instances.values()) if (child.exitCode === null) child.kill('SIGKILL');
  };
  process.once('exit', killAll);

  const close = async (drainMs = 15_000): Promise<void> => {
    stopping = true;
    for (const s of servers) s.close();
    await traffic.drain(drainMs);
    for (const s of servers) s.closeAllConnections();
    agent.destroy();
    await Promise.all(
      [...instances.values()].map(async ({ child, exited }) => {
        if (child.exitCode !== null || child.signalCode !== null) return;
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
        await exited;
        clearTimeout(timer);
      }),
    );
    process.removeListener('exit', killAll);
  };

  try {
    const ports = await Promise.all(FUNCTION_NAMES.map((name) => startInstance(name)));
    for (const [i, name] of FUNCTION_NAMES.entries()) {
      const server = frontEnd(name, ports[i]!);
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(o.basePort === 0 ? 0 : o.basePort + i, '127.0.0.1', resolve);
      });
      servers.push(server);
      urls[name] = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    }
  } catch (e) {
    await close(0);
    throw e;
  }

  return {
    urls,
    dropConnections: (name) => traffic.dropConnections(name),
    close,
  };
}
