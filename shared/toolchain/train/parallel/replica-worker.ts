/**
 * A data-parallel training replica in a worker thread, started by replica-pool.ts. `setup` builds the replica (same
 * architecture and weights as the main thread's) and answers `ready`; `grads` answers with the gradients of its share of
 * a batch; `apply` takes the averaged gradients. Messages are handled in order, so a batch's gradients are always
 * computed on the weights of every step before it. Every failure is reported as an `error` message.
 */
import { parentPort, type MessagePort } from 'node:worker_threads';
import { workerFailure, type WorkerFailure } from '../../../common/worker-failure.js';
import { useTrainingBackend } from '../kernels/register.js';
import { Replica, type BatchGradients, type ReplicaSetup } from './replica.js';

export type ToReplica =
  | { type: 'setup'; setup: ReplicaSetup }
  | { type: 'grads'; x: Float32Array; y: Int32Array; count: number }
  | { type: 'apply'; grads: Float32Array[]; learningRate: number }
  | { type: 'weights' };

export type FromReplica =
  | { type: 'ready' }
  | { type: 'gradients'; result: BatchGradients }
  | { type: 'weights'; weights: Float32Array[] }
  | { type: 'error'; error: WorkerFailure };

const port = parentPort as MessagePort;
let replica: Replica | null = null;
let queue: Promise<void> = Promise.resolve();

async function handle(m: ToReplica): Promise<void> {
  if (m.type === 'setup') {
    await useTrainingBackend();
    replica?.dispose();
    replica = new Replica(m.setup);
    port.postMessage({ type: 'ready' } satisfies FromReplica);
    return;
  }
  if (!replica) throw new Error(`${m.type} before setup`);
  if (m.type === 'grads') {
    const computed = replica.gradients(m.x, m.y, m.count);
    // Each gradient in a buffer of its own, handed over rather than copied.
    const grads = computed.grads.map((g) =>
      g.byteOffset === 0 && g.byteLength === g.buffer.byteLength ? g : g.slice(),
    );
    const result = { ...computed, grads };
    port.postMessage(
      { type: 'gradients', result } satisfies FromReplica,
      grads.map((g) => g.buffer as ArrayBuffer),
    );
  } else if (m.type === 'apply') replica.apply(m.grads, m.learningRate);
  else port.postMessage({ type: 'weights', weights: replica.weights() } satisfies FromReplica);
}

port.on('message', (m: ToReplica) => {
  queue = queue
    .then(() => handle(m))
    .catch((e: unknown) => {
      port.postMessage({
        type: 'error',
        error: workerFailure(m.type === 'setup' ? 'load' : 'run', e),
      } satisfies FromReplica);
    });
});
