/**
 * Upload → completion on the local stack (official Pub/Sub and Firestore emulators, Kiln's storage emulator, every
 * function from the installed deploy bundle, as `npm start` runs them) for a 4M-parameter CNN with 64 calibration and
 * 1,000 validation images, with the time per stage split into queue wait and run (shared/pipeline/stage-split.ts).
 * References in the same run: `kiln build` of the same folder in this process (the work itself), and upload →
 * completion of a tiny model without data on the same stack (the pipeline's fixed cost).
 */
import { randomConstants } from './random-weights.js';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import sharp from 'sharp';
import { openLocalSession } from '../emulators/local-stack/session.js';
import { ModelBuilder } from '../shared/toolchain/ir/builder.js';
import { toTfliteBytes } from '../shared/toolchain/loaders/convert.js';
import { buildInProcess } from '../shared/pipeline/build-in-process.js';
import type { BuildResult } from '../shared/pipeline/build-result.js';
import { STAGE_CORES } from '../shared/pipeline/cores/index.js';
import { readLocalModel } from '../shared/pipeline/local-model.js';
import { stageSplit, type StageSplit } from '../shared/pipeline/stage-split.js';
import { stageTimings } from '../shared/pipeline/build-state.js';
import { tinyCnnTflite } from '../shared/toolchain/samples/tiny-cnn.js';
import { rng } from '../shared/common/rng.js';

const SIZE = 32;
const CLASSES = 10;
const CALIBRATION = 64;
const VALIDATION = 1000;
const GOAL_MS = 15_000;

/** 32×32×3 → conv 32 → conv 64 /2 → conv 128 /2 → FC 8192→480 → FC 480→10 → softmax: about 4.0M parameters. */
export function fourMillionCnn(): { tflite: Uint8Array; params: number } {
  const b = new ModelBuilder();
  const { weights: w, bias, params } = randomConstants(b, 4);
  let x = b.input('image', [1, SIZE, SIZE, 3]);
  x = b.conv2d(x, w('c1/w', [32, 3, 3, 3], 27), bias('c1/b', 32), { activation: 'RELU' });
  x = b.conv2d(x, w('c2/w', [64, 3, 3, 32], 288), bias('c2/b', 64), { stride: 2, activation: 'RELU' });
  x = b.conv2d(x, w('c3/w', [128, 3, 3, 64], 576), bias('c3/b', 128), { stride: 2, activation: 'RELU' });
  x = b.reshape(x, [1, 8 * 8 * 128]);
  x = b.fullyConnected(x, w('fc1/w', [480, 8192], 8192), bias('fc1/b', 480), { activation: 'RELU' });
  const logits = b.fullyConnected(x, w('fc2/w', [CLASSES, 480], 480), bias('fc2/b', CLASSES));
  b.output(b.softmax(logits));
  return { tflite: toTfliteBytes(b.build('4M-parameter bench CNN')), params: params() };
}

/** A 32×32 RGB PNG: a class-dependent stripe pattern plus noise. */
async function image(cls: number, r: () => number): Promise<Buffer> {
  const px = Buffer.alloc(SIZE * SIZE * 3);
  for (let y = 0; y < SIZE; y++)
    for (let x = 0; x < SIZE; x++)
      for (let c = 0; c < 3; c++)
        px[(y * SIZE + x) * 3 + c] = Math.round(
          127 + 100 * Math.sin(((x * (cls + 1) + y * (c + 1)) / SIZE) * Math.PI) + 27 * (r() * 2 - 1),
        );
  return sharp(px, { raw: { width: SIZE, height: SIZE, channels: 3 } })
    .png()
    .toBuffer();
}

/** The upload folder: model.tflite, calibration/*.png, validation/<class>/*.png, kiln.json. */
async function writeUpload(dir: string, tflite: Uint8Array): Promise<void> {
  const r = rng(7);
  await mkdir(join(dir, 'calibration'), { recursive: true });
  await writeFile(join(dir, 'model.tflite'), tflite);
  for (let i = 0; i < CALIBRATION; i++)
    await writeFile(join(dir, 'calibration', `${String(i).padStart(3, '0')}.png`), await image(i % CLASSES, r));
  for (let i = 0; i < VALIDATION; i++) {
    const cls = `class${i % CLASSES}`;
    await mkdir(join(dir, 'validation', cls), { recursive: true });
    await writeFile(join(dir, 'validation', cls, `${String(i).padStart(4, '0')}.png`), await image(i % CLASSES, r));
  }
  const config = { quantize: { samples: CALIBRATION, calibration: { normalization: { scale: 1 / 255, offset: 0 } } } };
  await writeFile(join(dir, 'kiln.json'), JSON.stringify(config));
}

