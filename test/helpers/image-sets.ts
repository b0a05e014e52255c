import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import sharp from 'sharp';
import { rng } from '../../shared/common/rng.js';

/**
 * Generated labelled images for training tests: three classes a small base model tells apart — a red disc, green
 * horizontal stripes, blue vertical stripes — each drawn at a random place, size, stripe period and shade, on a
 * noisy background. Deterministic per (class, index, seed).
 */
export const SHAPE_CLASSES = ['disc', 'hstripes', 'vstripes'] as const;

export function shapePixels(cls: number, index: number, size: number, seed = 7): Uint8Array {
  const r = rng(seed * 1000003 + cls * 7919 + index * 104729);
  const px = new Uint8Array(size * size * 3);
  const shade = 150 + Math.floor(r() * 100);
  const period = 6 + Math.floor(r() * 10);
  const phase = Math.floor(r() * period);
  const cx = size * (0.3 + r() * 0.4);
  const cy = size * (0.3 + r() * 0.4);
  const rad = size * (0.2 + r() * 0.15);
  const bg = 40 + Math.floor(r() * 60);
  for (let y = 0; y < size; y++)
    for (let x = 0; x < size; x++) {
      const o = (y * size + x) * 3;
      let rgb = [bg, bg, bg];
      if (cls === 0 && Math.hypot(x - cx, y - cy) < rad) rgb = [shade, 30, 30];
      if (cls === 1 && Math.floor((y + phase) / (period / 2)) % 2 === 0) rgb = [30, shade, 30];
      if (cls === 2 && Math.floor((x + phase) / (period / 2)) % 2 === 0) rgb = [30, 30, shade];
      for (let c = 0; c < 3; c++) px[o + c] = Math.max(0, Math.min(255, rgb[c]! + Math.round((r() - 0.5) * 40)));
    }
  return px;
}

export async function shapePng(cls: number, index: number, size: number, seed = 7): Promise<Uint8Array> {
  const buf = await sharp(shapePixels(cls, index, size, seed), { raw: { width: size, height: size, channels: 3 } })
    .png()
    .toBuffer();
  return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
}

/** `perClass` PNGs per class, as `class/img-NNN.png` (or under `prefix/`). */
export async function shapeFiles(
  perClass: number,
  size: number,
  opts: { seed?: number; prefix?: string; classes?: number } = {},
): Promise<Map<string, Uint8Array>> {
  const files = new Map<string, Uint8Array>();
  const nClasses = opts.classes ?? SHAPE_CLASSES.length;
  for (let c = 0; c < nClasses; c++)
    for (let i = 0; i < perClass; i++) {
      const name = `${opts.prefix ? `${opts.prefix}/` : ''}${SHAPE_CLASSES[c]}/img-${String(i).padStart(3, '0')}.png`;
      files.set(name, await shapePng(c, i, size, opts.seed));
    }
  return files;
}

export async function writeFiles(dir: string, files: ReadonlyMap<string, Uint8Array>): Promise<void> {
  for (const [name, bytes] of files) {
    await mkdir(join(dir, name, '..'), { recursive: true });
    await writeFile(join(dir, name), bytes);
  }
}
