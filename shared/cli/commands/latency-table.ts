import type { Command } from 'commander';
import { DEVICES } from '../../verify/latency/devices.js';
import {
  latencyRows,
  medianError,
  planArchitectures,
  relativeError,
  type LatencyRow,
} from '../../verify/latency/table.js';

export function register(program: Command): void {
  program
    .command('latency-table')
    .description("compare Kiln's Edge TPU latency estimates with Coral's published benchmarks (rebuilt architectures)")
    .option('--json', 'print an array of {model, device, estimatedMs, publishedMs}')
    .action((opts: { json?: boolean }) => {
      const rows = latencyRows(planArchitectures());
      process.stdout.write(opts.json ? `${JSON.stringify(rows.map(jsonRow), null, 2)}\n` : formatLatencyTable(rows));
    });
}

const jsonRow = (r: LatencyRow) => ({
  model: r.model,
  device: r.device,
  estimatedMs: r.estimatedMs,
  publishedMs: r.publishedMs,
});

export function formatLatencyTable(rows: readonly LatencyRow[]): string {
  const lines = [
    `${'Model'.padEnd(24)}${'Device'.padEnd(34)}${'Estimated ms'.padStart(13)}${'Published ms'.padStart(14)}${'Error'.padStart(8)}`,
  ];
  for (const r of rows) {
    const e = relativeError(r);
    lines.push(
      `${r.model.padEnd(24)}${DEVICES[r.device].label.padEnd(34)}${(r.estimatedMs === null ? '—' : r.estimatedMs.toFixed(2)).padStart(13)}${String(r.publishedMs).padStart(14)}${(e === null ? 'n/a' : `${(100 * e).toFixed(0)}%`).padStart(8)}`,
    );
  }
  const skipped = rows.filter((r) => r.estimatedMs === null);
  lines.push(`median error ${(100 * medianError(rows)).toFixed(1)}% over ${rows.length - skipped.length} estimates`);
  for (const m of new Set(skipped.map((r) => r.model)))
    lines.push(`${m}: ${skipped.find((r) => r.model === m)!.basis}`);
  lines.push(
    "All figures are estimates of Kiln's latency model (spec §10.4) calibrated on Coral's published table; rebuilt models use random int8 weights.",
  );
  return `${lines.join('\n')}\n`;
}
