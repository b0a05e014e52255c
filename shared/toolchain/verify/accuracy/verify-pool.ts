import { availableParallelism } from 'node:os';
import type { Worker } from 'node:worker_threads';
import { KilnError } from '../../../common/errors.js';
import type { TensorValue } from '../../interpreter/index.js';
import type { Sample } from '../../data/dataset.js';
import { siblingModule, startWorker } from '../../../common/worker.js';
import { reportedFailure, watchWorker } from '../../../common/worker-failure.js';
// Type-only, but it also puts the worker module in the TypeScript program, so that deployment compiles it to .js.
import type { FromVerifyWorker, ToVerifyWorker, VerifyWorkerFailure, VerifyWorkerSetup } from './verify-worker.js';

/** Verify threads when none are asked for: one worker per CPU this process may use. */
export function defaultVerifyThreads(): number {
  return availableParallelism();
}

/** Samples per message: small enough to balance the workers, large enough that messages cost nothing. */
const BATCH = 8;
/** Batches each worker has queued, so that it never waits for the next one. */
const LANES = 2;

const THREADS_HINT = 'Run verify in the main thread: kiln verify --threads 1';

/** One verify worker as promises; any failure (error message, crash, exit) rejects everything pending on it. */
class VerifyWorker {
  private readonly worker: Worker;
  /** Rejects when the worker fails; never resolves. */
  readonly failed: Promise<never>;
  private readonly pending = new Map<number, (r: { float: TensorValue[][]; int8: TensorValue[][] }) => void>();
  private fail: (e: KilnError) => void = () => undefined;
  private closed = false;

  constructor(
    readonly k: number,
    setup: VerifyWorkerSetup,
  ) {
    this.failed = new Promise<never>((_, reject) => {
      this.fail = (e) => {
        if (this.closed) return;
        this.closed = true;
        reject(e);
      };
    });
    this.failed.catch(() => undefined);
    this.worker = startWorker(siblingModule(import.meta.url, 'verify-worker'), { workerData: setup });
    this.worker.on('message', (m: FromVerifyWorker) => {
      if (m.type === 'ready') return;
      if (m.type === 'outputs') {
        this.pending.get(m.first)?.(m);
        this.pending.delete(m.first);
      } else this.fail(this.failure(m.error));
    });
    watchWorker(this.worker, `verify worker ${k}`, THREADS_HINT, (e) => this.fail(e));
  }

  private failure(f: VerifyWorkerFailure): KilnError {
    return reportedFailure(f, `verify worker ${this.k}`, 'the models', THREADS_HINT);
  }

  run(first: number, samples: Sample[]): Promise<{ float: TensorValue[][]; int8: TensorValue[][] }> {
    const done = new Promise<{ float: TensorValue[][]; int8: TensorValue[][] }>((resolve) =>
      this.pending.set(first, resolve),
    );
    const m: ToVerifyWorker = { type: 'batch', first, samples };
    this.worker.postMessage(m);
    return Promise.race([done, this.failed]);
  }

  close(): void {
    this.closed = true;
    void this.worker.terminate();
  }
}

export interface PairOutputs {
  /** Per sample (in order), the float model's outputs and the int8 model's. */
  float: TensorValue[][];
  int8: TensorValue[][];
  /** Worker threads that ran them. */
  threads: number;
}

/**
 * Runs every sample through the float and the int8 model on `threads` worker threads, each with its own two
 * interpreters built from the models' .tflite bytes; batches go to whichever worker is free, and the outputs come back
 * in sample order, the same as running both models here one sample after the other. A worker that fails, crashes or
 * exits rejects with a KilnError; every worker is ended either way.
 */
export async function runPairsInWorkers(
  models: VerifyWorkerSetup,
  samples: Sample[],
  opts: { threads: number; onSample?: (done: number, total: number) => void },
): Promise<PairOutputs> {
  const n = samples.length;
  const float: TensorValue[][] = new Array<TensorValue[]>(n);
  const int8: TensorValue[][] = new Array<TensorValue[]>(n);
  const count = Math.max(1, Math.min(opts.threads, Math.ceil(n / BATCH)));
  const workers = Array.from({ length: count }, (_, k) => new VerifyWorker(k, models));
  let next = 0;
  let done = 0;
  try {
    const lane = async (w: VerifyWorker): Promise<void> => {
      while (next < n) {
        const first = next;
        next = Math.min(n, next + BATCH);
        const out = await w.run(first, samples.slice(first, next));
        out.float.forEach((v, i) => (float[first + i] = v));
        out.int8.forEach((v, i) => (int8[first + i] = v));
        done += out.float.length;
        opts.onSample?.(done, n);
      }
    };
    await Promise.all(workers.flatMap((w) => Array.from({ length: LANES }, () => lane(w))));
    return { float, int8, threads: count };
  } finally {
    for (const w of workers) w.close();
  }
}
