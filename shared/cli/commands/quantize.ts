import { readFile, writeFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { Progress, progressWanted } from '../progress.js';
import { KilnError } from '../../common/errors.js';
import { fromTflite } from '../../toolchain/ir/from-tflite.js';
import { toTflite } from '../../toolchain/ir/to-tflite.js';
import { loadQuantizeConfig } from '../../toolchain/quantize/config.js';
import { loadCalibrationSet } from '../../toolchain/data/dataset.js';
import { quantizeModel, type QuantizeReport } from '../../toolchain/quantize/quantize-model.js';
import { RANGE_METHODS, type RangeMethod } from '../../toolchain/quantize/ranges.js';
import type { StatsFile } from '../../toolchain/quantize/stats.js';
import { readTflite } from '../../toolchain/tflite/reader.js';
import { writeTflite } from '../../toolchain/tflite/writer.js';
import { readInputFile } from '../io.js';

export interface QuantizeCommandOptions {
  output: string;
  calibration?: string;
  config?: string;
  io?: string;
  stats?: string;
  method?: string;
  samples?: string;
  json?: boolean;
  /** Calibration threads (default: one per available CPU). */
  threads?: string;
  /** Progress bar on stderr (default: when stderr is a terminal). */
  progress?: boolean;
}

function oneOf<T extends string>(what: string, v: string | undefined, allowed: readonly T[]): T | undefined {
  if (v === undefined) return undefined;
  if (!(allowed as readonly string[]).includes(v))
    throw new KilnError('E_BAD_ARGUMENT', `${what} must be one of ${allowed.join(', ')}, not "${v}"`);
  return v as T;
}

function positiveInt(what: string, v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1)
    throw new KilnError('E_BAD_ARGUMENT', `${what} must be a positive integer, not "${v}"`);
  return n;
}

/**
 * `kiln quantize`: float .tflite → int8 .tflite. With --stats FILE: re-applies FILE when it exists (no calibration),
 * otherwise writes the statistics gathered to FILE.
 */
export async function runQuantize(
  file: string,
  opts: QuantizeCommandOptions,
): Promise<{ report: QuantizeReport; output: string; stats?: string; bytes: number }> {
  const cfg = await loadQuantizeConfig(opts.config);
  const method: RangeMethod = oneOf('--method', opts.method, RANGE_METHODS) ?? cfg.method;
  const io = oneOf('--io', opts.io, ['uint8', 'int8'] as const) ?? cfg.io;
  const max = positiveInt('--samples', opts.samples) ?? cfg.samples;
  const threads = positiveInt('--threads', opts.threads);
  const model = fromTflite(readTflite(await readInputFile(file)));

  let stats: StatsFile | undefined;
  let writeStats: string | undefined;
  if (opts.stats !== undefined) {
    const text = await readFile(opts.stats, 'utf8').catch(() => null);
    if (text === null) writeStats = opts.stats;
    else {
      try {
        stats = JSON.parse(text) as StatsFile;
      } catch (e) {
        throw new KilnError('E_BAD_ARGUMENT', `${opts.stats} is not valid JSON: ${(e as Error).message}`);
      }
    }
  }

  const bar = new Progress('quantize', opts.progress ?? progressWanted());
  const progress = (p: string, done: number, total: number): void => bar.update(p, done, total);
  try {
    const inputs = model.graph.inputs.map((i) => model.graph.tensor(i));
    const set = stats
      ? undefined
      : await loadCalibrationSet(opts.calibration, inputs, cfg.calibration, max, (d, n) => progress('loading', d, n));
    const result = await quantizeModel(model, {
      ...(set ? { samples: set.samples, sampleSource: set.source, sampleWarnings: set.warnings } : {}),
      ...(stats ? { stats } : {}),
      method,
      percentile: cfg.percentile,
      io,
      allowFloatFallback: cfg.allowFloatFallback,
      debugSamples: cfg.debugSamples,
      calibration: cfg.calibration,
      ...(threads !== undefined ? { threads } : {}),
      onProgress: progress,
    });
    const bytes = result.model === model ? await readInputFile(file) : writeTflite(toTflite(result.model));
    await writeFile(opts.output, bytes);
    if (writeStats && result.stats) await writeFile(writeStats, `${JSON.stringify(result.stats)}\n`);
    return {
      report: result.report,
      output: opts.output,
      ...(writeStats && result.stats ? { stats: writeStats } : {}),
      bytes: bytes.length,
    };
  } finally {
    bar.stop();
  }
}

export function formatQuantize(file: string, r: Awaited<ReturnType<typeof runQuantize>>): string {
  const rep = r.report;
  const lines: string[] = [];
  for (const w of rep.warnings) lines.push(`WARNING: ${w}`);
  if (rep.status === 'passthrough') lines.push(`${file}: already quantized, written unchanged to ${r.output}`);
  else {
    lines.push(
      `${file} → ${r.output} (${r.bytes} bytes): int8, ${rep.io} I/O, ${rep.ops.total} ops, method ${rep.method}, ` +
        `${rep.calibration.fromStats ? 'ranges from a stats file' : `${rep.calibration.samples} ${rep.calibration.source} samples`}`,
    );
    if (r.stats) lines.push(`statistics written to ${r.stats}`);
    if (rep.worstLayers.length) {
      lines.push(`worst layers (float vs int8 over ${rep.debugSamples} samples):`);
      for (const l of rep.worstLayers)
        lines.push(`  ${l.snrDb.toFixed(1).padStart(6)} dB  max|err| ${l.maxAbs.toPrecision(3)}  ${l.op}  ${l.tensor}`);
    }
  }
  return `${lines.join('\n')}\n`;
}

export function register(program: Command): void {
  program
    .command('quantize')
    .description('calibrate a float .tflite model and quantize it to full int8 for the Edge TPU')
    .argument('<model>', 'a float .tflite file')
    .requiredOption('-o, --output <file>', 'where to write the quantized .tflite')
    .option('--calibration <dir>', 'folder of calibration images (JPEG, PNG, BMP, …) or .npy samples')
    .option('--config <file>', 'build config (kiln.json), section "quantize"')
    .option('--io <type>', 'model input/output type: uint8 (default) or int8')
    .option('--stats <file>', 're-apply this stats.json if it exists, otherwise write the calibration statistics to it')
    .option('--method <method>', `range method: ${RANGE_METHODS.join(' | ')}`)
    .option('--samples <n>', 'use at most n calibration samples')
    .option('--threads <n>', 'calibration threads (default: one per available CPU); the result is the same for any n')
    .option('--json', 'print the report as JSON')
    .action(async (file: string, opts: QuantizeCommandOptions) => {
      const result = await runQuantize(file, opts);
      process.stdout.write(
        opts.json
          ? `${JSON.stringify({ output: result.output, stats: result.stats ?? null, bytes: result.bytes, ...result.report }, null, 2)}\n`
          : formatQuantize(file, result),
      );
    });
}
