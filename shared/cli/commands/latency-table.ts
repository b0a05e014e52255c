import type { Command } from 'commander';
import { DEVICES } from '../../toolchain/verify/latency/devices.js';
import {
  errorSummary,
  heldOutError,
  latencyRows,
  medianError,
  planArchitectures,
  relativeError,
  type LatencyRow,
} from '../../toolchain/verify/latency/table.js';

export function register(program: Command): void {
  program
    .command('latency-table')
    .description("compare Kiln's Edge TPU latency estimates with Coral's published benchmarks (rebuilt architectures)")
    .option('--json', 'print an array of {model, device, estimatedMs, heldOutMs, publishedMs}')
    .action((opts: { json?: boolean }) => {
      const rows = latencyRows(planArchitectures());
      process.stdout.write(opts.json ? `${JSON.stringify(rows.map(jsonRow), null, 2)}\n` : formatLatencyTable(rows));
    });
}

const jsonRow = (r: LatencyRow) => ({
  model: r.model,
  device: r.device,
  estimatedMs: r.estimatedMs,
  heldOutMs: r.heldOutMs,
  publishedMs: r.publishedMs,
});

export function formatLatencyTable(rows: readonly LatencyRow[]): string {
  const lines = [
    `${'Model'.padEnd(24)}${'Device'.padEnd(34)}${'Estimated ms'.padStart(13)}${'Held-out ms'.padStart(12)}${'Published ms'.padStart(14)}${'Error'.padStart(8)}${'Held-out'.padStart(10)}`,
  ];
  for (const r of rows) {
    const e = relativeError(r);
    const h = heldOutError(r);
    const ms = (x: number | null) => (x === null ? '—' : x.toFixed(2));
    const pct = (x: number | null) => (x === null ? 'n/a' : `${(100 * x).toFixed(0)}%`);
    lines.push(
      `${r.model.padEnd(24)}${DEVICES[r.device].label.padEnd(34)}${ms(r.estimatedMs).padStart(13)}${ms(r.heldOutMs).padStart(12)}${String(r.publishedMs).padStart(14)}${pct(e).padStart(8)}${pct(h).padStart(10)}`,
    );
  }
  const skipped = rows.filter((r) => r.estimatedMs === null);
  lines.push(`median error ${(100 * medianError(rows)).toFixed(1)}% over ${rows.length - skipped.length} estimates`);
  for (const s of errorSummary(rows))
    lines.push(
      `  ${s.device === 'all' ? 'all devices' : DEVICES[s.device].label}: in-sample ${(100 * s.inSample).toFixed(1)}%, held-out (leave one architecture out) ${(100 * s.heldOut).toFixed(1)}% over ${s.rows} rows`,
    );
  for (const m of new Set(skipped.map((r) => r.model)))
    lines.push(`${m}: ${skipped.find((r) => r.model === m)!.basis}`);
  lines.push(
    "All figures are estimates of Kiln's latency model (docs/specs/edgetpu-compiler.md §10.4) calibrated on Coral's published table; rebuilt models use random int8 weights.",
  );
  return `${lines.join('\n')}\n`;
}
