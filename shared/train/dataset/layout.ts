import { extname } from 'node:path';
import { IMAGE_EXTENSIONS } from '../../data/images.js';
import type { DatasetEntry } from './files.js';

/**
 * Which image is which class, from a dataset's file listing (pure): one folder per class, `train/` `validation/`
 * `test/` folders with class folders inside, or an AutoML Vision-style CSV (`[TRAIN|VALIDATION|TEST,]path,label`).
 * Every path is checked to stay inside the dataset: nothing outside it is ever named for reading.
 */
export const SPLITS = ['train', 'validation', 'test'] as const;
export type Split = (typeof SPLITS)[number];

export interface LabelledImage {
  /** Path relative to the dataset root. */
  path: string;
  label: string;
  /** The split the dataset assigned; absent when splitting is left to Kiln. */
  split?: Split;
}

export interface DatasetIndex {
  layout: 'class-folders' | 'split-folders' | 'csv';
  /** Class names, sorted: the model's output order. */
  classes: string[];
  images: LabelledImage[];
  /** Class folders without a single image (an error unless the class has images in another split). */
  emptyClasses: string[];
  errors: string[];
  warnings: string[];
}

const SPLIT_FOLDERS: Record<string, Split> = {
  train: 'train',
  training: 'train',
  validation: 'validation',
  val: 'validation',
  valid: 'validation',
  test: 'test',
  testing: 'test',
};
const CSV_SETS: Record<string, Split | undefined> = {
  TRAIN: 'train',
  TRAINING: 'train',
  VALIDATION: 'validation',
  VALIDATE: 'validation',
  TEST: 'test',
  UNASSIGNED: undefined,
};
const CSV_HEADERS = new Set(['path', 'image', 'file', 'filename', 'uri', 'image_path', 'gcs_file_path']);
/** Top-level folders that are never classes. */
const NOT_CLASSES = new Set(['calibration']);

export function isImagePath(path: string): boolean {
  return (IMAGE_EXTENSIONS as readonly string[]).includes(extname(path).toLowerCase());
}

/** A label that can name a class folder: no separators, no `.`/`..`, no control characters. */
export function labelProblem(label: string): string | null {
  if (label === '') return 'is empty';
  if (label === '.' || label === '..') return `is "${label}"`;
  if (/[/\\]/.test(label)) return 'contains a path separator';
  // eslint-disable-next-line no-control-regex
  if (/[\x00-\x1f\x7f]/.test(label)) return 'contains a control character';
  if (label.length > 128) return 'is longer than 128 characters';
  return null;
}

/** Where a path written in a CSV points, relative to the dataset root, or why it may not be read. */
export function resolveCsvPath(
  raw: string,
  where: { bucket?: string; prefix?: string; csvDir: string },
): { path: string } | { problem: string } {
  const p = raw.trim().replaceAll('\\', '/');
  if (p === '') return { problem: 'is empty' };
  if (/^gs:\/\//i.test(p)) {
    const m = /^gs:\/\/([^/]+)\/(.+)$/i.exec(p);
    if (!m) return { problem: 'is not a gs://bucket/object path' };
    const [, bucket, object] = m as unknown as [string, string, string];
    if (where.bucket === undefined)
      return { problem: 'is a gs:// path, but the dataset is a local folder: write paths relative to the folder' };
    if (bucket !== where.bucket)
      return {
        problem: `names the bucket ${bucket}, not the dataset's bucket ${where.bucket}: copy the images into the dataset folder`,
      };
    const prefix = where.prefix ?? '';
    if (!object.startsWith(prefix) || object.split('/').some((s) => s === '..' || s === '.'))
      return { problem: `lies outside the dataset folder gs://${bucket}/${prefix}` };
    return { path: object.slice(prefix.length) };
  }
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(p)) return { problem: 'is a URL; only paths inside the dataset are read' };
  if (p.startsWith('/') || /^[A-Za-z]:/.test(p)) return { problem: 'is an absolute path' };
  const parts = [...where.csvDir.split('/').filter(Boolean), ...p.split('/')];
  if (parts.some((s) => s === '..')) return { problem: 'contains ".." (a path out of the dataset folder)' };
  return { path: parts.filter((s) => s !== '.' && s !== '').join('/') };
}

/** One CSV line into fields (double-quoted fields may hold commas; "" is a quote). */
function csvFields(line: string): string[] {
  const out: string[] = [];
  let cur = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (quoted) {
      if (c === '"' && line[i + 1] === '"') {
        cur += '"';
        i++;
      } else if (c === '"') quoted = false;
      else cur += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      out.push(cur.trim());
      cur = '';
    } else cur += c;
  }
  out.push(cur.trim());
  return out;
}

const MAX_NAMED = 5;
export function nameSome(items: readonly string[]): string {
  const shown = items.slice(0, MAX_NAMED).join(', ');
  return items.length > MAX_NAMED ? `${shown} and ${items.length - MAX_NAMED} more` : shown;
}

