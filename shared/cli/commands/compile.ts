import type { Command } from 'commander';
import { KilnError } from '../../common/errors.js';
import { compileFiles, type CompileFilesOptions } from '../../toolchain/edgetpu/artifacts.js';

/** Commander's option keys (it keeps the compiler's snake_case flag names as they are). */
export interface Flags {
  out_dir?: string;
  min_runtime_version?: string;
  enable_multiple_subgraphs?: boolean;
  num_segments?: string;
  intermediate_tensors?: string;
  search_delegate?: boolean;
  delegate_search_step?: string;
  show_operations?: boolean;
  timeout_sec?: string;
  predictOnly?: boolean;
  json?: boolean;
}

function int(flag: string, v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  if (!/^-?\d+$/.test(v))
    throw new KilnError('E_BAD_ARGUMENT', `${flag} needs an integer, got "${v}"`, { hint: `e.g. ${flag} 2` });
  return Number(v);
}

/** Flags → compile options (the compiler's own flag names and meanings). */
export function optionsFromFlags(f: Flags): CompileFilesOptions {
  const o: CompileFilesOptions = {};
  if (f.out_dir !== undefined) o.outDir = f.out_dir;
  const m = int('-m', f.min_runtime_version);
  if (m !== undefined) o.minRuntime = m;
  if (f.enable_multiple_subgraphs) o.multipleSubgraphs = true;
  const n = int('-n', f.num_segments);
  if (n !== undefined) o.numSegments = n;
  if (f.intermediate_tensors !== undefined)
    o.intermediateTensors = f.intermediate_tensors.split(',').filter((s) => s.length > 0);
  if (f.search_delegate) o.searchDelegate = true;
  const k = int('-k', f.delegate_search_step);
  if (k !== undefined) o.delegateSearchStep = k;
  if (f.show_operations) o.showOperations = true;
  const t = int('-t', f.timeout_sec);
  if (t !== undefined) o.timeoutSec = t;
  if (f.predictOnly) o.real = 'never';
  return o;
}

/** `kiln compile`: Edge TPU compile stage (Kiln's prediction, and the real edgetpu_compiler when installed). */
export function register(program: Command): void {
  program
    .command('compile')
    .description(
      'Compile int8 .tflite models for the Edge TPU: predicts what edgetpu_compiler 16 does (and runs it when installed), writes <name>_edgetpu.log and DIR/compile-report.json',
    )
    .argument('<models...>', 'quantized .tflite model(s); several are co-compiled')
    .option('-o, --out_dir <dir>', 'output directory (default: current directory)')
    .option(
      '-m, --min_runtime_version <n>',
      'lowest Edge TPU runtime version the output must run on (10–14, default 14)',
    )
    .option('-a, --enable_multiple_subgraphs', 'allow several Edge TPU subgraphs (experimental in the compiler)')
    .option('-n, --num_segments <n>', 'split into N pipeline segments (libcoral parameter-count rule)')
    .option('-i, --intermediate_tensors <names>', 'comma-separated tensors that end the Edge TPU part')
    .option('-d, --search_delegate', 'on failure, retry with a shorter Edge TPU part')
    .option('-k, --delegate_search_step <n>', 'ops to drop per -d retry (default 1)')
    .option('-s, --show_operations', 'print the operation table on the console')
    .option('-t, --timeout_sec <n>', 'compile timeout in seconds (default 180)')
    .option('--predict-only', 'do not run edgetpu_compiler even if it is installed')
    .option('--json', 'print compile-report.json instead of the console text')
    .action(async (models: string[], flags: Flags) => {
      const res = await compileFiles(models, optionsFromFlags(flags));
      process.stdout.write(flags.json ? `${JSON.stringify(res.report, null, 2)}\n` : res.console);
      for (const d of res.defects) {
        process.stderr.write(
          `kiln: prediction defect: ${d.model} ${d.field}: Kiln predicted ${JSON.stringify(d.predicted)}, edgetpu_compiler gave ${JSON.stringify(d.actual)}\n`,
        );
      }
      if (res.failure) throw new KilnError(res.failure.code, res.failure.message, { hint: res.failure.hint });
    });
}
