import type { ImageTarget } from '../../data/images.js';
import { rng } from '../../util/rng.js';
import type { TrainConfig } from '../config.js';

/**
 * One augmented copy of decoded pixels (HWC uint8, same size): a random crop of up to `crop` of each side resized back
 * (nearest), a left-right flip, a brightness change. Seeded, pure.
 */
export function augmentPixels(
  px: Uint8Array,
  target: ImageTarget,
  o: TrainConfig['augmentation'],
  seed: number,
): Uint8Array {
  const r = rng(seed);
  const { height: H, width: W, channels: C } = target;
  const flip = o.flip && r() < 0.5;
  const cw = Math.max(1, Math.round(W * (1 - r() * o.crop)));
  const ch = Math.max(1, Math.round(H * (1 - r() * o.crop)));
  const x0 = Math.floor(r() * (W - cw + 1));
  const y0 = Math.floor(r() * (H - ch + 1));
  const gain = 1 + (r() * 2 - 1) * o.brightness;
  const out = new Uint8Array(px.length);
  for (let y = 0; y < H; y++) {
    const sy = y0 + Math.min(ch - 1, Math.floor((y * ch) / H));
    for (let x = 0; x < W; x++) {
      const dx = flip ? W - 1 - x : x;
      const sx = x0 + Math.min(cw - 1, Math.floor((dx * cw) / W));
      for (let c = 0; c < C; c++)
        out[(y * W + x) * C + c] = Math.min(255, Math.round(px[(sy * W + sx) * C + c]! * gain));
    }
  }
  return out;
}
