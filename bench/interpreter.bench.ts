/**
 * Kiln's interpreter against the TFLite runtime (tfjs-tflite-node, 1 thread) on the same models and inputs, in one run.
 * TFLite times are wall times of TfliteRuntime.run, which include the hop to its child process (input/output copies);
 * Kiln times are in-process. Medians after one warm-up.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { bytesOf } from '../shared/ir/dtype.js';
import { fromTflite } from '../shared/ir/from-tflite.js';
import { Interpreter } from '../shared/interpreter/index.js';
import { randomInputs } from '../shared/interpreter/random-inputs.js';
import { TfliteRuntime } from '../shared/oracle/tflite-runtime.js';
import { readTflite } from '../shared/tflite/reader.js';

const MODELS_DIR = fileURLToPath(new URL('../../shared/models/', import.meta.url));
const MODELS = [
  'mobilenet_v1_0.25_128_quant',
  'mobilenet_edgetpu_0.75_224_post_training_quant',
  'deeplabv3_mnv2_dm05_pascal_quant',
];
const REPEAT = Number(process.env['KILN_BENCH_REPEAT'] ?? 5);

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

export async function run(): Promise<Record<string, unknown>> {
  const models: Record<string, unknown>[] = [];
  for (const name of MODELS) {
    let bytes: Uint8Array;
    try {
      bytes = new Uint8Array(readFileSync(`${MODELS_DIR}${name}.tflite`));
    } catch {
      models.push({ model: name, skipped: 'model file not found' });
      continue;
    }
    const interp = new Interpreter(fromTflite(readTflite(bytes)));
    const inputs = randomInputs(interp.inputs, 1);
    const rt = await TfliteRuntime.load(bytes, { threads: 1 });
    try {
      const raw = inputs.map((a) => bytesOf(a));
      interp.run(inputs);
      await rt.run(raw);
      const kiln: number[] = [];
      const tflite: number[] = [];
      const perOp = new Map<string, number>();
      for (let i = 0; i < REPEAT; i++) {
        let t0 = performance.now();
        interp.run(inputs);
        kiln.push(performance.now() - t0);
        t0 = performance.now();
        await rt.run(raw);
        tflite.push(performance.now() - t0);
      }
      for (const t of interp.run(inputs, { timings: true }).timings!)
        perOp.set(t.type, (perOp.get(t.type) ?? 0) + t.ms);
      const kMs = median(kiln);
      const tMs = median(tflite);
      const mem = process.memoryUsage();
      models.push({
        model: name,
        kilnMs: +kMs.toFixed(2),
        tfliteMs: +tMs.toFixed(2),
        ratio: +(tMs / kMs).toFixed(3),
        kilnMsByOp: Object.fromEntries([...perOp].sort((a, b) => b[1] - a[1]).map(([k, v]) => [k, +v.toFixed(2)])),
        heapUsedMB: +(mem.heapUsed / 2 ** 20).toFixed(1),
        arrayBuffersMB: +(mem.arrayBuffers / 2 ** 20).toFixed(1),
        repeat: REPEAT,
      });
    } finally {
      rt.close();
    }
  }
  const summary = models
    .map((m) =>
      m['skipped']
        ? `  ${m['model']}: skipped (${m['skipped']})`
        : `  ${m['model']}: Kiln ${m['kilnMs']} ms, TFLite ${m['tfliteMs']} ms, ratio ${m['ratio']}`,
    )
    .join('\n');
  return { models, summary: `interpreter (TFLite ms ÷ Kiln ms, median of ${REPEAT}):\n${summary}` };
}
