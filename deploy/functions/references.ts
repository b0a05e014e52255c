import { existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';

/**
 * The files compiled bundle code opens by a path relative to itself: `new URL('<path>', import.meta.url)` (templates,
 * protos, worker scripts, package.json) and relative `import`/`export … from` specifiers. Scanned from the emitted
 * JavaScript, so a file the code needs at run time that the bundle lacks is found when the bundle is built, not when a
 * deployed build reaches the stage that opens it. Pure except `missingReferences`, which checks the disk.
 */
export interface Reference {
  /** Bundle-relative path of the referring module. */
  from: string;
  /** The relative path as written in the code. */
  path: string;
}

const PATTERNS = [
  /new URL\(\s*(['"`])(\.{1,2}\/[^'"`$]*)\1\s*,\s*import\.meta\.url\s*\)/g,
  /\b(?:import|export)\s[^'"`;]*?from\s*(['"])(\.{1,2}\/[^'"]+)\1/g,
  /\bimport\(\s*(['"])(\.{1,2}\/[^'"]+)\1\s*\)/g,
  /^\s*import\s*(['"])(\.{1,2}\/[^'"]+)\1/gm,
];

export function referencesIn(from: string, code: string): Reference[] {
  const out: Reference[] = [];
  for (const re of PATTERNS) for (const m of code.matchAll(re)) out.push({ from, path: m[2]! });
  return out;
}

/** The references whose target is not in the bundle at `root` (`files`: bundle-relative path → code). */
export function missingReferences(root: string, files: Map<string, string>): Reference[] {
  const missing: Reference[] = [];
  for (const [from, code] of files) {
    for (const ref of referencesIn(from, code)) {
      if (!existsSync(resolve(root, dirname(from), ref.path))) missing.push(ref);
    }
  }
  return missing;
}
