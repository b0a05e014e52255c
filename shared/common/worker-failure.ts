import type { Worker } from 'node:worker_threads';
import { KilnError, type ErrorCode } from './errors.js';

/** What a pool's worker thread reports when it fails: a KilnError as raised, or the message of anything else. */
export interface WorkerFailure {
  /** 'load': building the worker's interpreters; 'run': working on a batch. */
  phase: 'load' | 'run';
  code: ErrorCode | null;
  message: string;
  hint: string | null;
}

/** The worker side: `e`, thrown during `phase`, as a message for the pool. */
export function workerFailure(phase: WorkerFailure['phase'], e: unknown): WorkerFailure {
  if (e instanceof KilnError) return { phase, code: e.code, message: e.message, hint: e.hint ?? null };
  return { phase, code: null, message: (e as Error)?.message ?? String(e), hint: null };
}

/**
 * The pool side: a reported failure of the worker `label` (e.g. "verify worker 1"). A KilnError the interpreter raised
 * reads as it would in the main thread; anything else is a bug, with `hint` (how to run without workers).
 */
export function reportedFailure(f: WorkerFailure, label: string, loading: string, hint: string): KilnError {
  if (f.code) return new KilnError(f.code, f.message, f.hint ? { hint: f.hint } : {});
  const what = f.phase === 'load' ? `could not load ${loading}` : 'failed';
  return new KilnError('E_INTERNAL', `${label} ${what}: ${f.message}`, { hint });
}

/** Hands every way `worker` can break (an unreadable message, a crash, an exit before it finished) to `fail`. */
export function watchWorker(worker: Worker, label: string, hint: string, fail: (e: KilnError) => void): void {
  worker.on('messageerror', (e) =>
    fail(new KilnError('E_INTERNAL', `${label} sent an unreadable message: ${(e as Error).message}`)),
  );
  worker.on('error', (e) => fail(new KilnError('E_INTERNAL', `${label} crashed: ${e.message}`, { hint, cause: e })));
  worker.on('exit', (code) =>
    fail(new KilnError('E_INTERNAL', `${label} exited (code ${code}) before it finished`, { hint })),
  );
}
