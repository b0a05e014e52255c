/**
 * Synchronous data-parallel training over replicas: this thread's replica plus one worker thread per extra CPU
 * (replica-worker.ts). Each step splits the batch into near-equal shares, every replica computes its share's
 * gradients, this thread averages them weighted by share (the gradient of the whole batch's mean loss, except that
 * batch norm normalizes each share by its own statistics, as with per-device batches on accelerators) and every
 * replica applies the same average with the same Adam step, so their trainable weights stay identical. With one
 * replica no worker starts and a step is the in-process computation alone.
 */
import type * as tf from '@tensorflow/tfjs';
import type { Worker } from 'node:worker_threads';
import { KilnError } from '../../../common/errors.js';
import { siblingModule, startWorker } from '../../../common/worker.js';
import { reportedFailure, watchWorker } from '../../../common/worker-failure.js';
import { Replica, type BatchGradients, type ReplicaSetup } from './replica.js';
// Type-only, but it also puts the worker module in the TypeScript program, so that deployment compiles it to .js.
import type { FromReplica, ToReplica } from './replica-worker.js';

const THREADS_HINT = 'Train in one thread: "threads": 1 in the train block of kiln.json';

/** One replica in a worker thread, as promises; a failure rejects whatever is pending. */
class WorkerReplica {
  private readonly worker: Worker;
  private waiting: { resolve: (m: FromReplica) => void; reject: (e: KilnError) => void } | null = null;
  private failure: KilnError | null = null;

  constructor(readonly k: number) {
    this.worker = startWorker(siblingModule(import.meta.url, 'replica-worker'));
    this.worker.on('message', (m: FromReplica) => {
      if (m.type === 'error') this.fail(reportedFailure(m.error, `training worker ${k}`, 'the model', THREADS_HINT));
      else {
        const w = this.waiting;
        this.waiting = null;
        w?.resolve(m);
      }
    });
    watchWorker(this.worker, `training worker ${k}`, THREADS_HINT, (e) => this.fail(e));
  }

  private fail(e: KilnError): void {
    if (this.failure) return;
    this.failure = e;
    this.waiting?.reject(e);
    this.waiting = null;
  }

  private post(m: ToReplica, transfer: ArrayBuffer[] = []): void {
    this.worker.postMessage(m, transfer);
  }

  /** Posts `m` and resolves with the worker's next answer. */
  private ask(m: ToReplica, transfer: ArrayBuffer[] = []): Promise<FromReplica> {
    if (this.failure) return Promise.reject(this.failure);
    const answer = new Promise<FromReplica>((resolve, reject) => (this.waiting = { resolve, reject }));
    this.post(m, transfer);
    return answer;
  }

  async setup(setup: ReplicaSetup): Promise<void> {
    await this.ask({ type: 'setup', setup });
  }

  async gradients(x: Float32Array, y: Int32Array, count: number): Promise<BatchGradients> {
    const m = await this.ask({ type: 'grads', x, y, count }, [x.buffer as ArrayBuffer, y.buffer as ArrayBuffer]);
    if (m.type !== 'gradients') throw new KilnError('E_INTERNAL', `training worker ${this.k} answered ${m.type}`);
    return m.result;
  }

  apply(grads: Float32Array[], learningRate: number): void {
    if (!this.failure) this.post({ type: 'apply', grads, learningRate });
  }

  async weights(): Promise<Float32Array[]> {
    const m = await this.ask({ type: 'weights' });
    if (m.type !== 'weights') throw new KilnError('E_INTERNAL', `training worker ${this.k} answered ${m.type}`);
    return m.weights;
  }

  close(): void {
    this.failure ??= new KilnError('E_INTERNAL', `training worker ${this.k} was closed`);
    void this.worker.terminate();
  }
}

export interface StepResult {
  lossSum: number;
  correct: number;
}

/** Near-equal shares of `count`: the first `count % k` get one more. */
export function shares(count: number, k: number): number[] {
  return Array.from({ length: k }, (_, i) => Math.floor(count / k) + (i < count % k ? 1 : 0));
}

/** Σ_k (n_k / n)·g_k over the replicas' gradients, weight by weight. */
export function averageGradients(parts: BatchGradients[]): Float32Array[] {
  const total = parts.reduce((s, p) => s + p.count, 0);
  return parts[0]!.grads.map((_, w) => {
    const out = new Float32Array(parts[0]!.grads[w]!.length);
    for (const p of parts) {
      const f = p.count / total;
      const g = p.grads[w]!;
      for (let i = 0; i < out.length; i++) out[i] = out[i]! + f * g[i]!;
    }
    return out;
  });
}

export class ReplicaPool {
  private local: Replica | null = null;
  private readonly workers: WorkerReplica[];

  /** `replicas` ≥ 1: this thread's plus `replicas − 1` worker threads. */
  constructor(readonly replicas: number) {
    this.workers = Array.from({ length: Math.max(0, replicas - 1) }, (_, i) => new WorkerReplica(i + 1));
  }

  /** (Re)builds every replica of `setup`, all with this thread's initial weights. */
  async start(setup: Omit<ReplicaSetup, 'weights'>): Promise<void> {
    this.local?.dispose();
    this.local = new Replica(setup);
    const weights = this.local.weights();
    await Promise.all(this.workers.map((w) => w.setup({ ...setup, weights })));
  }

  get model(): tf.LayersModel {
    if (!this.local) throw new Error('ReplicaPool.start first');
    return this.local.model;
  }

  /** One synchronous training step on `count` images `x` with labels `y`. */
  async step(x: Float32Array, y: Int32Array, count: number, learningRate: number): Promise<StepResult> {
    const local = this.local;
    if (!local) throw new Error('ReplicaPool.start first');
    const n = shares(count, this.replicas).filter((c) => c > 0);
    const per = x.length / count;
    let from = n[0]!;
    const remote = this.workers.slice(0, n.length - 1).map((w, i) => {
      const to = from + n[i + 1]!;
      const part = w.gradients(x.slice(from * per, to * per), y.slice(from, to), to - from);
      from = to;
      return part;
    });
    const own = local.gradients(x.subarray(0, n[0]! * per), y.subarray(0, n[0]!), n[0]!);
    const parts = [own, ...(await Promise.all(remote))];
    const grads = parts.length === 1 ? own.grads : averageGradients(parts);
    for (const w of this.workers) w.apply(grads, learningRate);
    local.apply(grads, learningRate);
    return {
      lossSum: parts.reduce((s, p) => s + p.lossSum, 0),
      correct: parts.reduce((s, p) => s + p.correct, 0),
    };
  }

  /** Every worker replica's weights (for checking that the replicas agree). */
  async workerWeights(): Promise<Float32Array[][]> {
    return Promise.all(this.workers.map((w) => w.weights()));
  }

  /** Ends the workers; this thread's model stays with the caller (`model`), its optimizer state is freed. */
  close(): void {
    for (const w of this.workers) w.close();
    this.local?.dispose(true);
  }
}
