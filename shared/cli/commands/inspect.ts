import type { Command } from 'commander';
import { inspectModel, type InspectReport } from '../../toolchain/edgetpu/inspect.js';
import { readTflite } from '../../toolchain/tflite/reader.js';
import { readInputFile } from '../io.js';

export function register(program: Command): void {
  program
    .command('inspect')
    .description('show a .tflite model: inputs/outputs, op histogram, parameters, Edge TPU custom ops')
    .argument('<model>', 'a .tflite file')
    .option('--json', 'print the full report as JSON')
    .action(async (file: string, opts: { json?: boolean }) => {
      const bytes = await readInputFile(file);
      const report = inspectModel(readTflite(bytes), bytes.length);
      process.stdout.write(opts.json ? `${JSON.stringify(report, null, 2)}\n` : formatInspect(file, report));
    });
}

const fmtTensor = (t: InspectReport['subgraphs'][number]['inputs'][number]): string => {
  const q = t.quantization;
  const quant = q
    ? q.scale.length === 1
      ? ` scale=${q.scale[0]!.toPrecision(6)} zero_point=${q.zeroPoint[0]}`
      : ` per-channel(${q.scale.length}, axis ${q.quantizedDimension})`
    : '';
  return `  ${t.name}  ${t.dtype}[${t.shape.join(',')}]${quant}`;
};

export function formatInspect(file: string, r: InspectReport): string {
  const lines: string[] = [
    `${file}: ${r.bytes} bytes, schema v${r.schemaVersion}${r.description ? `, "${r.description}"` : ''}`,
  ];
  r.subgraphs.forEach((sg, i) => {
    lines.push(`subgraph ${i}${sg.name ? ` (${sg.name})` : ''}: ${sg.operators.length} ops, ${sg.tensors} tensors`);
    lines.push('inputs:', ...sg.inputs.map(fmtTensor), 'outputs:', ...sg.outputs.map(fmtTensor), 'ops:');
    for (const [op, n] of Object.entries(sg.opHistogram).sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])))
      lines.push(`  ${op.padEnd(36)}${n}`);
  });
  lines.push(`parameters: ${r.parameters.count} (${r.parameters.bytes} bytes)`);
  if (r.edgeTpu.compiled) {
    for (const op of r.edgeTpu.customOps) {
      lines.push(
        `Edge TPU compiled: edgetpu-custom-op at subgraph ${op.subgraph} op ${op.operator}: ${op.optionsBytes} bytes of options, package ${op.packageIdentifier ?? '?'} ${op.packageBytes} bytes, min runtime ${op.minRuntimeVersion ?? '?'}${op.compilerVersion ? `, compiler ${op.compilerVersion}` : ''}${op.executables.length ? `; executables ${op.executables.join(', ')}; parameters cached ${op.cachedParameterBytes} bytes, streamed ${op.streamedParameterBytes} bytes` : ''}`,
      );
    }
  } else {
    lines.push('Edge TPU compiled: no');
  }
  const otherCustom = r.customOps.filter((c) => c.customCode !== 'edgetpu-custom-op');
  if (otherCustom.length)
    lines.push(
      `custom ops: ${otherCustom.map((c) => `${c.customCode} (${c.optionsBytes} bytes of options)`).join(', ')}`,
    );
  return `${lines.join('\n')}\n`;
}
