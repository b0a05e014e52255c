/**
 * A MINIMAL image-folder reader for training (one subfolder per class, sorted class names; every image decoded with
 * sharp to the size and channel count of the first one, scaled to [0, 1]). A stand-in until the training dataset
 * reader (folder/CSV reading, splits, validation) lands; the bench and trainAutoml callers use it through this one
 * function so it can be swapped.
 */
import { readdir } from 'node:fs/promises';
import { extname, join } from 'node:path';
import sharp from 'sharp';
import type { ImageSplit } from './automl.js';

const EXTENSIONS = new Set(['.png', '.jpg', '.jpeg', '.bmp', '.webp']);

export interface ImageFolder extends ImageSplit {
  shape: [number, number, number];
  classNames: string[];
}

export async function readImageFolderMinimal(dir: string, classNames?: string[]): Promise<ImageFolder> {
  const classes =
    classNames ??
    (await readdir(dir, { withFileTypes: true }))
      .filter((e) => e.isDirectory())
      .map((e) => e.name)
      .sort();
  const files: { path: string; label: number }[] = [];
  for (const [label, name] of classes.entries()) {
    for (const f of (await readdir(join(dir, name))).sort())
      if (EXTENSIONS.has(extname(f).toLowerCase())) files.push({ path: join(dir, name, f), label });
  }
  if (files.length === 0) throw new Error(`no images in ${dir} (expected one subfolder of images per class)`);
  const first = await sharp(files[0]!.path).raw().toBuffer({ resolveWithObject: true });
  const shape: [number, number, number] = [first.info.height, first.info.width, first.info.channels];
  const per = shape[0] * shape[1] * shape[2];
  const images = new Float32Array(files.length * per);
  const labels = new Int32Array(files.length);
  const CONCURRENCY = 16;
  for (let i = 0; i < files.length; i += CONCURRENCY) {
    await Promise.all(
      files.slice(i, i + CONCURRENCY).map(async (f, k) => {
        let img = sharp(f.path).resize(shape[1], shape[0], { fit: 'fill' });
        img = shape[2] === 1 ? img.greyscale() : img.removeAlpha();
        const px = await img.raw().toBuffer();
        const n = i + k;
        for (let j = 0; j < per; j++) images[n * per + j] = px[j]! / 255;
        labels[n] = f.label;
      }),
    );
  }
  return { images, labels, count: files.length, shape, classNames: classes };
}
