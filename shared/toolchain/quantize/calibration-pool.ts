import { availableParallelism } from 'node:os';
import type { Worker } from 'node:worker_threads';
import { siblingModule, startWorker } from '../../common/worker.js';
import { reportedFailure, watchWorker } from '../../common/worker-failure.js';
import { KilnError } from '../../common/errors.js';
import type { IrModel } from '../ir/model.js';
import { toTflite } from '../ir/to-tflite.js';
import { writeTflite } from '../tflite/writer.js';
// Type-only, but it also puts the worker module in the TypeScript program, so that deployment compiles it to .js.
import type { FromWorker, ToWorker, WorkerFailure, WorkerSetup } from './calibration-worker.js';
import type { CaptureRunner } from './capture.js';
import type { Sample } from '../data/dataset.js';
import { calibratedTensors, observeSample, statsFile, type StatsFile } from './stats.js';
import { TensorStats } from './tensor-stats.js';

/** Calibration threads when none are asked for: one per CPU this process may use. */
export function defaultCalibrationThreads(): number {
  return availableParallelism();
}

/**
 * Calibration workers running in this process, over every calibration under way. A calibration without an explicit
 * thread count only starts workers while there is a CPU for each (besides this thread): builds that run side by side
 * in one process (the local stack) then share the CPUs instead of each starting its own workers. The statistics are
 * the same for any count, so this only changes speed.
 */
let workersRunning = 0;

function claimWorkers(wanted: number, shared: boolean): number {
  const k = shared ? Math.max(0, Math.min(wanted, defaultCalibrationThreads() - 1 - workersRunning)) : wanted;
  workersRunning += k;
  return k;
}

const THREADS_HINT = 'Calibrate in the main thread: --threads 1 (kiln quantize) or KILN_CALIBRATION_THREADS=1';

/** Work worth starting workers for (shared mode): about twice a worker's start-up under tsx (0.8–1.5 s measured). */
export const WORKER_WORTH_MS = 2_000;

/** Samples each worker has queued, so that it never waits for the next one. */
const LANES = 3;

/** A calibration worker (calibration-worker.ts beside this module). */
function startCalibrationWorker(setup: WorkerSetup): Worker {
  return startWorker(siblingModule(import.meta.url, 'calibration-worker'), { workerData: setup });
}

/** One calibration worker as promises; any failure (error message, crash, exit) rejects everything pending on it. */
class PoolWorker {
  private readonly worker: Worker;
  readonly ready: Promise<void>;
  /** Rejects when the worker fails; never resolves. */
  readonly failed: Promise<never>;
  private readonly pending = new Map<number, () => void>();
  private onStats: ((s: TensorStats) => void) | null = null;
  private fail: (e: KilnError) => void = () => undefined;
  private closed = false;

  constructor(
    readonly k: number,
    setup: WorkerSetup,
  ) {
    let ready: () => void = () => undefined;
    let failReady: (e: unknown) => void = () => undefined;
    this.ready = new Promise<void>((resolve, reject) => {
      ready = resolve;
      failReady = reject;
    });
    this.failed = new Promise<never>((_, reject) => {
      this.fail = (e) => {
        if (this.closed) return;
        this.closed = true;
        failReady(e);
        reject(e);
      };
    });
    // Whoever awaits these sees the error; an unobserved rejection must not end the process.
    this.ready.catch(() => undefined);
    this.failed.catch(() => undefined);
    this.worker = startCalibrationWorker(setup);
    this.worker.on('message', (m: FromWorker) => {
      if (m.type === 'ready') ready();
      else if (m.type === 'sampled') {
        this.pending.get(m.index)?.();
        this.pending.delete(m.index);
      } else if (m.type === 'stats') this.onStats?.(TensorStats.fromJSON(m.stats));
      else this.fail(this.failure(m.error));
    });
    watchWorker(this.worker, `calibration worker ${k}`, THREADS_HINT, (e) => this.fail(e));
  }

  private failure(f: WorkerFailure): KilnError {
    return reportedFailure(f, `calibration worker ${this.k}`, 'the model', THREADS_HINT);
  }

  private post(m: ToWorker): void {
    this.worker.postMessage(m);
  }

  seed(widths: number[]): void {
    this.post({ type: 'seed', widths });
  }

  run(index: number, sample: Sample): Promise<void> {
    const done = new Promise<void>((resolve) => this.pending.set(index, resolve));
    this.post({ type: 'sample', index, sample });
    return Promise.race([done, this.failed]);
  }

  stats(): Promise<TensorStats> {
    const stats = new Promise<TensorStats>((resolve) => (this.onStats = resolve));
    this.post({ type: 'finish' });
    return Promise.race([stats, this.failed]);
  }

