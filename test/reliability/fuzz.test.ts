import test from 'ava';
import { readFileSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import { haveModels, modelPath } from '../helpers/models.js';

const CASES = Number(process.env['KILN_FUZZ_CASES'] ?? 10_000);
const HANG_MS = 5_000;
const HEAP_MB = 512;

interface Outcome {
  failures: { seed: number; stage: string; error: string }[];
  refused: number;
  ran: number;
}

/** One worker with a memory cap; a case that makes no progress for HANG_MS is reported as a hang. */
function fuzz(from: number, to: number, extra: Uint8Array[]): Promise<Outcome> {
  return new Promise((resolve, reject) => {
    // Workers do not inherit the tsx loader: register it first, then load the TypeScript worker.
    const boot = `import(${JSON.stringify(import.meta.resolve('tsx/esm/api'))}).then((m) => { m.register(); return import(${JSON.stringify(new URL('./fuzz-worker.ts', import.meta.url).href)}); })`;
    const worker = new Worker(boot, {
      eval: true,
      workerData: { from, to, extra },
      resourceLimits: { maxOldGenerationSizeMb: HEAP_MB },
    });
    let current = -1;
    let timer: NodeJS.Timeout | undefined;
    const arm = () => {
      clearTimeout(timer);
      timer = setTimeout(() => {
        void worker.terminate();
        reject(new Error(`case ${current} made no progress for ${HANG_MS} ms (hang)`));
      }, HANG_MS);
    };
    worker.on('message', (m: { type: string; seed?: number } & Outcome) => {
      if (m.type === 'case') {
        current = m.seed!;
        arm();
      } else {
        clearTimeout(timer);
        resolve(m);
      }
    });
    worker.on('error', (e) => {
      clearTimeout(timer);
      reject(new Error(`case ${current}: worker died: ${e.message}`));
    });
  });
}

test(`${CASES} mutated .tflite files through reader, inspect, compile stage and interpreter: only clear errors, no hang, bounded memory`, async (t) => {
  const extra = haveModels
    ? [
        'split_concat.tflite',
        'ssd_mobilenet_v1_coco_quant_postprocess_head_layers.tflite',
        'tflm_hello_world_int8.tflite',
      ].map((f) => new Uint8Array(readFileSync(modelPath(f))))
    : [];
  const half = Math.floor(CASES / 2);
  const outcomes = await Promise.all([fuzz(1, half + 1, extra), fuzz(half + 1, CASES + 1, extra)]);
  const failures = outcomes.flatMap((o) => o.failures);
  const refused = outcomes.reduce((n, o) => n + o.refused, 0);
  const ran = outcomes.reduce((n, o) => n + o.ran, 0);
  t.log(`${CASES} cases: ${refused} refused with a KilnError, ${ran} ran to the end, ${failures.length} other errors`);
  for (const f of failures.slice(0, 20)) t.log(`seed ${f.seed} at ${f.stage}: ${f.error}`);
  t.deepEqual(failures, []);
  t.true(refused > 0 && ran > 0);
});
