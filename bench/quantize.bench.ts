import { MOBILENET_V2_ROWS } from '../shared/toolchain/verify/architectures/mobilenet-v2.js';
import { randomConstants } from './random-weights.js';
import { availableParallelism, loadavg } from 'node:os';
import { Interpreter } from '../shared/toolchain/interpreter/index.js';
import { ModelBuilder } from '../shared/toolchain/ir/builder.js';
import type { IrModel } from '../shared/toolchain/ir/model.js';
import {
  openInterpreterRunner,
  openRunner,
  OracleCapture,
  type CaptureRunner,
  type TensorValue,
} from '../shared/toolchain/quantize/capture.js';
import { calibrateWithWorkers, defaultCalibrationThreads } from '../shared/toolchain/quantize/calibration-pool.js';
import { CalibrationConfigSchema } from '../shared/toolchain/data/input-config.js';
import { loadCalibrationSet } from '../shared/toolchain/data/dataset.js';
import { runPasses } from '../shared/toolchain/quantize/driver.js';
import { calibratedTensors, collectStats, statsById } from '../shared/toolchain/quantize/stats.js';
import type { Figure } from './history.js';

/** MobileNetV2 1.0 / 224 topology (inverted residuals, RELU6, 1000 classes) with He-initialized random weights. */
export function mobileNetV2Size(): { model: IrModel; params: number } {
  const b = new ModelBuilder();
  const { weights, bias, params } = randomConstants(b, 2024);
  let x = b.input('image', [1, 224, 224, 3]);
  let c = 32;
  x = b.conv2d(x, weights('stem/w', [32, 3, 3, 3], 27), bias('stem/b', 32), { stride: 2, activation: 'RELU6' });
  let k = 0;
  for (const [t, out, n, s] of MOBILENET_V2_ROWS)
    for (let i = 0; i < n; i++) {
      const stride = i === 0 ? s : 1;
      const hidden = c * t;
      let h = x;
      if (t !== 1)
        h = b.conv2d(h, weights(`b${k}/expand/w`, [hidden, 1, 1, c], c), bias(`b${k}/expand/b`, hidden), {
          activation: 'RELU6',
        });
      h = b.depthwiseConv2d(h, weights(`b${k}/dw/w`, [1, 3, 3, hidden], 9), bias(`b${k}/dw/b`, hidden), {
        stride,
        activation: 'RELU6',
      });
      h = b.conv2d(h, weights(`b${k}/project/w`, [out, 1, 1, hidden], hidden * 4), bias(`b${k}/project/b`, out));
      x = stride === 1 && c === out ? b.binary('ADD', x, h) : h;
      c = out;
      k++;
    }
  x = b.conv2d(x, weights('head/w', [1280, 1, 1, c], c), bias('head/b', 1280), { activation: 'RELU6' });
  x = b.pool('AVERAGE_POOL_2D', x, { filter: 7 });
  x = b.reshape(x, [1, 1280]);
  const logits = b.fullyConnected(x, weights('fc/w', [1000, 1280], 1280), bias('fc/b', 1000));
  b.output(b.softmax(logits));
  return { model: b.build('MobileNetV2-size benchmark model'), params: params() };
}

const cpuMs = (): number => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

/** ms per image of `f` over the samples: wall time and this process's CPU time. */
async function perImage(
  n: number,
  f: (i: number) => Promise<unknown> | unknown,
): Promise<{ wall: number; cpu: number }> {
  const c0 = cpuMs();
  const t0 = performance.now();
  for (let i = 0; i < n; i++) await f(i);
  return { wall: +((performance.now() - t0) / n).toFixed(1), cpu: +((cpuMs() - c0) / n).toFixed(1) };
}

const load1m = (): number => +loadavg()[0]!.toFixed(2);

/**
 * Calibration throughput: images per second through the float model with every tensor's min/max + histogram, as
 * quantizeModel does it — on the thread pool (one thread per available CPU, worker start-up included), and in one
 * thread — then where the time goes: inference with capture on each executor (the oracle's includes the IPC copy of
 * every activation) and the statistics alone, on the same captured tensors. The machine's load average is recorded
 * with the figures: on a shared machine the pool gets what the other processes leave. KILN_BENCH_QUANT_IMAGES (16)
 * images for one thread and the breakdown, KILN_BENCH_QUANT_POOL_IMAGES (64) for the pool.
 */
