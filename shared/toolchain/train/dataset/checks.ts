import type { SplitImages } from './split.js';

/** Fewer training images per class than this is an error; fewer than COMFORT a warning. */
export const MIN_IMAGES_PER_CLASS = 5;
export const COMFORT_IMAGES_PER_CLASS = 20;
/** Largest / smallest class above this ratio is a warning. */
export const IMBALANCE_RATIO = 3;

export interface DatasetFindings {
  errors: string[];
  warnings: string[];
}

/** Counts per class over all splits (the classes' order kept). */
export function classCounts(classes: readonly string[], split: SplitImages): Record<string, number> {
  const counts: Record<string, number> = Object.fromEntries(classes.map((c) => [c, 0]));
  for (const s of [split.train, split.validation, split.test]) for (const i of s) counts[i.label]!++;
  return counts;
}

/** The checks that need counts: one class, empty classes, too few images, imbalance. Pure. */
export function checkCounts(
  label: string,
  classes: readonly string[],
  emptyClasses: readonly string[],
  split: SplitImages,
): DatasetFindings {
  const errors: string[] = [];
  const warnings: string[] = [];
  const counts = classCounts(classes, split);
  const empty = [...new Set([...classes, ...emptyClasses])].filter((c) => (counts[c] ?? 0) === 0);
  if (empty.length > 0)
    errors.push(
      `class folder(s) ${empty.join(', ')} of ${label} hold no images; add images (JPEG, PNG, BMP, …) or remove the folder`,
    );
  const real = classes.filter((c) => counts[c]! > 0);
  if (real.length < 2)
    errors.push(
      real.length === 0
        ? `${label} has no labelled images; put one folder of images per class in it, or a CSV of path,label lines`
        : `${label} has only one class (${real[0]}); a classifier needs at least two: add a folder of images for another class`,
    );
  const train: Record<string, number> = Object.fromEntries(real.map((c) => [c, 0]));
  for (const i of split.train) if (i.label in train) train[i.label]!++;
  const few = real.filter((c) => train[c]! < MIN_IMAGES_PER_CLASS);
  if (few.length > 0)
    errors.push(
      `too few training images: ${few.map((c) => `${c} has ${train[c]}`).join(', ')}; each class needs at least ${MIN_IMAGES_PER_CLASS} (${COMFORT_IMAGES_PER_CLASS}+ recommended): add images`,
    );
  const thin = real.filter((c) => train[c]! >= MIN_IMAGES_PER_CLASS && train[c]! < COMFORT_IMAGES_PER_CLASS);
  if (thin.length > 0)
    warnings.push(
      `few training images: ${thin.map((c) => `${c} has ${train[c]}`).join(', ')}; ${COMFORT_IMAGES_PER_CLASS} or more per class train a more reliable model`,
    );
  if (real.length >= 2) {
    const sizes = real.map((c) => counts[c]!);
    const max = Math.max(...sizes);
    const min = Math.min(...sizes);
    if (max > IMBALANCE_RATIO * min)
      warnings.push(
        `classes are imbalanced (${real.map((c) => `${c}: ${counts[c]}`).join(', ')}); the model will favour the larger classes: add images to the smaller ones`,
      );
  }
  return { errors, warnings };
}
