/** Filesystem helpers: atomic (temp file + fsync + rename) writes and tolerant removal. */
import { randomBytes } from 'node:crypto';
import { open, rename, rm, readFile } from 'node:fs/promises';
import { join } from 'node:path';

export function tempName(dir: string, suffix = '.tmp'): string {
  return join(dir, `${Date.now().toString(36)}-${randomBytes(8).toString('hex')}${suffix}`);
}

/** Writes `data` to `path` so readers only ever see the old or the complete new content. */
export async function writeFileAtomic(path: string, data: string | Uint8Array, tmpDir: string): Promise<void> {
  const tmp = tempName(tmpDir);
  const fh = await open(tmp, 'w');
  try {
    await fh.writeFile(data);
    await fh.sync();
  } finally {
    await fh.close();
  }
  try {
    await rename(tmp, path);
  } catch (err) {
    await removeQuietly(tmp);
    throw err;
  }
}

export async function writeJsonAtomic(path: string, value: unknown, tmpDir: string): Promise<void> {
  await writeFileAtomic(path, JSON.stringify(value, null, 2) + '\n', tmpDir);
}

export async function readJson(path: string): Promise<unknown> {
  return JSON.parse(await readFile(path, 'utf8')) as unknown;
}

export async function syncFile(path: string): Promise<void> {
  const fh = await open(path, 'r+');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

export async function removeQuietly(path: string): Promise<void> {
  await rm(path, { force: true, recursive: true }).catch(() => undefined);
}

export function isNotFound(err: unknown): boolean {
  return typeof err === 'object' && err !== null && (err as { code?: unknown }).code === 'ENOENT';
}
