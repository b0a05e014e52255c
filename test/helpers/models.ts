import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { rng } from '../../shared/common/rng.js';

/** ../shared/models beside the repo (tests that need it skip when it is absent). */
export const MODELS_DIR = fileURLToPath(new URL('../../../shared/models/', import.meta.url));
export const FRONTENDS_DIR = join(MODELS_DIR, 'frontends');
export const haveModels = existsSync(join(MODELS_DIR, 'README.md'));

export function modelPath(name: string): string {
  return join(MODELS_DIR, name);
}

export function tfliteFiles(): string[] {
  return haveModels
    ? readdirSync(MODELS_DIR)
        .filter((f) => f.endsWith('.tflite'))
        .sort()
    : [];
}

export { rng };

/** `n` samples of one input of `size` values, uniform in [−1, 1), drawn from `rng(seed)` (calibration fixtures). */
export function uniformSamples(n: number, size: number, seed: number): Float32Array[][] {
  const r = rng(seed);
  return Array.from({ length: n }, () => [Float32Array.from({ length: size }, () => r() * 2 - 1)]);
}

/**
 * The TF.js graph models of the npm package @vladmandic/human (MoveNet, CenterNet, BlazeFace, FaceMesh, …; 43 MB, so
 * not a dependency): `KILN_HUMAN_MODELS`, else the package in this repo's node_modules, else one installed with
 * `npm install --prefix /tmp/human @vladmandic/human`. Null when none is there (tests that need them skip).
 */
export const HUMAN_MODELS_DIR: string | null =
  [
    process.env.KILN_HUMAN_MODELS,
    fileURLToPath(new URL('../../node_modules/@vladmandic/human/models/', import.meta.url)),
    '/tmp/human/node_modules/@vladmandic/human/models',
  ].find((d): d is string => d !== undefined && d !== '' && existsSync(join(d, 'movenet-lightning.json'))) ?? null;

/** Every model of ../shared/models/frontends (and of @vladmandic/human when installed): files and model folders. */
export function realModelEntries(): string[] {
  const out: string[] = [];
  const walk = (dir: string): void => {
    const names = readdirSync(dir, { withFileTypes: true });
    if (names.some((e) => e.name === 'saved_model.pb' || e.name === 'model.json')) {
      out.push(dir);
      if (!names.some((e) => e.name === 'saved_model.pb')) {
        for (const e of names)
          if (e.isFile() && e.name.endsWith('.json') && e.name !== 'model.json') out.push(join(dir, e.name));
      }
      return;
    }
    for (const e of names) {
      const p = join(dir, e.name);
      if (e.isDirectory() && e.name !== 'licenses') walk(p);
      else if (e.isFile() && /\.(json|pb|h5|hdf5|keras|tflite)$/.test(e.name) && e.name !== 'models.json') out.push(p);
    }
  };
  if (haveModels) walk(FRONTENDS_DIR);
  if (HUMAN_MODELS_DIR) walk(HUMAN_MODELS_DIR);
  return out.sort();
}
