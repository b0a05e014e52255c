import { KilnError } from '../../common/errors.js';
import type { IrModel } from '../ir/model.js';
import { Interpreter } from '../interpreter/index.js';
import { calibrateWithWorkers, defaultCalibrationThreads } from './calibration-pool.js';
import { openRunner, type CaptureRunner } from './capture.js';
import type { Sample } from '../data/dataset.js';
import { collectStats, type StatsFile } from './stats.js';

export interface CalibrateOptions {
  /**
   * Threads, this one included; 1 calibrates in this thread only. Default: one per available CPU, less the CPUs that
   * other calibrations in this process are using.
   */
  threads?: number;
  /** A given executor calibrates in this thread, whatever `threads` says. */
  openRunner?: (model: IrModel) => Promise<CaptureRunner>;
  onSample?: (done: number, total: number) => void;
}

/** A thread count from a user: a positive integer. */
export function checkThreads(threads: number, what = 'threads'): number {
  if (!Number.isInteger(threads) || threads < 1)
    throw new KilnError('E_BAD_ARGUMENT', `${what} must be a positive integer, not ${threads}`);
  return threads;
}

const isInterpreter = (r: CaptureRunner): boolean => r instanceof Interpreter;

/**
 * The calibration statistics of a float model over the samples: with Kiln's interpreter on `threads` threads (this one
 * and worker threads, calibration-pool.ts); in this thread with `options.openRunner`, with one thread or one sample,
 * and for a model the interpreter cannot run (the TFLite runtime oracle). The result is the same either way.
 */
export async function calibrate(
  model: IrModel,
  samples: Sample[],
  source: string,
  options: CalibrateOptions = {},
): Promise<StatsFile> {
  const threads = checkThreads(options.threads ?? defaultCalibrationThreads());
  const runner = await (options.openRunner ?? openRunner)(model);
  const pooled = !options.openRunner && isInterpreter(runner) && threads > 1 && samples.length > 1;
  try {
    if (pooled)
      return (
        await calibrateWithWorkers(model, runner, samples, source, {
          threads,
          shareCpus: options.threads === undefined,
          ...(options.onSample ? { onSample: options.onSample } : {}),
        })
      ).stats;
    return await collectStats(model.graph, runner, samples, source, options.onSample);
  } finally {
    runner.close?.();
  }
}
