/**
 * `npm run bench`: runs every bench/*.bench.ts module (each exports `async function run(): Promise<Record<string,
 * unknown>>`; `figures` in its result are ratios to references measured in the same run), writes all results to
 * bench/results/bench.json, appends the figures with the commit, machine and load to bench/history.jsonl and flags
 * every figure that moved by more than KILN_BENCH_CHANGE (relative, default 0.15) from its previous value.
 * `npm run bench -- interpreter` (or `-- --only interpreter`) runs only the modules whose names start so.
 */
import { execFileSync } from 'node:child_process';
import { appendFileSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { availableParallelism, loadavg } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { changes, formatChange, latestFigures, type Figure, type HistoryEntry } from './history.js';

const dir = fileURLToPath(new URL('.', import.meta.url));
const only = process.argv.slice(2).filter((a) => a !== '--only');
const threshold = Number(process.env['KILN_BENCH_CHANGE'] ?? 0.15);
const historyFile = join(dir, 'history.jsonl');
const modules = readdirSync(dir)
  .filter((f) => f.endsWith('.bench.ts'))
  .filter((f) => only.length === 0 || only.some((o) => f.startsWith(o)))
  .sort();
const load1m = (): number => +loadavg()[0]!.toFixed(2);
const loadBefore = load1m();
const results: Record<string, unknown> = {};
const figures: Record<string, Figure> = {};
for (const file of modules) {
  const name = file.replace(/\.bench\.ts$/, '');
  process.stdout.write(`bench ${name} …\n`);
  const mod = (await import(pathToFileURL(join(dir, file)).href)) as { run?: () => Promise<Record<string, unknown>> };
  if (typeof mod.run !== 'function') {
    results[name] = { error: 'the module exports no run()' };
    continue;
  }
  try {
    results[name] = await mod.run();
  } catch (e) {
    results[name] = { error: (e as Error).message };
  }
  const r = results[name] as Record<string, unknown>;
  for (const [k, f] of Object.entries((r['figures'] ?? {}) as Record<string, Figure>)) figures[`${name}/${k}`] = f;
  process.stdout.write(`${summary(name, r)}\n`);
}
mkdirSync(join(dir, 'results'), { recursive: true });
const out = join(dir, 'results', 'bench.json');
writeFileSync(out, `${JSON.stringify({ date: new Date().toISOString(), node: process.version, results }, null, 2)}\n`);
process.stdout.write(`wrote ${out}\n`);

const previous = existsSync(historyFile) ? latestFigures(readFileSync(historyFile, 'utf8')) : {};
const entry: HistoryEntry = {
  date: new Date().toISOString(),
  commit: git(['rev-parse', '--short', 'HEAD']) || 'unknown',
  dirty: git(['status', '--porcelain', '--untracked-files=no']) !== '',
  node: process.version,
  cores: availableParallelism(),
  load: [loadBefore, load1m()],
  figures: Object.fromEntries(Object.entries(figures).map(([k, f]) => [k, f.ratio])),
};
if (Object.keys(figures).length > 0) {
  appendFileSync(historyFile, `${JSON.stringify(entry)}\n`);
  process.stdout.write(`figures (ratios to references measured in this run; load ${entry.load.join(' → ')}):\n`);
  for (const [k, f] of Object.entries(figures)) {
    const before = previous[k];
    process.stdout.write(`  ${k} = ${f.ratio}${before !== undefined ? ` (was ${before})` : ''}  [${f.of}]\n`);
  }
  const moved = changes(previous, figures, threshold);
  for (const c of moved) process.stdout.write(`${formatChange(c)}\n`);
  if (moved.length === 0)
    process.stdout.write(`no figure moved by more than ${(threshold * 100).toFixed(0)}% from its previous value\n`);
  process.stdout.write(`appended to ${historyFile}\n`);
}

function summary(name: string, r: Record<string, unknown>): string {
  if (typeof r['summary'] === 'string') return r['summary'];
  return `${name}: ${JSON.stringify(r).slice(0, 400)}`;
}

function git(args: string[]): string {
  try {
    return execFileSync('git', args, { cwd: dir, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return '';
  }
}
