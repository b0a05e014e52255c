/**
 * Builds the deployable functions bundle: `npm run bundle` or `npx tsx deploy/functions/build.ts [outDir]` (default
 * dist/functions). See bundle.ts for what it holds; `npm ci --omit=dev` in the folder makes it runnable.
 */
import { join, relative, resolve } from 'node:path';
import { buildBundle, REPO_ROOT } from './bundle.js';

const outDir = resolve(process.argv[2] ?? join(REPO_ROOT, 'dist', 'functions'));
const r = await buildBundle(outDir);
process.stdout.write(
  `functions bundle in ${relative(process.cwd(), outDir) || '.'}: ${r.assets} asset files, ` +
    `${r.dependencies} dependencies, ${r.lockedPackages} locked packages (install with npm ci --omit=dev)\n`,
);
