import { readdirSync, readFileSync, statSync, lstatSync, type Stats } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { KilnError } from '../../common/errors.js';
import { isGzip, readTarGz } from './archive/tar.js';
import { isZip, readZip } from './archive/zip.js';
import { safeRelativePath } from './archive/safe-path.js';
import { DEFAULT_LIMITS, type UnpackLimits } from './limits.js';

/**
 * The files of one upload, whatever its packaging (a file, a folder, a .zip or .tar.gz), addressed by relative POSIX
 * paths. Loaders read through it only, so a path in a model file can never reach outside the upload.
 */
export interface ModelFiles {
  /** What the user named, for messages. */
  readonly label: string;
  /** Relative path of the file the user named, when they named a single (non-archive) file. */
  readonly entry?: string;
  /** Where the files came from. */
  readonly packaging: 'file' | 'folder' | 'zip' | 'tar.gz';
  /** Every file, relative paths, sorted. */
  list(): string[];
  /** The bytes of a file, or undefined when there is none. `path` is normalized and may not escape the root. */
  read(path: string): Uint8Array | undefined;
}

export class MemoryFiles implements ModelFiles {
  constructor(
    readonly label: string,
    private readonly files: Map<string, Uint8Array>,
    readonly packaging: ModelFiles['packaging'],
    readonly entry?: string,
  ) {}
  list(): string[] {
    return [...this.files.keys()].sort();
  }
  read(path: string): Uint8Array | undefined {
    return this.files.get(safeRelativePath(path, 'file reference'));
  }
}

class DirFiles implements ModelFiles {
  private listing: string[] | undefined;
  constructor(
    readonly label: string,
    private readonly root: string,
    readonly packaging: 'file' | 'folder',
    private readonly limits: UnpackLimits,
    readonly entry?: string,
  ) {}

  list(): string[] {
    if (this.listing) return this.listing;
    const out: string[] = [];
    let total = 0;
    const walk = (rel: string, depth: number): void => {
      for (const d of readdirSync(join(this.root, rel), { withFileTypes: true })) {
        const r = rel ? `${rel}/${d.name}` : d.name;
        if (d.isDirectory() && this.packaging === 'folder' && depth < 8) walk(r, depth + 1);
        else if (d.isFile()) {
          out.push(r);
          if (out.length > this.limits.maxEntries) {
            throw new KilnError('E_BAD_ARGUMENT', `${this.label} holds more than ${this.limits.maxEntries} files`, {
              hint: 'Upload only the model folder',
            });
          }
          if (this.packaging === 'folder') {
            total += statSync(join(this.root, r)).size;
            if (total > this.limits.maxTotalBytes) {
              throw new KilnError('E_BAD_ARGUMENT', `${this.label} holds more than ${this.limits.maxTotalBytes} bytes`);
            }
          }
        }
      }
    };
    walk('', 0);
    this.listing = out.sort();
    return this.listing;
  }

  read(path: string): Uint8Array | undefined {
    const rel = safeRelativePath(path, 'file reference');
    const full = join(this.root, rel);
    let st: Stats;
    try {
      st = lstatSync(full);
    } catch {
      return undefined;
    }
    if (!st.isFile()) return undefined;
    if (st.size > this.limits.maxEntryBytes) {
      throw new KilnError(
        'E_BAD_ARGUMENT',
        `${rel} is ${st.size} bytes, over the limit of ${this.limits.maxEntryBytes}`,
      );
    }
    const b = readFileSync(full);
    return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
  }
}

/** Opens what the user named: a folder, an archive (.zip, .tar.gz; unpacked in memory, checked) or a single file. */
export function openModelFiles(path: string, limits: UnpackLimits = DEFAULT_LIMITS): ModelFiles {
  let st: Stats;
  try {
    st = statSync(path);
  } catch {
    throw new KilnError('E_FILE_NOT_FOUND', `${path}: no such file or folder`, { hint: 'Check the path' });
  }
  if (st.isDirectory()) return new DirFiles(path, path, 'folder', limits);
  if (!st.isFile()) throw new KilnError('E_BAD_ARGUMENT', `${path} is not a file or folder`);
  if (st.size === 0) throw new KilnError('E_FILE_EMPTY', `${path} is empty`, { hint: 'Upload the model file itself' });
  if (st.size > limits.maxEntryBytes)
    throw new KilnError('E_BAD_ARGUMENT', `${path} is ${st.size} bytes, over the limit of ${limits.maxEntryBytes}`);
  const buf = readFileSync(path);
  const bytes = new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
  if (isZip(bytes)) return new MemoryFiles(path, readZip(bytes, limits), 'zip');
  if (isGzip(bytes)) return new MemoryFiles(path, readTarGz(bytes, limits), 'tar.gz');
  return new DirFiles(path, dirname(path), 'file', limits, basename(path));
}
