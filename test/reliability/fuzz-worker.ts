import { parentPort, workerData } from 'node:worker_threads';
import { isKilnError } from '../../shared/common/errors.js';
import { compileModel } from '../../shared/toolchain/edgetpu/compile-model.js';
import { Interpreter } from '../../shared/toolchain/interpreter/index.js';
import { randomInputs } from '../../shared/toolchain/interpreter/random-inputs.js';
import { fromTflite } from '../../shared/toolchain/ir/from-tflite.js';
import { inspectModel } from '../../shared/toolchain/edgetpu/inspect.js';
import { readTflite } from '../../shared/toolchain/tflite/reader.js';
import { mutate, seeds } from './fuzz-corpus.js';

/**
 * Runs mutated models through reader, inspect, compile stage and interpreter. Reports each case before it starts,
 * so that the parent can name the case that hangs or exhausts memory; every error that is not a KilnError is a bug.
 */
const MAX_TENSOR_BYTES = 16 * 1024 * 1024;
const { from, to, extra } = workerData as { from: number; to: number; extra: Uint8Array[] };
const bases = seeds(extra);
const failures: { seed: number; stage: string; error: string }[] = [];
let refused = 0;
let ran = 0;

for (let seed = from; seed < to; seed++) {
  parentPort!.postMessage({ type: 'case', seed });
  const bytes = mutate(bases[seed % bases.length]!, seed);
  let stage = 'read';
  try {
    const model = readTflite(bytes);
    stage = 'inspect';
    inspectModel(model, bytes.length);
    stage = 'compile';
    compileModel([{ path: `fuzz_${seed}.tflite`, bytes }]);
    stage = 'interpreter';
    // The fuzz corpus is made of small models: a mutation that inflates a shape meets the memory cap (a clear
    // E_TFLITE_LIMIT) rather than minutes of honest work on gigabytes of tensors.
    const interp = new Interpreter(fromTflite(model), { maxTensorBytes: MAX_TENSOR_BYTES });
    interp.run(randomInputs(interp.inputs, seed));
    ran++;
  } catch (e) {
    if (isKilnError(e)) refused++;
    else failures.push({ seed, stage, error: `${(e as Error)?.name}: ${(e as Error)?.message}` });
  }
}
parentPort!.postMessage({ type: 'done', failures, refused, ran });
