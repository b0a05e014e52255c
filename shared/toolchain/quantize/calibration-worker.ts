/**
 * A calibration worker thread, started by calibration-pool.ts: it builds Kiln's interpreter from the float model's
 * .tflite bytes, says `ready`, then runs the samples it is sent and accumulates their statistics (TensorStats), which
 * it returns on `finish`. Every failure is reported as an `error` message; the pool ends the worker.
 */
import { workerFailure, type WorkerFailure } from '../../common/worker-failure.js';
import { parentPort, workerData, type MessagePort } from 'node:worker_threads';
import { KilnError } from '../../common/errors.js';
import { fromTflite } from '../ir/from-tflite.js';
import { Interpreter } from '../interpreter/index.js';
import { readTflite } from '../tflite/reader.js';
import { TensorStats, type TensorStatsJSON } from './tensor-stats.js';

/** workerData. */
export interface WorkerSetup {
  /** The float model as .tflite bytes (tensor ids survive the round trip: toTflite keeps the tensor order). */
  model: Uint8Array;
  /** The calibrated tensors and their names (checked against the rebuilt model). */
  ids: number[];
  names: string[];
}

export type ToWorker =
  /** Start the statistics at these histogram widths (the first samples', from the main thread); before any sample. */
  { type: 'seed'; widths: number[] } | { type: 'sample'; index: number; sample: Float32Array[] } | { type: 'finish' };

export type FromWorker =
  | { type: 'ready' }
  | { type: 'sampled'; index: number }
  | { type: 'stats'; stats: TensorStatsJSON }
  | { type: 'error'; error: WorkerFailure };

export type { WorkerFailure };

function load(setup: WorkerSetup): Interpreter {
  const model = fromTflite(readTflite(setup.model));
  setup.ids.forEach((id, k) => {
    const t = model.graph.tensors[id];
    if (t?.name !== setup.names[k])
      throw new KilnError('E_INTERNAL', `tensor ${id} is not ${setup.names[k]} in the model a calibration worker got`);
  });
  return new Interpreter(model);
}

function serve(port: MessagePort, setup: WorkerSetup): void {
  const post = (m: FromWorker): void => port.postMessage(m);
  let interpreter: Interpreter;
  try {
    interpreter = load(setup);
  } catch (e) {
    post({ type: 'error', error: workerFailure('load', e) });
    return;
  }
  const nameOf = (id: number): string => setup.names[setup.ids.indexOf(id)] ?? `#${id}`;
  let stats = new TensorStats(setup.ids);
  port.on('message', (m: ToWorker) => {
    try {
      if (m.type === 'seed') stats = new TensorStats(setup.ids, m.widths);
      else if (m.type === 'sample') {
        // Views: the statistics are taken before the next run overwrites the buffers.
        const { tensors } = interpreter.run(m.sample, { capture: true, views: true });
        stats.observe(tensors!, nameOf);
        post({ type: 'sampled', index: m.index });
      } else post({ type: 'stats', stats: stats.toJSON() });
    } catch (e) {
      post({ type: 'error', error: workerFailure('run', e) });
    }
  });
  post({ type: 'ready' });
}

if (parentPort) serve(parentPort, workerData as WorkerSetup);
