import type { Command } from 'commander';
import { Progress } from '../progress.js';
import { formatBytes } from '../../common/format-bytes.js';
import { KilnError } from '../../common/errors.js';
import type { VerifyReport } from '../../toolchain/verify/report/schema.js';
import { verifyFiles } from '../../toolchain/verify/verify-files.js';

const int = (name: string) => (v: string) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new KilnError('E_BAD_ARGUMENT', `${name} must be a whole number, got ${v}`);
  return n;
};

export function register(program: Command): void {
  program
    .command('verify')
    .description(
      'accuracy (float vs int8), Edge TPU placement, memory and estimated latency → report.json + report.html',
    )
    .argument('<float>', 'float .tflite')
    .argument('<int8>', 'int8 .tflite made from it')
    .option('--compile-report <file>', 'compile-report.json from kiln compile (default: run Kiln compiler model)')
    .option('--validation <dir>', 'validation images or .npy: one sub-folder per class, or a flat folder')
    .option('--labels <file>', 'class names (one per line) or "file,label" lines')
    .option('--config <kiln.json>', 'kiln.json: quantize.calibration says how images become inputs')
    .option(
      '--max-samples <n>',
      'cap on the validation samples run through both models (default 2000)',
      int('--max-samples'),
    )
    .option(
      '--threads <n>',
      'worker threads running both models (default: one per CPU; 1: this thread)',
      int('--threads'),
    )
    .option('--debug-samples <n>', 'samples also used for the per-layer error', int('--debug-samples'))
    .option('-o, --out <dir>', 'where to write report.json and report.html', '.')
    .option('--json', 'print report.json')
    .action(
      async (
        floatPath: string,
        int8Path: string,
        opts: {
          compileReport?: string;
          validation?: string;
          labels?: string;
          config?: string;
          maxSamples?: number;
          debugSamples?: number;
          threads?: number;
          out: string;
          json?: boolean;
        },
      ) => {
        const progress = new Progress('verify');
        const { report, files } = await verifyFiles(floatPath, int8Path, {
          ...(opts.compileReport ? { compileReport: opts.compileReport } : {}),
          ...(opts.validation ? { validation: opts.validation } : {}),
          ...(opts.labels ? { labels: opts.labels } : {}),
          ...(opts.config ? { config: opts.config } : {}),
          ...(opts.maxSamples !== undefined ? { maxSamples: opts.maxSamples } : {}),
          ...(opts.debugSamples !== undefined ? { debugSamples: opts.debugSamples } : {}),
          ...(opts.threads ? { threads: opts.threads } : {}),
          outDir: opts.out,
          onProgress: (phase, done, total) => progress.update(phase, done, total),
        }).finally(() => progress.stop());
        process.stdout.write(opts.json ? `${JSON.stringify(report, null, 2)}\n` : formatSummary(report, files));
      },
    );
}

const pct = (x: number | null | undefined) => (x === null || x === undefined ? '—' : `${(100 * x).toFixed(1)}%`);

export function formatSummary(r: VerifyReport, files: string[]): string {
  const a = r.accuracy;
  const lines = [
    `${r.verdict.headline} (${r.task.type}): ${r.verdict.reasons.join('; ')}`,
    `task: ${r.task.type} (${r.task.source === 'kiln.json' ? 'set in kiln.json' : r.task.why})`,
    `Edge TPU ops: ${r.edgeTpu.edgeTpuOps}/${r.edgeTpu.totalOps} (${pct(r.edgeTpu.share)})`,
    `Edge TPU memory: ${formatBytes(r.memory.onChipUsedBytes)} on-chip, ${formatBytes(r.memory.offChipStreamedBytes)} off-chip${r.memory.estimate ? " (Kiln's prediction)" : ''}`,
  ];
  if (a.classification) {
    const c = a.classification;
    if (c.floatTop1 !== null)
      lines.push(
        `top-1 float ${pct(c.floatTop1)} → int8 ${pct(c.int8Top1)}; top-5 ${pct(c.floatTop5)} → ${pct(c.int8Top5)}`,
      );
    lines.push(`top-1 agreement ${pct(c.top1Agreement)} over ${a.samples} samples (${a.source})`);
  }
  if (a.segmentation)
    lines.push(`pixel agreement ${pct(a.segmentation.pixelAgreement)}, mean IoU ${a.segmentation.meanIoU.toFixed(3)}`);
  if (a.detection) lines.push(`boxes matched ${a.detection.matched}/${a.detection.floatBoxes} at IoU ≥ 0.5`);
  if (a.anchors)
    lines.push(
      `confident anchors (score ≥ ${a.anchors.minScore}) agree ${pct(a.anchors.agreement)}: float ${a.anchors.floatAnchors}, int8 ${a.anchors.int8Anchors}, both ${a.anchors.matched}; mean box error ${a.anchors.meanBoxError.toPrecision(3)}`,
    );
  if (a.keypoints)
    lines.push(
      `keypoints within ${a.keypoints.tolerance.toPrecision(2)} ${a.keypoints.unit}: ${pct(a.keypoints.withinTolerance)}`,
    );
  if (a.embedding)
    lines.push(
      `embedding cosine similarity ${a.embedding.meanCosine.toFixed(4)} (lowest ${a.embedding.minCosine.toFixed(4)})`,
    );
  if (a.run)
    lines.push(
      `scored ${a.cap.used} of ${a.cap.available ?? a.cap.used} validation samples (cap ${a.cap.max ?? a.cap.used}) in ${(a.run.ms / 1000).toFixed(1)} s on ${a.executor}`,
    );
  for (const o of a.outputs)
    lines.push(`output ${o.name}: SNR ${o.snrDb.toFixed(1)} dB, max abs error ${o.maxAbsError.toPrecision(3)}`);
  if (r.layers.worst.length > 0)
    lines.push(`worst layers: ${r.layers.worst.map((l) => `${l.tensor} (${l.snrDb.toFixed(1)} dB)`).join(', ')}`);
  for (const l of Object.values(r.latency)) lines.push(`${l.label}: ≈ ${l.estimatedMs.toFixed(2)} ms (estimate)`);
  for (const w of r.warnings) lines.push(`warning: ${w}`);
  lines.push(`wrote ${files.join(', ')}`);
  return `${lines.join('\n')}\n`;
}
