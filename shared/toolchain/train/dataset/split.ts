import { rng } from '../../../common/rng.js';
import type { LabelledImage, Split } from './layout.js';

/** Default share of each class held out for validation and for test when the dataset does not split itself. */
export const DEFAULT_FRACTIONS = { validation: 0.1, test: 0.1 } as const;

export interface SplitImages {
  train: LabelledImage[];
  validation: LabelledImage[];
  test: LabelledImage[];
}

/** Fisher–Yates with the project's seeded generator: same seed and input order → same order. Pure. */
function shuffled<T>(xs: readonly T[], seed: number): T[] {
  const out = [...xs];
  const r = rng(seed);
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(r() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

/** A small stable hash of a class name, so each class gets its own shuffle from one seed. */
function hashName(s: string): number {
  let h = 2166136261;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 16777619);
  return h >>> 0;
}

/**
 * Splits images into train / validation / test. Images that carry a split keep it; the splits the dataset does not
 * provide are made from its unassigned (or train) images, per class (stratified), in a seeded order: the same files
 * and seed always give the same split, whatever order the listing came in. A class keeps at least one training image;
 * each missing split gets at least one image of every class that has three or more. Pure.
 */
export function splitImages(
  images: readonly LabelledImage[],
  seed: number,
  fractions: { validation: number; test: number } = DEFAULT_FRACTIONS,
): SplitImages {
  const out: SplitImages = { train: [], validation: [], test: [] };
  const given = new Set(images.flatMap((i) => (i.split ? [i.split] : [])));
  const missing = (['validation', 'test'] as const).filter((s) => !given.has(s));
  const pool = new Map<string, LabelledImage[]>();
  for (const img of images) {
    if (img.split && img.split !== 'train') out[img.split].push(img);
    else if (img.split === 'train' && missing.length === 0) out.train.push(img);
    else pool.set(img.label, [...(pool.get(img.label) ?? []), img]);
  }
  for (const label of [...pool.keys()].sort()) {
    const sorted = [...pool.get(label)!].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
    const order = shuffled(sorted, (seed ^ hashName(label)) >>> 0);
    const n = order.length;
    const take = (s: Split): number =>
      missing.includes(s as 'validation' | 'test')
        ? Math.max(n >= 3 ? 1 : 0, Math.round(n * fractions[s as 'test']))
        : 0;
    let nTest = take('test');
    let nVal = take('validation');
    while (nTest + nVal > n - 1 && nTest + nVal > 0) {
      if (nVal > nTest) nVal--;
      else nTest--;
    }
    out.test.push(...order.slice(0, nTest).map((i) => ({ ...i, split: 'test' as const })));
    out.validation.push(...order.slice(nTest, nTest + nVal).map((i) => ({ ...i, split: 'validation' as const })));
    out.train.push(...order.slice(nTest + nVal).map((i) => ({ ...i, split: 'train' as const })));
  }
  const byPath = (a: LabelledImage, b: LabelledImage): number => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0);
  for (const s of ['train', 'validation', 'test'] as const) out[s].sort(byPath);
  return out;
}
