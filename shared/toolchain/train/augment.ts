import { rng } from '../../common/rng.js';
/**
 * Training-time augmentation of NHWC float images: a random shift of up to `maxShift` pixels each way (edge pixels
 * repeat into the gap) and, when enabled, a random horizontal flip. Pure: `rand` supplies the randomness.
 */
export interface AugmentOptions {
  maxShift: number;
  flipHorizontal: boolean;
}

export function augmentBatch(
  src: Float32Array,
  count: number,
  shape: readonly [number, number, number],
  o: AugmentOptions,
  rand: () => number,
): Float32Array {
  const [H, W, C] = shape;
  const per = H * W * C;
  const out = new Float32Array(count * per);
  for (let n = 0; n < count; n++) {
    const dy = Math.round((rand() * 2 - 1) * o.maxShift);
    const dx = Math.round((rand() * 2 - 1) * o.maxShift);
    const flip = o.flipHorizontal && rand() < 0.5;
    const base = n * per;
    for (let y = 0; y < H; y++) {
      const sy = Math.min(H - 1, Math.max(0, y - dy));
      for (let x = 0; x < W; x++) {
        const fx = flip ? W - 1 - x : x;
        const sx = Math.min(W - 1, Math.max(0, fx - dx));
        const s = base + (sy * W + sx) * C;
        const d = base + (y * W + x) * C;
        for (let c = 0; c < C; c++) out[d + c] = src[s + c]!;
      }
    }
  }
  return out;
}

/** The seeded generator of a training run (mulberry32, shared/common/rng.ts), so that a run can be repeated. */
export const seededRandom = rng;
