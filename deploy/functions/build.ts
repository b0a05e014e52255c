/**
 * Builds the deployable functions source: `npx tsx deploy/functions/build.ts [outDir]` (default dist/functions).
 * Compiles functions/ and the shared/ modules it reaches to JavaScript (deploy/functions/tsconfig.json), copies the
 * non-TypeScript files the code loads at run time, and writes a package.json with pinned runtime dependencies. The
 * result is what terraform zips for Cloud Functions and what deploy/compile/Dockerfile copies into the compile image.
 */
import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, extname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { deployPackageJson, type PackageLock, type RootPackage } from './package-json.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
/** Files the code opens by path at run time (worker script, protobuf schemas). */
const ASSET_EXTENSIONS = new Set(['.cjs', '.proto']);

function* walk(dir: string): Generator<string> {
  for (const entry of readdirSync(dir)) {
    const p = join(dir, entry);
    if (statSync(p).isDirectory()) yield* walk(p);
    else yield p;
  }
}

const outDir = resolve(process.argv[2] ?? join(ROOT, 'dist', 'functions'));
rmSync(outDir, { recursive: true, force: true });
mkdirSync(outDir, { recursive: true });

execFileSync(
  process.execPath,
  [
    join(ROOT, 'node_modules/typescript/bin/tsc'),
    '-p',
    join(ROOT, 'deploy/functions/tsconfig.json'),
    '--outDir',
    outDir,
  ],
  { stdio: 'inherit' },
);

let assets = 0;
for (const file of walk(join(ROOT, 'shared'))) {
  if (!ASSET_EXTENSIONS.has(extname(file))) continue;
  const target = join(outDir, relative(ROOT, file));
  mkdirSync(dirname(target), { recursive: true });
  cpSync(file, target);
  assets++;
}

const root = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as RootPackage;
const lock = JSON.parse(readFileSync(join(ROOT, 'package-lock.json'), 'utf8')) as PackageLock;
writeFileSync(join(outDir, 'package.json'), `${JSON.stringify(deployPackageJson(root, lock), null, 2)}\n`);
process.stdout.write(`functions source in ${relative(process.cwd(), outDir) || '.'} (${assets} asset files)\n`);
