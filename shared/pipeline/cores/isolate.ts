import { KilnError, type ErrorCode } from '../../common/errors.js';
import { siblingModule, startWorker } from '../../common/worker.js';
import type { StageCore, StageInput, StageOutput } from '../core.js';
import { environmentKey, returnWorker, takeWorker } from './warm-workers.js';

/**
 * Runs a stage core in a worker thread, so that the unit's deadline can stop it: when `input.signal` aborts
 * (withStageTimeout), the worker is terminated — synchronous work included — and the core's promise rejects with the
 * abort reason. The input is copied into the worker; the output's buffers are transferred back. A worker that
 * finished its unit cleanly stays warm for the next unit of the same stage in this process (warm-workers.ts).
 */
export interface UnitWorkerSetup {
  stage: string;
  /** A module and export to run instead of the stage's own core (tests). */
  module?: string;
  exportName?: string;
}

/** The message that starts a unit in a worker. */
export interface UnitWorkerInput {
  input: Omit<StageInput, 'artifacts' | 'signal'> & { artifacts: [string, Uint8Array][] };
}

export type UnitWorkerReply =
  | { ok: true; output: StageOutput }
  | {
      ok: false;
      error:
        | { kiln: true; code: ErrorCode; message: string; hint: string | null }
        | { kiln: false; message: string; code: string | number | null; stack: string | null };
    };

function rebuild(error: Extract<UnitWorkerReply, { ok: false }>['error']): Error {
  if (error.kiln) return new KilnError(error.code, error.message, error.hint ? { hint: error.hint } : {});
  const e = new Error(error.message) as Error & { code?: string | number };
  if (error.code !== null) e.code = error.code;
  if (error.stack) e.stack = error.stack;
  return e;
}

export function isolatedCore(stage: string, target?: { module: string; exportName: string }): StageCore {
  return (input) =>
    new Promise<StageOutput>((resolve, reject) => {
      const { artifacts, signal, ...rest } = input;
      if (signal?.aborted) return reject(signal.reason);
      const setup: UnitWorkerSetup = { stage, ...target };
      const kind = `${stage}\0${target?.module ?? ''}\0${target?.exportName ?? ''}\0${environmentKey()}`;
      const { worker } = takeWorker(kind, () =>
        startWorker(siblingModule(import.meta.url, 'core-worker'), { workerData: setup }),
      );
      let settled = false;
      const settle = (f: () => void) => {
        if (settled) return;
        settled = true;
        signal?.removeEventListener('abort', onAbort);
        worker.removeListener('message', onMessage);
        worker.removeListener('error', onError);
        worker.removeListener('exit', onExit);
        f();
      };
      const onAbort = () => {
        settle(() => reject(signal!.reason));
        void worker.terminate();
      };
      const onMessage = (reply: UnitWorkerReply) =>
        settle(() => {
          // The unit ended in the core's own hands (a result or the error it threw): the worker may run another.
          returnWorker(kind, worker);
          if (reply.ok) resolve(reply.output);
          else reject(rebuild(reply.error));
        });
      const onError = (e: Error) =>
        settle(() => {
          reject(e);
          void worker.terminate();
        });
      const onExit = (code: number) =>
        settle(() => reject(new Error(`the ${stage} unit worker exited (code ${code}) without a result`)));
      signal?.addEventListener('abort', onAbort, { once: true });
      worker.on('message', onMessage);
      worker.on('error', onError);
      worker.on('exit', onExit);
      const message: UnitWorkerInput = { input: { ...rest, artifacts: [...artifacts] } };
      worker.postMessage(message);
    });
}
