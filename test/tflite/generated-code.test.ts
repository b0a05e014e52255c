import test from 'ava';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const haveFlatc = spawnSync('flatc', ['--version']).status === 0;

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? files(p) : [p];
  });
}

(haveFlatc ? test : test.skip)(
  'shared/toolchain/tflite/generated is exactly what flatc makes from schema.fbs (one source of truth)',
  (t) => {
    const out = mkdtempSync(join(tmpdir(), 'kiln-gen-'));
    execFileSync(process.execPath, [join(ROOT, 'scripts/gen-tflite-schema.js'), out]);
    const committed = join(ROOT, 'shared/toolchain/tflite/generated');
    const want = files(out)
      .map((f) => relative(out, f))
      .sort();
    t.deepEqual(
      files(committed)
        .map((f) => relative(committed, f))
        .sort(),
      want,
    );
    for (const f of want) t.is(readFileSync(join(committed, f), 'utf8'), readFileSync(join(out, f), 'utf8'), f);
  },
);