const s1 = (ms: number): string => `${(ms / 1000).toFixed(1)} s`;

function splitLine(split: Record<string, StageSplit>): string {
  return Object.entries(split)
    .map(([k, v]) => `${k} ${s1(v.queueMs)}+${s1(v.runMs)}`)
    .join(', ');
}

export async function run(): Promise<Record<string, unknown>> {
  const tmp = await mkdtemp(join(tmpdir(), 'kiln-build-bench-'));
  const { tflite, params } = fourMillionCnn();
  const folder = join(tmp, 'bench4m');
  await writeUpload(folder, tflite);
  const tiny = join(tmp, 'tiny.tflite');
  await writeFile(tiny, tinyCnnTflite(3));
  const load = loadavg()[0];

  // Reference 1: the same build in this process (no cloud): what the stages' work costs.
  const local = await readLocalModel(folder);
  let t = performance.now();
  const inProcess = await buildInProcess(local, { cores: STAGE_CORES, maxFanout: 8 });
  const inProcessMs = performance.now() - t;
  if (inProcess.record.status !== 'succeeded')
    throw new Error(`the in-process build ${inProcess.record.status}: ${JSON.stringify(inProcess.record.error)}`);

  const session = await openLocalSession({ progress: (line) => process.stdout.write(`  ${line}\n`) });
  try {
    // Warm-up (first delivery to each function), then reference 2: a tiny model without data.
    await session.build(await readLocalModel(tiny), { as: 'warmup.tflite', timeoutMs: 300_000 });
    t = performance.now();
    const noop = await session.build(await readLocalModel(tiny), { as: 'noop.tflite', timeoutMs: 300_000 });
    const noopMs = performance.now() - t;

    t = performance.now();
    const started = new Date();
    const big: BuildResult = await session.build(local, { timeoutMs: 900_000 });
    const stackMs = performance.now() - t;
    if (big.status !== 'succeeded') throw new Error(`the stack build failed: ${JSON.stringify(big.error)}`);
    const split = big.stageSplit ?? {};
    const stagesMs = Object.values(split).reduce((a, v) => a + v.queueMs + v.runMs, 0);
    const verify = big.summary['verify'] as { accuracy?: { samples?: number } } | undefined;
    const result = {
      cpus: availableParallelism(),
      load1m: load,
      model: { params, calibrationImages: CALIBRATION, validationImages: VALIDATION },
      uploadToCompletionMs: Math.round(stackMs),
      goalMs: GOAL_MS,
      withinGoal: stackMs <= GOAL_MS,
      verifiedSamples: verify?.accuracy?.samples ?? null,
      /** Upload (client) and ingest until the build record exists, then each stage, then the completion event. */
      split: {
        uploadAndIngestMs: Math.round(stackMs - stagesMs - 0),
        stages: split,
      },
      references: {
        inProcessBuildMs: Math.round(inProcessMs),
        inProcessStageMs: stageTimings(inProcess.record),
        inProcessSplit: stageSplit(inProcess.record),
        noopUploadToCompletionMs: Math.round(noopMs),
        noopSplit: noop.stageSplit ?? {},
      },
      ratios: {
        stackOverInProcess: +(stackMs / inProcessMs).toFixed(2),
        stackOverNoop: +(stackMs / noopMs).toFixed(2),
      },
      startedAt: started.toISOString(),
    };
    return {
      ...result,
      summary:
        `build: 4.0M params, ${CALIBRATION} calibration + ${VALIDATION} validation images: upload → completion ${s1(stackMs)} ` +
        `(goal ${s1(GOAL_MS)}, ${availableParallelism()} CPUs, load ${load.toFixed(1)}); ${(stackMs / inProcessMs).toFixed(2)}× kiln build in-process ` +
        `(${s1(inProcessMs)}), ${(stackMs / noopMs).toFixed(2)}× a tiny upload (${s1(noopMs)}); queue+run: ${splitLine(split)}`,
    };
  } finally {
    await session.stop();
    await rm(tmp, { recursive: true, force: true });
  }
}
