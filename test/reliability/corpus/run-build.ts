import { createHash } from 'node:crypto';
import { mkdir, readdir, readFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { main } from '../../../shared/cli/main.js';
import type { BadInput } from './types.js';

/** Writes a case's input under `<root>/inputs/<name>/`; returns the path to build. */
export async function writeCase(c: BadInput, root: string): Promise<string> {
  const dir = join(root, 'inputs', c.name);
  await mkdir(dir, { recursive: true });
  return c.write(dir);
}

/** Runs `kiln build <input> -o <out>` through the CLI's main() in this process (with the case's KILN_* settings). */
export async function runBuild(
  c: BadInput,
  input: string,
  out: string,
): Promise<{ code: number; stderr: string; stdout: string }> {
  const saved = { ...process.env };
  Object.assign(process.env, c.env ?? {});
  const errWrite = process.stderr.write.bind(process.stderr);
  const outWrite = process.stdout.write.bind(process.stdout);
  let stderr = '';
  let stdout = '';
  process.stderr.write = ((s: string | Uint8Array) => ((stderr += String(s)), true)) as typeof process.stderr.write;
  process.stdout.write = ((s: string | Uint8Array) => ((stdout += String(s)), true)) as typeof process.stdout.write;
  try {
    const code = await main(['build', input, '-o', out]);
    return { code, stderr, stdout };
  } finally {
    process.stderr.write = errWrite;
    process.stdout.write = outWrite;
    for (const k of Object.keys(c.env ?? {})) {
      if (saved[k] === undefined) delete process.env[k];
      else process.env[k] = saved[k];
    }
  }
}

/** Every file under `root` (relative path → sha256 of its bytes). */
export async function snapshot(root: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  const walk = async (dir: string): Promise<void> => {
    for (const e of await readdir(dir, { withFileTypes: true })) {
      const full = join(dir, e.name);
      if (e.isDirectory()) await walk(full);
      else
        out.set(
          relative(root, full),
          e.isFile()
            ? createHash('sha256')
                .update(await readFile(full))
                .digest('hex')
            : `non-file`,
        );
    }
  };
  await walk(root);
  return out;
}

/** Paths added, removed or changed between two snapshots. */
export function changedPaths(before: Map<string, string>, after: Map<string, string>): string[] {
  const names = new Set([...before.keys(), ...after.keys()]);
  return [...names].filter((n) => before.get(n) !== after.get(n)).sort();
}
