import { KilnError } from '../../common/errors.js';
import type { ModelFiles } from './files.js';
import { isOnnxModel } from './onnx/proto.js';

/** The model formats Kiln reads, decided from file contents (names only break ties). */
export type ModelFormat =
  'tflite' | 'keras-h5' | 'keras-v3' | 'savedmodel' | 'frozen-graph' | 'tfjs-layers' | 'tfjs-graph' | 'onnx';

export interface Detected {
  format: ModelFormat;
  /** Relative path of the main file (model.json, saved_model.pb, the .h5, config.json of a .keras, ...). */
  entry: string;
  /** Folder (relative, '' for the root) that the entry's references resolve against. */
  base: string;
}

const HDF5_MAGIC = [0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a];

export function isHdf5(b: Uint8Array): boolean {
  // The superblock may follow a user block of 512, 1024, 2048, ... bytes.
  for (let off = 0; off + 8 <= b.length && off <= 1 << 20; off = off === 0 ? 512 : off * 2) {
    if (HDF5_MAGIC.every((x, i) => b[off + i] === x)) return true;
  }
  return false;
}

export function isTfliteBytes(b: Uint8Array): boolean {
  return b.length >= 8 && b[4] === 0x54 && b[5] === 0x46 && b[6] === 0x4c && b[7] === 0x33;
}

function looksLikeJson(b: Uint8Array): boolean {
  for (const x of b.subarray(0, 64)) {
    if (x === 0x20 || x === 0x0a || x === 0x0d || x === 0x09 || x === 0xef || x === 0xbb || x === 0xbf) continue;
    return x === 0x7b || x === 0x5b;
  }
  return false;
}

/** Is this protobuf wire data whose first field is `tag` (field number, wire type)? Cheap structural test only. */
function firstProtoField(b: Uint8Array): { field: number; wire: number } | null {
  if (b.length < 2) return null;
  const key = b[0]!;
  if (key & 0x80) return null;
  return { field: key >> 3, wire: key & 7 };
}

export type JsonKind = 'tfjs-layers' | 'tfjs-graph' | 'weights-manifest' | 'keras-config' | 'other';

/** What a parsed JSON document is. */
export function classifyJson(doc: unknown): JsonKind {
  if (Array.isArray(doc)) {
    return doc.length > 0 &&
      doc.every((g) => g && typeof g === 'object' && Array.isArray(g.paths) && Array.isArray(g.weights))
      ? 'weights-manifest'
      : 'other';
  }
  if (!doc || typeof doc !== 'object') return 'other';
  const d = doc as Record<string, any>;
  const topo = d['modelTopology'];
  if (topo && typeof topo === 'object') {
    if (d['format'] === 'graph-model' || Array.isArray(topo.node)) return 'tfjs-graph';
    return 'tfjs-layers';
  }
  if (Array.isArray(d['weightsManifest'])) return 'weights-manifest';
  if (typeof d['class_name'] === 'string' && d['config'] !== undefined) return 'keras-config';
  return 'other';
}

export function parseJson(bytes: Uint8Array, what: string): unknown {
  try {
    return JSON.parse(new TextDecoder().decode(bytes));
  } catch (e) {
    throw new KilnError('E_BAD_ARGUMENT', `${what} is not valid JSON: ${(e as Error).message}`);
  }
}

const noTopology = (files: string[]): KilnError =>
  new KilnError(
    'E_BAD_ARGUMENT',
    `no model topology: ${files.join(', ')} ${files.length > 1 ? 'are bare TF.js weights manifests' : 'is a bare TF.js weights manifest'} (weights only, no layers or graph to convert)`,
    {
      hint: 'Upload the model.json that holds "modelTopology" together with its weight files',
      details: { manifests: files },
    },
  );

const dirOf = (p: string): string => (p.includes('/') ? p.slice(0, p.lastIndexOf('/')) : '');
const depth = (p: string): number => p.split('/').length;

/** Detects the format of a single file from its bytes. */
function detectFile(files: ModelFiles, entry: string): Detected {
  const b = files.read(entry);
  if (!b) throw new KilnError('E_FILE_NOT_FOUND', `${entry}: no such file`);
  if (b.length === 0) throw new KilnError('E_FILE_EMPTY', `${entry} is empty`);
  const base = dirOf(entry);
  if (isTfliteBytes(b)) return { format: 'tflite', entry, base };
  if (isHdf5(b)) return { format: 'keras-h5', entry, base };
  if (looksLikeJson(b)) {
    const kind = classifyJson(parseJson(b, entry));
    if (kind === 'tfjs-layers' || kind === 'tfjs-graph') return { format: kind, entry, base };
    if (kind === 'weights-manifest') throw noTopology([entry]);
    if (kind === 'keras-config') {
      throw new KilnError('E_BAD_ARGUMENT', `${entry} is a Keras model config without weights`, {
        hint: 'Upload the whole model: a .h5, a .keras, or a TF.js model.json with its weights',
      });
    }
    throw new KilnError('E_BAD_ARGUMENT', `${entry} is JSON but not a model (no "modelTopology")`, {
      hint: 'Upload a TF.js model.json',
    });
  }
  if (isOnnxModel(b)) return { format: 'onnx', entry, base };
  const f = firstProtoField(b);
  if (f && f.field === 1 && f.wire === 0) return { format: 'savedmodel', entry, base };
  if (f && ((f.field === 1 && f.wire === 2) || (f.field === 4 && f.wire === 2) || (f.field === 2 && f.wire === 2))) {
    return { format: entry.endsWith('saved_model.pb') ? 'savedmodel' : 'frozen-graph', entry, base };
  }
  throw new KilnError(
    'E_BAD_ARGUMENT',
    `${files.label}${files.entry ? '' : `: ${entry}`} is not a model format Kiln reads`,
    {
      hint: 'Upload a Keras .h5/.keras, a SavedModel folder or archive, a frozen GraphDef .pb, a TF.js model.json, an .onnx, or a .tflite',
    },
  );
}

