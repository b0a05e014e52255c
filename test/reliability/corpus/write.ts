import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';

/** Writes `files` (relative path → bytes or text) under `dir`; returns `join(dir, entry)`. */
export async function writeFiles(
  dir: string,
  files: Record<string, Uint8Array | string>,
  entry: string,
): Promise<string> {
  for (const [name, data] of Object.entries(files)) {
    const path = join(dir, name);
    await mkdir(dirname(path), { recursive: true });
    await writeFile(path, data);
  }
  return join(dir, entry);
}

/** One file named `name` holding `bytes`. */
export const oneFile =
  (name: string, bytes: () => Uint8Array | string) =>
  (dir: string): Promise<string> =>
    writeFiles(dir, { [name]: bytes() }, name);

/** Deterministic garbage. */
export function garbage(n: number, seed: number): Uint8Array {
  const out = new Uint8Array(n);
  let s = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    out[i] = s & 0xff;
  }
  return out;
}
