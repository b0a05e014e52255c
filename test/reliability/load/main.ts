/**
 * `npm run reliability:load [-- N]`: the load test with N concurrent uploads (default 20) on the local stack; prints
 * the figures as JSON and exits 1 unless every build completed.
 */
import { runLoad } from './run-load.js';

const n = Number(process.argv[2] ?? process.env['KILN_LOAD_N'] ?? 20);
const f = await runLoad(n);
process.stdout.write(`${JSON.stringify(f, null, 2)}\n`);
process.stdout.write(
  `load N=${f.n}: ${f.succeeded} succeeded, ${f.failed.length} failed, ${f.lost.length} lost; build time median ${(f.buildMs.median / 1000).toFixed(1)} s, max ${(f.buildMs.max / 1000).toFixed(1)} s; wall ${(f.wallMs / 1000).toFixed(1)} s; peak RSS ${f.peakRssMiB} MiB\n`,
);
process.exitCode = f.succeeded === n ? 0 : 1;
