import { createHash } from 'node:crypto';
import type { Command } from 'commander';
import { KilnError } from '../../common/errors.js';
import { bytesOf, type AnyTypedArray } from '../../toolchain/ir/dtype.js';
import { fromTflite } from '../../toolchain/ir/from-tflite.js';
import { Interpreter } from '../../toolchain/interpreter/index.js';
import { randomInputs } from '../../toolchain/interpreter/random-inputs.js';
import { readNpy } from '../../toolchain/npy/index.js';
import { readTflite } from '../../toolchain/tflite/reader.js';
import { readInputFile } from '../io.js';
import { formatProfile, median, profileOf, type OpTiming, type RunProfile } from './run-profile.js';

export interface RunOutput {
  name: string;
  dtype: string;
  shape: number[];
  quantization: { scale: number[]; zeroPoint: number[]; axis: number } | null;
  sha256: string;
  values: number[];
}

export interface RunReport {
  outputs: RunOutput[];
  /** Median over `repeat` timed runs after one warm-up. */
  msPerInference: number;
  /** With `profile`: where the time goes. */
  profile?: RunProfile;
}

export interface RunOptions {
  inputs?: string[];
  seed?: number;
  repeat?: number;
  /** Time every op in each timed run and report medians per op and per kernel. */
  profile?: boolean;
}

/** `kiln run`'s core: loads the model, reads or generates its inputs, runs the interpreter and reports the outputs. */
export async function runModel(file: string, opts: RunOptions = {}): Promise<RunReport> {
  const model = fromTflite(readTflite(await readInputFile(file)));
  const interp = new Interpreter(model);
  const given = opts.inputs ?? [];
  let inputs: AnyTypedArray[];
  if (given.length > 0) {
    if (given.length !== interp.inputs.length) {
      throw new KilnError(
        'E_BAD_ARGUMENT',
        `the model takes ${interp.inputs.length} input(s), ${given.length} --input file(s) given`,
        {
          hint: `Pass one .npy per input, in order: ${interp.inputs.map((t) => t.name).join(', ')}`,
        },
      );
    }
    inputs = await Promise.all(
      given.map(async (f, i) => {
        const a = readNpy(await readInputFile(f), f);
        const t = interp.inputs[i]!;
        const n = t.shape.reduce((x, y) => x * y, 1);
        if (a.dtype !== t.dtype || a.data.length !== n) {
          throw new KilnError(
            'E_BAD_ARGUMENT',
            `${f}: input ${t.name} needs ${t.dtype}[${t.shape.join(',')}], the file holds ${a.dtype}[${a.shape.join(',')}]`,
            {
              hint: 'Save the array with the dtype and shape of the model input',
            },
          );
        }
        return a.data;
      }),
    );
  } else {
    inputs = randomInputs(interp.inputs, opts.seed ?? 0);
  }
  const repeat = opts.repeat ?? 1;
  if (!Number.isInteger(repeat) || repeat < 1)
    throw new KilnError('E_BAD_ARGUMENT', `--repeat must be a positive integer, not ${repeat}`);
  let result = interp.run(inputs);
  const times: number[] = [];
  const runs: OpTiming[][] = [];
  for (let i = 0; i < repeat; i++) {
    const t0 = performance.now();
    result = interp.run(inputs, { timings: opts.profile === true });
    times.push(performance.now() - t0);
    if (result.timings) runs.push(result.timings);
  }
  return {
    ...(opts.profile ? { profile: profileOf(model.subgraphs[0]!, runs) } : {}),
    outputs: result.outputs.map((o, i) => {
      const t = interp.outputs[i]!;
      return {
        name: t.name,
        dtype: o.dtype,
        shape: o.shape,
        quantization: t.quant ? { scale: t.quant.scale, zeroPoint: t.quant.zeroPoint, axis: t.quant.axis } : null,
        sha256: createHash('sha256').update(bytesOf(o.data)).digest('hex'),
        values: Array.from(o.data as ArrayLike<number | bigint>, (v) => Number(v)),
      };
    }),
    msPerInference: median(times),
  };
}

export function formatRun(file: string, r: RunReport): string {
  const lines = [`${file}: ${r.msPerInference.toFixed(2)} ms per inference`];
  if (r.profile) lines.push(formatProfile(r.profile));
  for (const o of r.outputs) {
    const head = o.values.slice(0, 8).join(', ');
    lines.push(
      `  ${o.name}  ${o.dtype}[${o.shape.join(',')}]  sha256 ${o.sha256.slice(0, 16)}…  [${head}${o.values.length > 8 ? ', …' : ''}]`,
    );
  }
  return `${lines.join('\n')}\n`;
}

const positiveInt =
  (what: string) =>
  (v: string): number => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < 0)
      throw new KilnError('E_BAD_ARGUMENT', `${what} must be a non-negative integer, not ${v}`);
    return n;
  };

export function register(program: Command): void {
  program
    .command('run')
    .description("run a .tflite model with Kiln's interpreter (TFLite's integer arithmetic, bit-exact)")
    .argument('<model>', 'a .tflite file')
    .option('--input <file...>', 'one .npy file per model input, in input order')
    .option('--seed <n>', 'seed of the random inputs used when no --input is given', positiveInt('--seed'), 0)
    .option('--repeat <n>', 'timed runs after one warm-up (the median is reported)', positiveInt('--repeat'), 1)
    .option('--profile', 'time every op: median ms per op and per kernel over the --repeat runs')
    .option('--json', 'print outputs and timing as JSON')
    .action(
      async (
        file: string,
        opts: { input?: string[]; seed: number; repeat: number; profile?: boolean; json?: boolean },
      ) => {
        const report = await runModel(file, {
          ...(opts.input ? { inputs: opts.input } : {}),
          seed: opts.seed,
          repeat: opts.repeat,
          profile: opts.profile === true,
        });
        process.stdout.write(opts.json ? `${JSON.stringify(report)}\n` : formatRun(file, report));
      },
    );
}
