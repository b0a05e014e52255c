/**
 * A byte count in the unit that fits: `512 B`, `1.9 KiB`, `236.3 KiB`, `6.35 MiB`. One formatter for the CLI and
 * report.html, so both print the same figure for the same memory. Pure.
 */
export function formatBytes(n: number): string {
  if (!Number.isFinite(n)) return '?';
  const abs = Math.abs(n);
  if (abs < 1024) return `${Math.round(n)} B`;
  if (abs < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / 1024 / 1024).toFixed(2)} MiB`;
}