/** Finds the model in an upload and its format. Refuses, with a reason, what is not a model. */
export function detectFormat(files: ModelFiles): Detected {
  if (files.entry !== undefined) return detectFile(files, files.entry);
  const all = files.list();
  if (all.length === 0)
    throw new KilnError('E_BAD_ARGUMENT', `${files.label} holds no files`, { hint: 'Upload the model folder' });
  const shallowest = (xs: string[]): string[] => {
    const m = Math.min(...xs.map(depth));
    return xs.filter((x) => depth(x) === m);
  };
  const savedModels = all.filter((p) => p === 'saved_model.pb' || p.endsWith('/saved_model.pb'));
  if (savedModels.length > 0) {
    const top = shallowest(savedModels);
    if (top.length > 1) throw ambiguous(files, top);
    return { format: 'savedmodel', entry: top[0]!, base: dirOf(top[0]!) };
  }
  const kerasV3 = all.filter(
    (p) => /(^|\/)config\.json$/.test(p) && all.includes(`${dirOf(p) ? `${dirOf(p)}/` : ''}model.weights.h5`),
  );
  if (kerasV3.length > 0)
    return { format: 'keras-v3', entry: shallowest(kerasV3)[0]!, base: dirOf(shallowest(kerasV3)[0]!) };

  const jsons = all.filter((p) => p.endsWith('.json'));
  const models: { path: string; kind: JsonKind }[] = [];
  const manifests: string[] = [];
  for (const p of jsons) {
    const b = files.read(p)!;
    if (!looksLikeJson(b)) continue;
    let kind: JsonKind;
    try {
      kind = classifyJson(JSON.parse(new TextDecoder().decode(b)));
    } catch {
      continue;
    }
    if (kind === 'tfjs-layers' || kind === 'tfjs-graph') models.push({ path: p, kind });
    else if (kind === 'weights-manifest') manifests.push(p);
  }
  if (models.length > 0) {
    const named = models.filter((m) => m.path === 'model.json' || m.path.endsWith('/model.json'));
    const pick = named.length > 0 ? shallowest(named.map((m) => m.path)) : shallowest(models.map((m) => m.path));
    if (pick.length > 1) throw ambiguous(files, pick);
    const m = models.find((x) => x.path === pick[0])!;
    return { format: m.kind as ModelFormat, entry: m.path, base: dirOf(m.path) };
  }
  // Single-file formats inside a folder or archive, by content.
  const byContent: Detected[] = [];
  for (const p of all) {
    const b = files.read(p)!;
    if (isTfliteBytes(b)) byContent.push({ format: 'tflite', entry: p, base: dirOf(p) });
    else if (isHdf5(b) && !p.endsWith('model.weights.h5'))
      byContent.push({ format: 'keras-h5', entry: p, base: dirOf(p) });
    else if (p.endsWith('.onnx') && isOnnxModel(b)) byContent.push({ format: 'onnx', entry: p, base: dirOf(p) });
    else if (p.endsWith('.pb')) byContent.push({ format: 'frozen-graph', entry: p, base: dirOf(p) });
  }
  if (byContent.length === 1) return byContent[0]!;
  if (byContent.length > 1)
    throw ambiguous(
      files,
      byContent.map((d) => d.entry),
    );
  if (manifests.length > 0) throw noTopology(manifests);
  throw new KilnError(
    'E_BAD_ARGUMENT',
    `no model found in ${files.label} (files: ${all.slice(0, 8).join(', ')}${all.length > 8 ? ', …' : ''})`,
    {
      hint: 'Expected saved_model.pb, a TF.js model.json, a Keras .h5/.keras, a frozen .pb, an .onnx or a .tflite',
    },
  );
}

function ambiguous(files: ModelFiles, paths: string[]): KilnError {
  return new KilnError('E_BAD_ARGUMENT', `${files.label} holds several models: ${paths.join(', ')}`, {
    hint: 'Name the one to convert (the file itself, or a folder holding only it)',
  });
}
