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
  return haveModels ? readdirSync(MODELS_DIR).filter((f) => f.endsWith('.tflite')).sort() : [];
}

/** Deterministic pseudo-random numbers (mulberry32), so tests need no seed files. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
