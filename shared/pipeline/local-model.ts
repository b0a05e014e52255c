import { readdir, readFile, stat } from 'node:fs/promises';
import { basename, dirname, join, relative, sep } from 'node:path';
import { KilnError } from '../common/errors.js';
import { checkUploadBytes } from './sniff.js';
import { SINGLE_FILE_FORMATS } from './uploads.js';

/**
 * A model on the local disk in the shape of an upload: a single model file (with `<stem>.kiln.json` beside it) or a
 * folder (with `kiln.json` inside). `kiln build` runs it in-process; `kiln upload` / `kiln local` put it in the
 * uploads bucket the way docs/pipeline.md asks (config first for a file, kiln.json last for a folder).
 */
export interface LocalModel {
  kind: 'single-file' | 'folder';
  /** File name (`model.tflite`) or folder name (`saved_model`). */
  name: string;
  /** Single file: the format its extension implies. */
  format?: string;
  /** Relative path (`/`-separated) → bytes. A folder's top-level kiln.json is not among them. */
  files: Map<string, Uint8Array>;
  /** The build config text, if any: `--config`, the folder's kiln.json, or `<stem>.kiln.json` beside the file. */
  configText?: string;
  configSource?: string;
}

export function singleFileFormat(name: string): { suffix: string; format: string } | undefined {
  const lower = name.toLowerCase();
  return SINGLE_FILE_FORMATS.find((f) => lower.endsWith(f.suffix));
}

async function readOptional(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch {
    return undefined;
  }
}

async function walk(root: string, dir: string, out: Map<string, Uint8Array>): Promise<void> {
  const entries = await readdir(dir, { withFileTypes: true });
  entries.sort((a, b) => a.name.localeCompare(b.name));
  for (const e of entries) {
    const full = join(dir, e.name);
    if (e.isDirectory()) await walk(root, full, out);
    else if (e.isFile()) {
      const b = await readFile(full);
      out.set(relative(root, full).split(sep).join('/'), new Uint8Array(b.buffer, b.byteOffset, b.byteLength));
    }
  }
}

/** Reads what the user named. Throws a bad-input KilnError for a missing path, a non-model file or a corrupt one. */
export async function readLocalModel(path: string, configPath?: string): Promise<LocalModel> {
  let info;
  try {
    info = await stat(path);
  } catch {
    throw new KilnError('E_FILE_NOT_FOUND', `${path}: no such file or folder`, { hint: 'Check the path' });
  }
  let configText: string | undefined;
  let configSource: string | undefined;
  if (configPath !== undefined) {
    configText = await readOptional(configPath);
    if (configText === undefined)
      throw new KilnError('E_FILE_NOT_FOUND', `cannot read the build config ${configPath}`, {
        hint: 'Pass --config with a path to a kiln.json',
      });
    configSource = configPath;
  }
  const name = basename(path.replace(/[/\\]+$/, ''));
  if (info.isDirectory()) {
    const files = new Map<string, Uint8Array>();
    await walk(path, path, files);
    const inner = files.get('kiln.json');
    files.delete('kiln.json');
    if (files.size === 0) throw new KilnError('E_FILE_EMPTY', `${path} has no files`, { hint: 'Name a model folder' });
    if (configText === undefined && inner) {
      configText = Buffer.from(inner).toString('utf8');
      configSource = join(path, 'kiln.json');
    }
    return { kind: 'folder', name, files, ...(configText !== undefined ? { configText, configSource } : {}) };
  }
  if (!info.isFile()) throw new KilnError('E_BAD_ARGUMENT', `${path} is not a file or folder`);
  const match = singleFileFormat(name);
  if (!match)
    throw new KilnError('E_BAD_ARGUMENT', `${path} is not a model file Kiln builds`, {
      hint: `Name a ${SINGLE_FILE_FORMATS.map((f) => f.suffix).join(', ')} file or a model folder`,
    });
  const b = await readFile(path);
  const bytes = new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
  checkUploadBytes(path, match.format, bytes);
  if (configText === undefined) {
    const beside = join(dirname(path), `${name.slice(0, -match.suffix.length)}.kiln.json`);
    configText = await readOptional(beside);
    if (configText !== undefined) configSource = beside;
  }
  return {
    kind: 'single-file',
    name,
    format: match.format,
    files: new Map([[name, bytes]]),
    ...(configText !== undefined ? { configText, configSource } : {}),
  };
}
