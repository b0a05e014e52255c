import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, normalize, sep } from 'node:path';
import { CALIBRATION_DATA, VALIDATION_DATA } from './artifacts.js';

/**
 * Data that travels with a model upload: a `calibration/` folder (images or .npy samples for the quantizer) and a
 * `validation/` folder (one sub-folder per class, a labels file, or plain images, for the verify stage), anywhere in
 * the uploaded folder or archive. The convert stage keeps them as build artifacts under the same names, so later
 * stages (and users) find them with the build.
 */
export const DATA_FOLDERS = [CALIBRATION_DATA, VALIDATION_DATA] as const;
export type DataFolder = (typeof DATA_FOLDERS)[number];

const DATA_PATH = new RegExp(`(?:^|/)((?:${DATA_FOLDERS.join('|')})/[^/].*)$`);

/** Upload files (relative paths) that belong to a data folder, renamed to start at that folder. */
export function dataFilesOf(files: ReadonlyMap<string, Uint8Array>): Map<string, Uint8Array> {
  const out = new Map<string, Uint8Array>();
  for (const [path, bytes] of files) {
    const m = DATA_PATH.exec(path.replaceAll('\\', '/'));
    if (m && !m[1]!.split('/').some((p) => p === '..' || p === '.' || p === '')) out.set(m[1]!, bytes);
  }
  return out;
}

/** The build's files of one data folder, or null when the upload had none. */
export function filesIn(
  artifacts: ReadonlyMap<string, Uint8Array>,
  folder: DataFolder,
): Map<string, Uint8Array> | null {
  const prefix = `${folder}/`;
  const out = new Map<string, Uint8Array>();
  for (const [name, bytes] of artifacts) if (name.startsWith(prefix)) out.set(name.slice(prefix.length), bytes);
  return out.size > 0 ? out : null;
}

/** Writes files to a fresh temporary folder (sub-folders kept), runs `use` on it, and removes it. */
export async function withTempFolder<T>(
  files: ReadonlyMap<string, Uint8Array>,
  use: (dir: string) => Promise<T>,
): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), 'kiln-data-'));
  try {
    for (const [name, bytes] of files) {
      const path = normalize(join(dir, name));
      if (!path.startsWith(dir + sep)) continue; // never outside the folder
      await mkdir(dirname(path), { recursive: true });
      await writeFile(path, bytes);
    }
    return await use(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
