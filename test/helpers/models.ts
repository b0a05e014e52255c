import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { rng } from '../../shared/util/rng.js';

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
