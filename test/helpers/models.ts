import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

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

export { rng } from '../../shared/util/rng.js';
