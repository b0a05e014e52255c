import { KilnError } from '../common/errors.js';
import { dtypeBytes } from '../toolchain/ir/dtype.js';
import { fromTflite } from '../toolchain/ir/from-tflite.js';
import type { IrModel } from '../toolchain/ir/model.js';
import { readTflite } from '../toolchain/tflite/reader.js';
import { FLOAT_MODEL, UPLOAD_PREFIX } from './artifacts.js';
import type { PipelineConfig } from './config.js';
import type { StageCore, StageCores, StageInput } from './core.js';
import { deadlineMs, FUNCTION_SETTINGS, formatDuration, type FunctionName } from './stage-settings.js';

/**
 * What one build may use, from the KILN_* environment (config.ts): upload size, model parameters, calibration images
 * and wall time per stage. `withLimits` wraps the stage cores so the same limits hold in the Cloud Functions and in
 * `kiln build`; a limit that is hit fails the build with a bad-input error naming the limit and its variable.
 */
export interface BuildLimits {
  maxUploadBytes: number;
  maxParameters: number;
  maxCalibrationImages: number;
  /** KILN_STAGE_TIMEOUT_MS when set: caps every stage's own deadline (stage-settings.ts). */
  stageTimeoutMs: number | undefined;
}

export function limitsOf(config: PipelineConfig): BuildLimits {
  const { maxUploadBytes, maxParameters, maxCalibrationImages, stageTimeoutMs } = config.limits;
  return { maxUploadBytes, maxParameters, maxCalibrationImages, stageTimeoutMs };
}

/** Files in an upload that are calibration data (images or .npy arrays). */
export const CALIBRATION_FILE = /\.(png|jpe?g|bmp|gif|webp|tiff?|npy)$/i;

export function exceeded(what: string, value: number, limit: number, envVar: string): KilnError {
  return new KilnError('E_BAD_ARGUMENT', `${what} is ${value}; the limit is ${limit} (${envVar})`, {
    hint: `Make the input smaller or raise ${envVar}`,
  });
}

/** The error for an upload over KILN_MAX_UPLOAD_BYTES (ingest checks it before reading, convert again in-process). */
export function uploadTooLarge(bytes: number, limit: number): KilnError {
  return exceeded('the upload size in bytes', bytes, limit, 'KILN_MAX_UPLOAD_BYTES');
}

/** Upload bytes and calibration files, checked before convert reads anything. */
export function checkUpload(artifacts: ReadonlyMap<string, Uint8Array>, limits: BuildLimits): void {
  let bytes = 0;
  let images = 0;
  for (const [name, data] of artifacts) {
    if (!name.startsWith(UPLOAD_PREFIX)) continue;
    bytes += data.byteLength;
    if (CALIBRATION_FILE.test(name)) images += 1;
  }
  if (bytes > limits.maxUploadBytes) throw uploadTooLarge(bytes, limits.maxUploadBytes);
  if (images > limits.maxCalibrationImages)
    throw exceeded(
      'the number of calibration images in the upload',
      images,
      limits.maxCalibrationImages,
      'KILN_MAX_CALIBRATION_IMAGES',
    );
}

/** Calibration samples asked for in kiln.json (`quantize.samples`). */
export function checkCalibrationSamples(config: StageInput['config'], limits: BuildLimits): void {
  const samples = (config.quantize as { samples?: unknown }).samples;
  if (typeof samples === 'number' && samples > limits.maxCalibrationImages)
    throw exceeded(
      'quantize.samples in kiln.json',
      samples,
      limits.maxCalibrationImages,
      'KILN_MAX_CALIBRATION_IMAGES',
    );
}

/** Elements of every constant tensor (weights, biases) of a .tflite model. */
export function countParameters(model: IrModel): number {
  let n = 0;
  for (const g of model.subgraphs)
    for (const t of g.tensors) if (t.data && !t.isVariable) n += Math.floor(t.data.byteLength / dtypeBytes(t.dtype));
  return n;
}

export function checkParameters(model: IrModel, limits: BuildLimits): number {
  const n = countParameters(model);
  if (n > limits.maxParameters)
    throw exceeded('the number of model parameters', n, limits.maxParameters, 'KILN_MAX_PARAMETERS');
  return n;
}

/**
 * Runs a core under its stage's deadline (stage-settings.ts, capped by KILN_STAGE_TIMEOUT_MS), which is below the
 * platform's request timeout so that Kiln, not the platform, ends a unit that runs too long and says why. At the
 * deadline the core's `signal` aborts: a core run in a unit worker (KILN_UNIT_ISOLATION=worker, isolate.ts) is
 * terminated, synchronous work included; in-process, asynchronous work is cut off and a synchronous stretch that
 * returns after the deadline fails too.
 */
export function withStageTimeout(stage: FunctionName, core: StageCore, cap: () => number | undefined): StageCore {
  return async (input) => {
    const capped = cap();
    const limit = deadlineMs(stage, capped);
    const t0 = Date.now();
    const tooSlow = () => deadlinePassed(stage, limit, limit === capped);
    const deadline = new AbortController();
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        const e = tooSlow();
        deadline.abort(e);
        reject(e);
      }, limit);
    });
    try {
      const out = await Promise.race([core({ ...input, signal: deadline.signal }), timeout]);
      if (Date.now() - t0 > limit) throw tooSlow();
      return out;
    } finally {
      clearTimeout(timer);
    }
  };
}

/** The failure of a unit that ran past its deadline: names the stage, the deadline and what to change. */
export function deadlinePassed(stage: FunctionName, limitMs: number, fromEnv: boolean): KilnError {
  const source = fromEnv ? ' (KILN_STAGE_TIMEOUT_MS)' : '';
  const remedy = FUNCTION_SETTINGS[stage].remedy;
  return new KilnError('E_BAD_ARGUMENT', `${stage} ran past its ${formatDuration(limitMs)} deadline${source}`, {
    hint: `${remedy[0]!.toUpperCase()}${remedy.slice(1)}, or raise KILN_STAGE_TIMEOUT_MS where the platform allows`,
  });
}

/** Per-stage checks before and after the core, by stage. */
const CHECKS: Record<
  string,
  { before?: (i: StageInput, l: BuildLimits) => void; after?: (a: Record<string, Uint8Array>, l: BuildLimits) => void }
> = {
  convert: {
    before: (i, l) => checkUpload(i.artifacts, l),
    after: (a, l) => {
      const float = a[FLOAT_MODEL];
      if (!float) return;
      const model = fromTflite(readTflite(float));
      checkParameters(model, l);
    },
  },
  quantize: { before: (i, l) => checkCalibrationSamples(i.config, l) },
};

/** The cores with the limits applied; `limits` is read on every call (the environment may change between builds). */
export function withLimits(cores: StageCores, limits: () => BuildLimits): StageCores {
  const out: StageCores = {};
  for (const [stage, core] of Object.entries(cores) as [keyof StageCores, StageCore][]) {
    const checks = CHECKS[stage] ?? {};
    const checked: StageCore = async (input) => {
      const l = limits();
      checks.before?.(input, l);
      const result = await core(input);
      checks.after?.(result.artifacts, l);
      return result;
    };
    out[stage] = withStageTimeout(stage, checked, () => limits().stageTimeoutMs);
  }
  return out;
}