/** The index of a CSV dataset. `csvPath` is the CSV's own path in the listing. */
export function indexCsv(
  csvPath: string,
  text: string,
  entries: readonly DatasetEntry[],
  where: { bucket?: string; prefix?: string },
): DatasetIndex {
  const files = new Set(entries.filter((e) => !e.escapes && !e.path.endsWith('/')).map((e) => e.path));
  const escaping = new Set(entries.filter((e) => e.escapes).map((e) => e.path));
  const csvDir = csvPath.includes('/') ? csvPath.slice(0, csvPath.lastIndexOf('/')) : '';
  const errors: string[] = [];
  const warnings: string[] = [];
  const bad: string[] = [];
  const missing: string[] = [];
  const badLabels: string[] = [];
  const notImages: string[] = [];
  const images: LabelledImage[] = [];
  const seen = new Set<string>();
  const lines = text.split(/\r?\n/);
  lines.forEach((line, i) => {
    const n = i + 1;
    if (line.trim() === '' || line.trimStart().startsWith('#')) return;
    const f = csvFields(line);
    const hasSet = f.length >= 3 && f[0]!.toUpperCase() in CSV_SETS;
    const [set, path, label] = hasSet ? [f[0]!.toUpperCase(), f[1]!, f[2]!] : [undefined, f[0]!, f[1]];
    if (n === 1 && CSV_HEADERS.has(path.toLowerCase())) return;
    if (label === undefined) {
      bad.push(`line ${n} has no label`);
      return;
    }
    const lp = labelProblem(label);
    if (lp) {
      badLabels.push(`line ${n}: label "${label}" ${lp}`);
      return;
    }
    const r = resolveCsvPath(path, { ...where, csvDir });
    if ('problem' in r) {
      bad.push(`line ${n}: ${path} ${r.problem}`);
      return;
    }
    if (escaping.has(r.path)) {
      bad.push(`line ${n}: ${path} is a symbolic link out of the dataset folder`);
      return;
    }
    if (!files.has(r.path)) {
      missing.push(`line ${n}: ${path}`);
      return;
    }
    if (!isImagePath(r.path)) {
      notImages.push(path);
      return;
    }
    const split = set === undefined ? undefined : CSV_SETS[set];
    const key = `${r.path}\0${label}`;
    if (seen.has(key)) return;
    seen.add(key);
    images.push({ path: r.path, label, ...(split ? { split } : {}) });
  });
  if (bad.length > 0)
    errors.push(
      `${csvPath} names paths Kiln will not read (${nameSome(bad)}); every image must be inside the dataset folder, named relative to it or by gs:// in the same bucket and prefix`,
    );
  if (badLabels.length > 0)
    errors.push(`${csvPath} has labels that cannot name a class (${nameSome(badLabels)}); use plain class names`);
  if (missing.length > 0)
    errors.push(
      `${csvPath} names ${missing.length} file(s) that are not in the dataset (${nameSome(missing)}); upload them or remove their lines`,
    );
  if (notImages.length > 0)
    warnings.push(`${csvPath} names ${notImages.length} file(s) that are not images, skipped: ${nameSome(notImages)}`);
  const classes = [...new Set(images.map((i) => i.label))].sort();
  return { layout: 'csv', classes, images, emptyClasses: [], errors, warnings };
}

/** The index of a folder dataset: class folders, or split folders with class folders inside. */
export function indexFolders(entries: readonly DatasetEntry[]): DatasetIndex {
  const errors: string[] = [];
  const warnings: string[] = [];
  const escaping = entries.filter((e) => e.escapes).map((e) => e.path);
  if (escaping.length > 0)
    errors.push(
      `the dataset has symbolic links that lead outside its folder (${nameSome(escaping)}); Kiln never reads them: copy the files into the dataset instead`,
    );
  const top = new Set(entries.map((e) => e.path.split('/')[0]!).filter((_, i) => entries[i]!.path.includes('/')));
  const splitFolders = [...top].filter((d) => d.toLowerCase() in SPLIT_FOLDERS);
  const layout = splitFolders.length > 0 ? 'split-folders' : 'class-folders';
  const images: LabelledImage[] = [];
  const folders = new Map<string, number>(); // `split/class` or `class` → images
  const ignored: string[] = [];
  for (const e of entries) {
    if (e.escapes) continue;
    const parts = e.path.split('/');
    const isDir = e.path.endsWith('/');
    if (isDir) parts.pop();
    let split: Split | undefined;
    if (layout === 'split-folders') {
      const s = SPLIT_FOLDERS[parts[0]!.toLowerCase()];
      if (!s) {
        if (!isDir && parts.length > 1) ignored.push(e.path);
        continue;
      }
      split = s;
      parts.shift();
    }
    if (parts.length === 0 || NOT_CLASSES.has(parts[0]!)) continue;
    const label = parts[0]!;
    const key = split ? `${split}/${label}` : label;
    if (isDir) {
      if (parts.length === 1 && !folders.has(key)) folders.set(key, 0);
      continue;
    }
    if (parts.length === 1) {
      if (isImagePath(e.path)) ignored.push(e.path);
      continue; // files beside the class folders (kiln.json, a README, …)
    }
    if (!isImagePath(e.path)) {
      ignored.push(e.path);
      continue;
    }
    folders.set(key, (folders.get(key) ?? 0) + 1);
    images.push({ path: e.path, label, ...(split ? { split } : {}) });
  }
  const bad = [...folders.keys()].filter((k) => labelProblem(k.split('/').pop()!) !== null);
  if (bad.length > 0) errors.push(`class folders with unusable names: ${nameSome(bad)}; rename them`);
  if (ignored.length > 0)
    warnings.push(`${ignored.length} file(s) are not images in a class folder and were skipped: ${nameSome(ignored)}`);
  const classes = [...new Set([...folders.keys()].map((k) => k.split('/').pop()!))].sort();
  const counts = new Map<string, number>();
  for (const img of images) counts.set(img.label, (counts.get(img.label) ?? 0) + 1);
  const emptyClasses = classes.filter((c) => !counts.has(c));
  return { layout, classes, images, emptyClasses, errors, warnings };
}
