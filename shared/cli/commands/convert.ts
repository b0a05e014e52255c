import { mkdir, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { Command } from 'commander';
import { Progress, progressWanted, seconds } from '../progress.js';
import { convertModel, toTfliteBytes, type ConvertResult } from '../../toolchain/loaders/convert.js';
import {
  convertOptionsFromConfig,
  parseInputSpecs,
  parseOutputNames,
  type ConvertOptions,
} from '../../toolchain/loaders/options.js';

export interface ConvertCommandOptions {
  output: string;
  inputs?: string;
  outputs?: string;
  signature?: string;
  inputLayout?: string;
  json?: boolean;
  /** Step lines on stderr (default: when stderr is a terminal, or KILN_PROGRESS=1). */
  progress?: boolean;
}

export interface ConvertCommandResult {
  output: string;
  bytes: number;
  result: ConvertResult;
}

/** `kiln convert` core: source model (file, folder, .zip, .tar.gz) → float .tflite at `opts.output`. */
export async function runConvert(input: string, opts: ConvertCommandOptions): Promise<ConvertCommandResult> {
  const o: ConvertOptions = {
    ...(opts.inputs !== undefined ? { inputs: parseInputSpecs(opts.inputs) } : {}),
    ...(opts.outputs !== undefined ? { outputs: parseOutputNames(opts.outputs) } : {}),
    ...(opts.signature !== undefined ? { signature: opts.signature } : {}),
    ...(opts.inputLayout !== undefined
      ? convertOptionsFromConfig({ inputLayout: opts.inputLayout }, '--input-layout')
      : {}),
  };
  const progress = new Progress('convert', opts.progress ?? progressWanted());
  progress.step(`reading ${input} …`);
  const t0 = Date.now();
  const result = convertModel(input, o);
  progress.step(`${result.format} converted in ${seconds(Date.now() - t0)}; writing ${opts.output}`);
  const bytes = toTfliteBytes(result.model);
  await mkdir(dirname(opts.output), { recursive: true });
  await writeFile(opts.output, bytes);
  return { output: opts.output, bytes: bytes.length, result };
}

export function summary(r: ConvertCommandResult): Record<string, unknown> {
  const x = r.result;
  return {
    format: x.format,
    packaging: x.packaging,
    entry: x.entry,
    output: r.output,
    bytes: r.bytes,
    inputs: x.inputs,
    outputs: x.outputs,
    ...(x.inputLayout ? { inputLayout: x.inputLayout } : {}),
    ops: x.ops,
    rewrites: x.rewrites,
  };
}

export function formatConvert(input: string, r: ConvertCommandResult): string {
  const x = r.result;
  const t = (i: { name: string; dtype: string; shape: number[] }): string =>
    `  ${i.name}  ${i.dtype}[${i.shape.join(',')}]`;
  const ops = Object.entries(x.ops)
    .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
    .map(([k, v]) => `${k}×${v}`)
    .join(' ');
  const rw = x.rewrites;
  return [
    `${input}: ${x.format} (${x.packaging}${x.entry ? `, ${x.entry}` : ''}) → ${r.output} (${r.bytes} bytes, float32)`,
    'inputs:',
    ...x.inputs.map(t),
    'outputs:',
    ...x.outputs.map(t),
    ...(x.inputLayout
      ? [
          `layout: ${x.inputLayout.map((l) => `${l.name} ${l.layout === 'NHWC' ? 'NHWC (convert.inputLayout "nhwc")' : 'as exported (NCHW for images; --input-layout nhwc takes NHWC)'}`).join(', ')}`,
        ]
      : []),
    `ops: ${ops}`,
    ...(rw
      ? [
          `rewrites: ${rw.affineFolded} batch-norm/bias folded, ${rw.activationsFused} activations fused, ${rw.constantsFolded} constants folded, ${rw.identitiesRemoved} identities removed`,
        ]
      : []),
    '',
  ].join('\n');
}

export function register(program: Command): void {
  program
    .command('convert')
    .description(
      'convert a Keras .h5/.keras, SavedModel, frozen graph, TF.js or ONNX model (file, folder, .zip, .tar.gz) to a float .tflite',
    )
    .argument('<model>', 'model file, folder or archive')
    .requiredOption('-o, --output <file>', 'where to write the float .tflite')
    .option('--inputs <specs>', 'input shapes / cut points: name:d0,d1,... (several: a:1,4,b:1,8)')
    .option('--outputs <names>', 'output nodes or layers (cut points): name,name')
    .option('--signature <name>', 'SavedModel signature (default serving_default)')
    .option('--input-layout <layout>', 'ONNX image inputs: source (as exported, NCHW) or nhwc')
    .option('--json', 'print the report as JSON')
    .action(async (input: string, opts: ConvertCommandOptions) => {
      const r = await runConvert(input, opts);
      process.stdout.write(opts.json ? `${JSON.stringify(summary(r), null, 2)}\n` : formatConvert(input, r));
    });
}