export async function run(): Promise<Record<string, unknown>> {
  const loadBefore = load1m();
  const { model, params } = mobileNetV2Size();
  const g = model.graph;
  const ids = calibratedTensors(g);
  const inputs = g.inputs.map((i) => g.tensor(i));
  const images = Number(process.env['KILN_BENCH_QUANT_IMAGES'] ?? 16);
  const poolImages = Number(process.env['KILN_BENCH_QUANT_POOL_IMAGES'] ?? 64);
  const set = await loadCalibrationSet(undefined, inputs, CalibrationConfigSchema.parse({}), images);
  const n = set.samples.length;

  // The pool: this thread + workers, each with its own interpreter (their start-up is in the time).
  const threads = defaultCalibrationThreads();
  // Synthetic sets hold at most 64 distinct images: more pool images cycle through them.
  const poolSet = await loadCalibrationSet(undefined, inputs, CalibrationConfigSchema.parse({}), poolImages);
  const poolSamples = Array.from({ length: poolImages }, (_, i) => poolSet.samples[i % poolSet.samples.length]!);
  const pn = poolSamples.length;
  const poolRunner = await openRunner(model);
  const executor = poolRunner instanceof OracleCapture ? 'TFLite runtime oracle' : "Kiln's interpreter";
  const poolInterpreter = poolRunner instanceof Interpreter ? poolRunner : null;
  const done: number[] = [];
  const p0 = performance.now();
  const pooled = poolInterpreter
    ? await calibrateWithWorkers(model, poolInterpreter, poolSamples, poolSet.source, {
        threads,
        onSample: () => done.push(performance.now()),
      })
    : null;
  const poolMs = performance.now() - p0;
  poolRunner.close?.();
  const half = Math.floor(pn / 2);
  const steady = pn >= 4 ? ((pn - half) * 1000) / (done[pn - 1]! - done[half - 1]!) : NaN;

  // One thread, as before the pool (and as --threads 1 runs).
  const runner = await openRunner(model);
  let stats;
  const t0 = performance.now();
  try {
    stats = await collectStats(g, runner, set.samples, set.source);
  } finally {
    runner.close?.();
  }
  const calibrateMs = performance.now() - t0;
  // Breakdown on a few images: each executor with capture, then the statistics on captured tensors.
  const k = Math.min(n, 4);
  const interp = await openInterpreterRunner(model);
  const interpreterCapture = await perImage(k, (i) => interp.run(set.samples[i]!, { capture: true, views: true }));
  const captured: Map<number, TensorValue>[] = [];
  const interpreterCaptureCopies = await perImage(k, async (i) => {
    captured.push((await interp.run(set.samples[i]!, { capture: true })).tensors!);
  });
  const interpreterPlain = await perImage(k, (i) => interp.run(set.samples[i]!));
  const oracle = await OracleCapture.open(model);
  let oracleCapture;
  try {
    oracleCapture = await perImage(k, (i) => oracle.run(set.samples[i]!, { capture: true }));
  } finally {
    oracle.close();
  }
  const replay: CaptureRunner = {
    inputs: interp.inputs,
    outputs: interp.outputs,
    run: (_x, _o) => ({ outputs: [], tensors: captured[replayed++ % k]! }),
  };
  let replayed = 0;
  // Steady state: the captured images replayed 4 times (each tensor's histogram window is set by the first image).
  const replays = Array.from({ length: 4 * k }, () => set.samples[0]!);
  const statsOnly = await perImage(1, () => collectStats(g, replay, replays, 'bench'));
  const t1 = performance.now();
  runPasses(g, statsById(g, stats), { method: 'minmax', percentile: 99.99, io: 'uint8', allowFloatFallback: false });
  const passesMs = performance.now() - t1;

  const values = ids.reduce((s, id) => s + captured[0]!.get(id)!.data.length, 0);
  const ips = +((pn * 1000) / poolMs).toFixed(2);
  const sequentialIps = +((n * 1000) / calibrateMs).toFixed(2);
  const loadAfter = load1m();
  const seqMsPerImage = 1000 / sequentialIps;
  const figures: Record<string, Figure> = {
    calibrationVsInference: {
      ratio: +(seqMsPerImage / interpreterPlain.wall).toFixed(3),
      better: 'lower',
      of: 'one-thread calibration ms per image ÷ plain interpreter inference ms per image',
    },
    poolSpeedup: {
      ratio: +(ips / sequentialIps).toFixed(3),
      better: 'higher',
      of: `pool images/s ÷ one-thread images/s (${threads} threads)`,
    },
    oracleVsInterpreterCapture: {
      ratio: +(oracleCapture.wall / interpreterCapture.wall).toFixed(3),
      better: 'higher',
      of: 'oracle inference+capture ms ÷ interpreter inference+capture ms',
    },
  };
  return {
    figures,
    summary:
      `quantize: ${ips} calibration images/s on ${threads} threads (${pn} images, worker start-up included; ` +
      `${steady.toFixed(1)}/s over the second half), ${sequentialIps}/s on one thread (${executor}, ${ids.length} tensors ` +
      `with min/max + histogram, MobileNetV2 224 size); per image: statistics ${(statsOnly.cpu / (4 * k)).toFixed(0)} ms ` +
      `CPU, interpreter inference+capture ${interpreterCapture.cpu} ms CPU, oracle inference+capture ` +
      `${oracleCapture.wall} ms wall; load average ${loadBefore} → ${loadAfter}`,
    model: 'MobileNetV2 1.0/224 topology, IR builder, random weights',
    ops: g.ops.length,
    params,
    tensorsWithStats: ids.length,
    activationValuesPerImage: values,
    images: n,
    executor,
    calibrateSeconds: +(poolMs / 1000).toFixed(3),
    calibrationImagesPerSecond: ips,
    pool: {
      note: 'what quantizeModel does with an explicit thread count (--threads): this thread + threads − 1 workers; time from the interpreter being built, worker start-up included',
      threads,
      images: pn,
      samplesPerThread: pooled?.samplesPerThread ?? null,
      imagesPerSecondSecondHalf: +steady.toFixed(2),
    },
    sequentialSeconds: +(calibrateMs / 1000).toFixed(3),
    sequentialImagesPerSecond: sequentialIps,
    loadAverage1m: { before: loadBefore, after: loadAfter, cpus: availableParallelism() },
    quantizePassesMs: +passesMs.toFixed(1),
    breakdownMsPerImage: {
      note: 'wall and this process’s CPU time; the oracle runs in a child process, so its CPU is not in cpu',
      interpreterInference: interpreterPlain,
      interpreterInferenceWithCapture: interpreterCapture,
      interpreterInferenceWithCaptureCopies: interpreterCaptureCopies,
      oracleInferenceWithCaptureAndIpc: oracleCapture,
      statistics: { wall: +(statsOnly.wall / (4 * k)).toFixed(1), cpu: +(statsOnly.cpu / (4 * k)).toFixed(1) },
    },
  };
}
