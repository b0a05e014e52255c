import type { Storage } from '@google-cloud/storage';
import { Eta } from 'eta';
import type { Firestore } from 'firebase-admin/firestore';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { parseGsUri } from '../pipeline/ids.js';
import { buildRow, getBuild, listBuilds } from './builds.js';
import { CLIENT_SCRIPT } from './client-script.js';

export interface ResultsDeps {
  firestore: Firestore;
  storage: Storage;
  /** How often the page polls for live status, ms. Default 2000. */
  pollMs?: number;
}

const eta = new Eta({
  views: fileURLToPath(new URL('./templates/', import.meta.url)),
  autoEscape: true,
  cache: true,
});

const CONTENT_TYPES: [RegExp, string][] = [
  [/\.html$/, 'text/html; charset=utf-8'],
  [/\.json$/, 'application/json; charset=utf-8'],
  [/\.(log|txt)$/, 'text/plain; charset=utf-8'],
];
const contentType = (name: string): string =>
  CONTENT_TYPES.find(([re]) => re.test(name))?.[1] ?? 'application/octet-stream';

/** Reports are static documents: no script may run in them, whatever a model's names contain. */
const REPORT_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:";
const PAGE_CSP = "default-src 'self'; style-src 'unsafe-inline'; script-src 'self'";

function send(res: ServerResponse, status: number, type: string, body: string | Uint8Array, csp = PAGE_CSP): void {
  res.writeHead(status, {
    'content-type': type,
    'content-security-policy': csp,
    'x-content-type-options': 'nosniff',
    'cache-control': 'no-store',
  });
  res.end(body);
}

const notFound = (res: ServerResponse, what: string) =>
  send(res, 404, 'text/plain; charset=utf-8', `${what} not found\n`);

/** Route table: method + pattern → handler. */
type Handler = (deps: ResultsDeps, m: string[], res: ServerResponse, url: URL) => Promise<void>;
const ROUTES: [RegExp, Handler][] = [
  [
    /^\/$/,
    async (deps, _m, res) => {
      const builds = await listBuilds(deps.firestore);
      send(res, 200, 'text/html; charset=utf-8', eta.render('index', { builds, pollMs: deps.pollMs ?? 2000 }));
    },
  ],
  [
    /^\/api\/builds$/,
    async (deps, _m, res, url) => {
      const status = url.searchParams.get('status') ?? undefined;
      send(res, 200, 'application/json', JSON.stringify(await listBuilds(deps.firestore, 100, status)));
    },
  ],
  [/^\/app\.js$/, async (_deps, _m, res) => send(res, 200, 'text/javascript; charset=utf-8', CLIENT_SCRIPT)],
  [
    /^\/builds\/([^/]+)\/([^/]+)$/,
    async (deps, m, res) => {
      const record = await getBuild(deps.firestore, m[0]!, m[1]!);
      if (!record) return notFound(res, 'build');
      send(res, 200, 'text/html; charset=utf-8', eta.render('build', { b: buildRow(record), record }));
    },
  ],
  [
    /^\/artifacts\/([^/]+)\/([^/]+)\/(.+)$/,
    async (deps, m, res) => {
      const record = await getBuild(deps.firestore, m[0]!, m[1]!);
      const name = m[2]!;
      // Only artifacts the build record names are served: the record maps the name to its gs:// object.
      const uri = record?.artifacts?.[name];
      if (!uri) return notFound(res, 'artifact');
      const { bucket, object } = parseGsUri(uri);
      const [buf] = await deps.storage.bucket(bucket).file(object).download();
      send(res, 200, contentType(name), new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength), REPORT_CSP);
    },
  ],
];

/** The results web app as a request handler (mount it anywhere a node:http handler goes). */
export function createResultsHandler(deps: ResultsDeps): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const path = url.pathname;
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      send(res, 405, 'text/plain; charset=utf-8', 'method not allowed\n');
      return;
    }
    for (const [re, handler] of ROUTES) {
      const match = re.exec(path);
      if (!match) continue;
      let parts: string[];
      try {
        parts = match.slice(1).map((p) => decodeURIComponent(p));
      } catch {
        send(res, 400, 'text/plain; charset=utf-8', 'bad URL\n');
        return;
      }
      handler(deps, parts, res, url).catch((e: unknown) => {
        const code = (e as { code?: unknown }).code;
        if (code === 404) notFound(res, 'object');
        else if (!res.headersSent) send(res, 500, 'text/plain; charset=utf-8', `error: ${(e as Error).message}\n`);
        else res.destroy();
      });
      return;
    }
    notFound(res, 'page');
  };
}

export interface ResultsServer {
  url: string;
  server: Server;
  close(): Promise<void>;
}

/** Serves the results page on `port` (0 = any free port) at 127.0.0.1 unless `host` says otherwise. */
export async function createResultsServer(o: ResultsDeps & { port?: number; host?: string }): Promise<ResultsServer> {
  const server = createServer(createResultsHandler(o));
  const host = o.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.port ?? 0, host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${host}:${port}`,
    server,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
