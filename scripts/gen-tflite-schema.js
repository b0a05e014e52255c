#!/usr/bin/env node
// Regenerates shared/toolchain/tflite/generated/ from shared/toolchain/tflite/schema.fbs with flatc (Debian: flatbuffers-compiler 2.0.8),
// then rewrites relative imports to explicit `.js` paths so the code is valid Node ESM.
// The schema file is the one source of truth; the generated code is committed so that installs need no flatc.
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const schema = join(root, 'shared/toolchain/tflite/schema.fbs');
// An output folder may be given (the test regenerates into a temp folder and compares).
const out = process.argv[2] ?? join(root, 'shared/toolchain/tflite/generated');

rmSync(out, { recursive: true, force: true });
execFileSync('flatc', ['--ts', '--gen-object-api', '-o', out, schema], { stdio: 'inherit' });

function walk(dir) {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) walk(p);
    else if (p.endsWith('.ts')) {
      const src = readFileSync(p, 'utf8')
        .replace(/from '(\.{1,2}\/[^']+)'/g, (_m, spec) => `from '${spec}.js'`)
        .replace(/^/, '// @ts-nocheck\n/* eslint-disable */\n');
      writeFileSync(p, src);
    }
  }
}
walk(out);
