/**
 * Kiln's interpreter against the TFLite runtime (tfjs-tflite-node, 1 thread) on the same models and inputs, in one run:
 * the int8 models of ../shared/models and float MobileNets built here (random weights). The two alternate, one
 * inference each, KILN_BENCH_REPEAT (5) times after one warm-up; medians. The figure per model is TFLite's CPU time
 * in Invoke() (user + system of its child process, measured there) ÷ Kiln's CPU time in interp.run (this process):
 * CPU time is what a shared machine's preemption does not inflate; above 1, Kiln is faster. Wall times are reported
 * beside it: Invoke alone and the whole TfliteRuntime.run (`tfliteWallMs`, with the hop to the child and the copies). Kiln's per-kernel time comes from one more run
 * with timings.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { bytesOf } from '../shared/toolchain/ir/dtype.js';
import { fromTflite } from '../shared/toolchain/ir/from-tflite.js';
import type { IrModel } from '../shared/toolchain/ir/model.js';
import { toTflite } from '../shared/toolchain/ir/to-tflite.js';
import { Interpreter } from '../shared/toolchain/interpreter/index.js';
import { randomInputs } from '../shared/toolchain/interpreter/random-inputs.js';
import { TfliteRuntime } from '../shared/toolchain/runtime/tflite-runtime.js';
import { readTflite } from '../shared/toolchain/tflite/reader.js';
import { writeTflite } from '../shared/toolchain/tflite/writer.js';
import { mobileNetV1Float } from './float-models.js';
import type { Figure } from './history.js';
import { mobileNetV2Size } from './quantize.bench.js';

const MODELS_DIR = fileURLToPath(new URL('../../shared/models/', import.meta.url));
const INT8_MODELS = [
  'mobilenet_v1_0.25_128_quant',
  'mobilenet_edgetpu_0.75_224_post_training_quant',
  'deeplabv3_mnv2_dm05_pascal_quant',
];
const FLOAT_MODELS: [string, () => IrModel][] = [
  ['float_mobilenet_v1_0.25_128', () => mobileNetV1Float(0.25, 128)],
  ['float_mobilenet_v2_1.0_224', () => mobileNetV2Size().model],
];
const REPEAT = Number(process.env['KILN_BENCH_REPEAT'] ?? 5);

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

interface Case {
  model: string;
  kind: 'int8' | 'float';
  load: () => { ir: IrModel; bytes: Uint8Array } | null;
}

const cases: Case[] = [
  ...INT8_MODELS.map((model): Case => ({
    model,
    kind: 'int8',
    load: () => {
      let bytes: Uint8Array;
      try {
        bytes = new Uint8Array(readFileSync(`${MODELS_DIR}${model}.tflite`));
      } catch {
        return null;
      }
      return { ir: fromTflite(readTflite(bytes)), bytes };
    },
  })),
  ...FLOAT_MODELS.map(([model, build]): Case => ({
    model,
    kind: 'float',
    load: () => {
      const ir = build();
      return { ir, bytes: writeTflite(toTflite(ir)) };
    },
  })),
];

async function measure(c: Case): Promise<Record<string, unknown>> {
  const loaded = c.load();
  if (!loaded) return { model: c.model, kind: c.kind, skipped: 'model file not found' };
  const interp = new Interpreter(loaded.ir);
  const inputs = randomInputs(interp.inputs, 1);
  const rt = await TfliteRuntime.load(loaded.bytes, { threads: 1 });
  try {
    const raw = inputs.map((a) => bytesOf(a));
    interp.run(inputs);
    await rt.run(raw);
    const kiln: number[] = [];
    const tflite: number[] = [];
    const invoke: number[] = [];
    const kilnCpu: number[] = [];
    const invokeCpu: number[] = [];
    for (let i = 0; i < REPEAT; i++) {
      const c0 = process.cpuUsage();
      let t0 = performance.now();
      interp.run(inputs);
      kiln.push(performance.now() - t0);
      const c1 = process.cpuUsage(c0);
      kilnCpu.push((c1.user + c1.system) / 1000);
      t0 = performance.now();
      await rt.run(raw);
      tflite.push(performance.now() - t0);
      invoke.push(rt.lastInvokeMs ?? NaN);
      invokeCpu.push(rt.lastInvokeCpuMs ?? NaN);
    }
    const byKernel = new Map<string, number>();
    for (const t of interp.run(inputs, { timings: true }).timings!) {
      const key = `${t.type} [${t.kernel}]`;
      byKernel.set(key, (byKernel.get(key) ?? 0) + t.ms);
    }
    const kMs = median(kiln);
    const wMs = median(tflite);
    const iMs = median(invoke);
    const kCpu = median(kilnCpu);
    const iCpu = median(invokeCpu);
    return {
      model: c.model,
      kind: c.kind,
      kilnCpuMs: +kCpu.toFixed(2),
      tfliteCpuMs: +iCpu.toFixed(2),
      ratio: +(iCpu / kCpu).toFixed(3),
      kilnMs: +kMs.toFixed(2),
      tfliteMs: +iMs.toFixed(2),
      tfliteWallMs: +wMs.toFixed(2),
      ratioInvokeWall: +(iMs / kMs).toFixed(3),
      ratioWall: +(wMs / kMs).toFixed(3),
      kilnMsByKernel: Object.fromEntries([...byKernel].sort((a, b) => b[1] - a[1]).map(([k, v]) => [k, +v.toFixed(2)])),
      repeat: REPEAT,
    };
  } finally {
    rt.close();
  }
}

export async function run(): Promise<Record<string, unknown>> {
  const models: Record<string, unknown>[] = [];
  for (const c of cases) models.push(await measure(c));
  const figures: Record<string, Figure> = {};
  for (const m of models) {
    if (typeof m['ratio'] === 'number')
      figures[`${m['model']}`] = {
        ratio: m['ratio'],
        better: 'higher',
        of: `TFLite Invoke CPU ms ÷ Kiln run CPU ms, ${m['kind']}, median of ${REPEAT}`,
      };
  }
  const summary = models
    .map((m) =>
      m['skipped']
        ? `  ${m['model']}: skipped (${m['skipped']})`
        : `  ${m['model']} (${m['kind']}): CPU Kiln ${m['kilnCpuMs']} ms, TFLite ${m['tfliteCpuMs']} ms, ratio ${m['ratio']}; wall Kiln ${m['kilnMs']} ms, TFLite ${m['tfliteMs']} ms (${m['tfliteWallMs']} with IPC), ratios ${m['ratioInvokeWall']} (${m['ratioWall']})`,
    )
    .join('\n');
  return {
    models,
    figures,
    summary: `interpreter (TFLite ÷ Kiln, alternating, medians of ${REPEAT}):\n${summary}`,
  };
}
