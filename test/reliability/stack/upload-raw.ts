import type { Storage } from '@google-cloud/storage';
import { readdir, readFile, stat } from 'node:fs/promises';
import { basename, dirname, join, relative, sep } from 'node:path';
import { buildIdOf } from '../../../shared/pipeline/ids.js';

/**
 * Puts a corpus input into the uploads bucket byte for byte, without Kiln's client-side checks (a hostile client
 * would not run them): a file as `<name><extension>` (its `<stem>.kiln.json` first), a folder as `<name>/…` with its
 * kiln.json (or `{}`) last. Returns the object that starts the build, its generation and the build id.
 */
export interface RawUpload {
  object: string;
  generation: string;
  buildId: string;
  modelId: string;
  bytes: Uint8Array;
}

async function save(storage: Storage, bucket: string, object: string, bytes: Uint8Array | string): Promise<string> {
  const file = storage.bucket(bucket).file(object);
  await file.save(typeof bytes === 'string' ? bytes : Buffer.from(bytes), { resumable: false });
  const [meta] = await file.getMetadata();
  return String(meta.generation);
}

async function walk(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const full = join(dir, e.name);
    if (e.isDirectory()) out.push(...(await walk(full)));
    else out.push(full);
  }
  return out.sort();
}

export async function uploadRaw(storage: Storage, bucket: string, input: string, name: string): Promise<RawUpload> {
  if ((await stat(input)).isDirectory()) {
    let config: Uint8Array | string = '{}';
    for (const file of await walk(input)) {
      const rel = relative(input, file).split(sep).join('/');
      const bytes = new Uint8Array(await readFile(file));
      if (rel === 'kiln.json') config = bytes;
      else await save(storage, bucket, `${name}/${rel}`, bytes);
    }
    const object = `${name}/kiln.json`;
    const generation = await save(storage, bucket, object, config);
    const bytes = typeof config === 'string' ? new TextEncoder().encode(config) : config;
    return { object, generation, buildId: buildIdOf(bucket, object, generation), modelId: name, bytes };
  }
  const file = basename(input);
  const dot = file.indexOf('.');
  const ext = dot >= 0 ? file.slice(dot) : '';
  const stem = dot >= 0 ? file.slice(0, dot) : file;
  const beside = join(dirname(input), `${stem}.kiln.json`);
  const cfg = await readFile(beside).catch(() => undefined);
  if (cfg) await save(storage, bucket, `${name}.kiln.json`, new Uint8Array(cfg));
  const object = `${name}${ext}`;
  const bytes = new Uint8Array(await readFile(input));
  const generation = await save(storage, bucket, object, bytes);
  return { object, generation, buildId: buildIdOf(bucket, object, generation), modelId: name, bytes };
}
