import { Worker, type WorkerOptions } from 'node:worker_threads';

/**
 * The module `name` beside the module at `base` (its import.meta.url): `.ts` when that module runs as TypeScript (tsx:
 * CLI, tests, bench), `.js` when compiled (the deploy bundle).
 */
export function siblingModule(base: string, name: string): URL {
  const ext = new URL(base).pathname.endsWith('.ts') ? 'ts' : 'js';
  return new URL(`./${name}.${ext}`, base);
}

/** A worker thread running `url`. A TypeScript worker registers tsx first: workers do not inherit the loader. */
export function startWorker(url: URL, options: WorkerOptions = {}): Worker {
  if (!url.pathname.endsWith('.ts')) return new Worker(url, options);
  const boot = `import(${JSON.stringify(import.meta.resolve('tsx/esm/api'))}).then((m) => { m.register(); return import(${JSON.stringify(url.href)}); })`;
  return new Worker(boot, { ...options, eval: true });
}
