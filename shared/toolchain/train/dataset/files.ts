import { lstat, readdir, readFile, realpath } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import { KilnError } from '../../../common/errors.js';

/**
 * The small file-access port a dataset is read through, so the same code reads a local folder and a bucket prefix.
 * Paths are relative to the dataset root, `/`-separated. `read` is only ever called with a path `list` returned.
 */
export interface DatasetFiles {
  /** How messages name the dataset: a folder path or `gs://bucket/prefix/`. */
  readonly label: string;
  /** The bucket the dataset lives in (`gs://` paths in a CSV must name it), when it lives in one. */
  readonly bucket?: string;
  /** The object prefix of the dataset inside `bucket` (ending in `/`, or empty). */
  readonly prefix?: string;
  list(): Promise<DatasetEntry[]>;
  read(path: string): Promise<Uint8Array>;
}

export interface DatasetEntry {
  /** A file's path; a folder's path ends in `/` (listed so an empty class folder can be named). */
  path: string;
  /** A symbolic link whose target lies outside the dataset folder: listed so it can be named, never read. */
  escapes?: boolean;
}

function inside(root: string, path: string): boolean {
  return path === root || path.startsWith(root.endsWith(sep) ? root : root + sep);
}

/** A local folder. Symbolic links are followed only when their target stays inside the folder. */
export function localDatasetFiles(dir: string): DatasetFiles {
  let rootReal: string | undefined;
  const allowed = new Set<string>();
  const root = async (): Promise<string> => (rootReal ??= await realpath(dir));
  return {
    label: dir,
    async list() {
      const top = await root().catch(() => {
        throw new KilnError('E_FILE_NOT_FOUND', `${dir}: no such dataset folder`, { hint: 'Check the path' });
      });
      const out: DatasetEntry[] = [];
      const walk = async (abs: string, depth: number): Promise<void> => {
        if (depth > 8) return;
        const entries = await readdir(abs, { withFileTypes: true });
        entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
        for (const e of entries) {
          const full = join(abs, e.name);
          const rel = relative(top, full).split(sep).join('/');
          let isDir = e.isDirectory();
          let isFile = e.isFile();
          if (e.isSymbolicLink()) {
            const target = await realpath(full).catch(() => null);
            if (target === null || !inside(top, target)) {
              out.push({ path: rel, escapes: true });
              continue;
            }
            const info = await lstat(target);
            isDir = info.isDirectory();
            isFile = info.isFile();
          }
          if (isDir) {
            out.push({ path: `${rel}/` });
            await walk(full, depth + 1);
          } else if (isFile) {
            allowed.add(rel);
            out.push({ path: rel });
          }
        }
      };
      await walk(top, 0);
      return out;
    },
    async read(path) {
      const top = await root();
      if (!allowed.has(path)) throw new KilnError('E_BAD_ARGUMENT', `${path} is not a file of the dataset ${dir}`);
      const real = await realpath(join(top, path));
      if (!inside(top, real))
        throw new KilnError('E_BAD_ARGUMENT', `${path} leads outside the dataset folder ${dir}`, {
          hint: 'Copy the file into the dataset folder instead of linking it',
        });
      const b = await readFile(real);
      return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
    },
  };
}

/** Files in memory (a bucket prefix already listed and fetched, or a test fixture). */
export function memoryDatasetFiles(
  label: string,
  files: ReadonlyMap<string, Uint8Array>,
  where: { bucket?: string; prefix?: string } = {},
): DatasetFiles {
  return {
    label,
    ...(where.bucket !== undefined ? { bucket: where.bucket } : {}),
    ...(where.prefix !== undefined ? { prefix: where.prefix } : {}),
    list: () => Promise.resolve([...files.keys()].sort().map((path) => ({ path }))),
    read: (path) => {
      const b = files.get(path);
      if (!b) return Promise.reject(new KilnError('E_FILE_NOT_FOUND', `${label}${path}: no such file`));
      return Promise.resolve(b);
    },
  };
}

/** Objects under a bucket prefix, through any object store client (the pipeline passes its Storage adapter). */
export function bucketDatasetFiles(store: {
  bucket: string;
  prefix: string;
  /** Object names under the prefix (full names). */
  list(prefix: string): Promise<string[]>;
  read(name: string): Promise<Uint8Array>;
}): DatasetFiles {
  const prefix = store.prefix === '' || store.prefix.endsWith('/') ? store.prefix : `${store.prefix}/`;
  let names: Set<string> | undefined;
  return {
    label: `gs://${store.bucket}/${prefix}`,
    bucket: store.bucket,
    prefix,
    async list() {
      const all = (await store.list(prefix)).filter((n) => n.startsWith(prefix) && !n.endsWith('/'));
      names = new Set(all.map((n) => n.slice(prefix.length)));
      return [...names].sort().map((path) => ({ path }));
    },
    async read(path) {
      if (names && !names.has(path))
        throw new KilnError('E_BAD_ARGUMENT', `${path} is not an object of the dataset gs://${store.bucket}/${prefix}`);
      return store.read(prefix + path);
    },
  };
}
