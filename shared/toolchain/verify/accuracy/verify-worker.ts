/**
 * A verify worker thread, started by verify-pool.ts: it builds Kiln's interpreter for the float and the int8 model from
 * their .tflite bytes, says `ready`, then runs each batch of validation samples it is sent through both models and
 * posts the outputs back (transferred). Every failure is reported as an `error` message; the pool ends the worker.
 */
import { workerFailure, type WorkerFailure } from '../../../common/worker-failure.js';
import { parentPort, workerData, type MessagePort } from 'node:worker_threads';
import { fromTflite } from '../../ir/from-tflite.js';
import { Interpreter, type TensorValue } from '../../interpreter/index.js';
import type { Sample } from '../../data/dataset.js';
import { feedInput } from '../../data/feed.js';
import { readTflite } from '../../tflite/reader.js';

/** workerData. */
export interface VerifyWorkerSetup {
  float: Uint8Array;
  int8: Uint8Array;
}

export type ToVerifyWorker = { type: 'batch'; first: number; samples: Sample[] };

export type FromVerifyWorker =
  | { type: 'ready' }
  | { type: 'outputs'; first: number; float: TensorValue[][]; int8: TensorValue[][] }
  | { type: 'error'; error: VerifyWorkerFailure };

export type VerifyWorkerFailure = WorkerFailure;

/** One model's outputs for one sample, copied out of the interpreter's buffers. */
function runOnce(it: Interpreter, sample: Sample): TensorValue[] {
  const res = it.run(it.inputs.map((t, i) => feedInput(t, sample[i]!)));
  return res.outputs.map((v) => ({ dtype: v.dtype, shape: [...v.shape], data: v.data.slice() }));
}

function serve(port: MessagePort, setup: VerifyWorkerSetup): void {
  const post = (m: FromVerifyWorker, transfer: ArrayBuffer[] = []): void => port.postMessage(m, transfer);
  let float: Interpreter;
  let int8: Interpreter;
  try {
    float = new Interpreter(fromTflite(readTflite(setup.float)));
    int8 = new Interpreter(fromTflite(readTflite(setup.int8)));
  } catch (e) {
    post({ type: 'error', error: workerFailure('load', e) });
    return;
  }
  port.on('message', (m: ToVerifyWorker) => {
    try {
      const f = m.samples.map((s) => runOnce(float, s));
      const q = m.samples.map((s) => runOnce(int8, s));
      const buffers = [...f, ...q].flatMap((vs) => vs.map((v) => v.data.buffer as ArrayBuffer));
      post({ type: 'outputs', first: m.first, float: f, int8: q }, [...new Set(buffers)]);
    } catch (e) {
      post({ type: 'error', error: workerFailure('run', e) });
    }
  });
  post({ type: 'ready' });
}

if (parentPort) serve(parentPort, workerData as VerifyWorkerSetup);