  close(): void {
    this.closed = true;
    void this.worker.terminate();
  }
}

/** Lets queued events (worker messages) run between two samples computed in this thread. */
const yieldToEvents = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

export interface PooledCalibration {
  stats: StatsFile;
  /** Samples each thread ran: this one first, then each worker (0 for a worker that was not ready in time). */
  samplesPerThread: number[];
}

/**
 * Calibration on `threads` threads — this one and threads − 1 workers, each running Kiln's interpreter on its share of
 * the samples — with the same statistics as one sequential pass (collectStats) for any number of threads and any
 * split:
 *
 * 1. The workers start (each builds its interpreter from the model's .tflite bytes); meanwhile this thread runs sample
 *    0 on `runner` — and more while some tensor has seen no finite value —, which fixes every histogram's first width.
 * 2. Each worker, once ready, starts its histograms at those widths and takes the next sample whenever it finishes one.
 *    This thread takes samples too, between which it hands out the workers' next samples; it leaves the last one per
 *    worker to the workers.
 * 3. This thread merges the workers' statistics into its own.
 *
 * A worker that fails, crashes or exits rejects the calibration with a KilnError; every worker is ended either way.
 * `runner` is Kiln's interpreter for `model` (its results are views, read before the next run).
 */
export async function calibrateWithWorkers(
  model: IrModel,
  runner: CaptureRunner,
  samples: Sample[],
  source: string,
  opts: {
    threads: number;
    /**
     * No explicit thread count was given: start only the workers the process has CPUs for now, and only when the
     * work left after the first samples (timed in this thread) is at least `minWorkMs` (default WORKER_WORTH_MS) —
     * a small job is done before a worker would have started.
     */
    shareCpus?: boolean;
    minWorkMs?: number;
    onSample?: (done: number, total: number) => void;
  },
): Promise<PooledCalibration> {
  const g = model.graph;
  const ids = calibratedTensors(g);
  const nameOf = (id: number): string => g.tensor(id).name;
  const n = samples.length;
  const stats = new TensorStats(ids);
  const shared = opts.shareCpus ?? false;
  const wanted = Math.max(0, Math.min(opts.threads - 1, n - 1));
  let count = 0;
  const split = [0];
  let next = 0;
  let done = 0;
  const progress = (): void => opts.onSample?.(++done, n);
  const runHere = async (): Promise<void> => {
    split[0]!++;
    await observeSample(runner, samples[next++]!, stats, nameOf);
    progress();
  };

  const workers: PoolWorker[] = [];
  let failure: unknown = null;
  const startWorkers = (k: number): void => {
    count = claimWorkers(k, shared);
    if (count === 0) return;
    const setup: WorkerSetup = { model: writeTflite(toTflite(model)), ids, names: ids.map(nameOf) };
    for (let i = 0; i < count; i++) {
      const w = new PoolWorker(i, setup);
      w.failed.catch((e: unknown) => (failure ??= e));
      workers.push(w);
      split.push(0);
    }
  };
  try {
    // An explicit count starts the workers at once (their start-up overlaps the first samples).
    if (!shared) startWorkers(wanted);
    const t0 = performance.now();
    do await runHere();
    while (stats.widths().includes(0) && next < n);
    const widths = stats.widths();
    if (shared) {
      const leftMs = ((performance.now() - t0) / next) * (n - next);
      startWorkers(leftMs >= (opts.minWorkMs ?? WORKER_WORTH_MS) ? wanted : 0);
    }

    let allClaimed: () => void = () => undefined;
    const claimedAll = new Promise<void>((resolve) => (allClaimed = resolve));
    const claim = (): number => {
      if (next < n) return next++;
      allClaimed();
      return -1;
    };
    /** A worker's share: none if every sample was taken before it was ready; else its statistics. */
    const share = async (w: PoolWorker): Promise<TensorStats | null> => {
      if (!(await Promise.race([w.ready.then(() => true), claimedAll.then(() => false), w.failed]))) return null;
      w.seed(widths);
      const lane = async (): Promise<void> => {
        for (let i = claim(); i >= 0; i = claim()) {
          await w.run(i, samples[i]!);
          split[w.k + 1]!++;
          progress();
        }
      };
      await Promise.all(Array.from({ length: LANES }, lane));
      return w.stats();
    };
    const shares = Promise.all(workers.map(share));
    shares.catch(() => undefined);
    if (next >= n) allClaimed();

    while (failure === null && n - next > workers.length) {
      await runHere();
      await yieldToEvents();
    }
    for (const s of await shares) if (s) stats.merge(s);
    if (failure !== null) throw failure;
    return { stats: statsFile(g, stats, n, source), samplesPerThread: split };
  } finally {
    for (const w of workers) w.close();
    workersRunning -= count;
  }
}
