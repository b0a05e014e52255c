/**
 * `npm run bench`: runs every bench/*.bench.ts module (each exports `async function run(): Promise<Record<string,
 * unknown>>`; `npm run bench -- --only <name>` runs the named ones), writes all results to bench/results/bench.json and prints a short summary.
 */
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const dir = fileURLToPath(new URL('.', import.meta.url));
const only = process.argv.slice(2).filter((a) => a !== '--only');
const modules = readdirSync(dir)
  .filter((f) => f.endsWith('.bench.ts'))
  .filter((f) => only.length === 0 || only.some((o) => f.startsWith(o)))
  .sort();
const results: Record<string, unknown> = {};
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
  process.stdout.write(`${summary(name, results[name] as Record<string, unknown>)}\n`);
}
mkdirSync(join(dir, 'results'), { recursive: true });
const out = join(dir, 'results', 'bench.json');
writeFileSync(out, `${JSON.stringify({ date: new Date().toISOString(), node: process.version, results }, null, 2)}\n`);
process.stdout.write(`wrote ${out}\n`);

function summary(name: string, r: Record<string, unknown>): string {
  if (typeof r['summary'] === 'string') return r['summary'];
  return `${name}: ${JSON.stringify(r).slice(0, 400)}`;
}
