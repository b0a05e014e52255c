import sharp from 'sharp';
import { KilnError } from '../../errors.js';
import type { CalibrationConfig } from '../../data/input-config.js';
import { loadPixels, type ImageTarget } from '../../data/images.js';
import { checkCounts } from './checks.js';
import type { DatasetFiles } from './files.js';
import { nameSome, type LabelledImage } from './layout.js';
import type { Dataset } from './read-dataset.js';
import type { SplitImages } from './split.js';

/** One split's images, decoded and resized to the model input: uint8 HWC pixels, class index per image. */
export interface DecodedSplit {
  paths: string[];
  labels: number[];
  pixels: Uint8Array[];
}

export interface DecodedDataset {
  train: DecodedSplit;
  validation: DecodedSplit;
  test: DecodedSplit;
  /** Image sizes found (`WxH` → count). */
  sizes: Record<string, number>;
  warnings: string[];
}

/** Width and height from the file header (BMP by hand: libvips has no BMP loader). */
async function sizeOf(bytes: Uint8Array, path: string): Promise<string> {
  if (path.toLowerCase().endsWith('.bmp')) {
    if (bytes.length < 26 || bytes[0] !== 0x42 || bytes[1] !== 0x4d) throw new Error('not a BMP file');
    const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    return `${v.getInt32(18, true)}x${Math.abs(v.getInt32(22, true))}`;
  }
  const m = await sharp(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)).metadata();
  if (!m.width || !m.height) throw new Error('no image size in the file');
  return `${m.width}x${m.height}`;
}

/**
 * Decodes every image of the dataset at the model's input size (Kiln's calibration image reader: sharp, bmp-ts for
 * BMP; resize and fit from kiln.json `quantize.calibration`). Unreadable images are skipped with a warning naming
 * them; if that leaves a class with too few images, the dataset checks fail again, naming it. Mixed sizes are a
 * warning: every image is resized to the model input.
 */
export async function decodeDataset(
  files: DatasetFiles,
  dataset: Dataset,
  target: ImageTarget,
  cfg: CalibrationConfig,
  onImage?: (done: number, total: number) => void,
): Promise<DecodedDataset> {
  const index = new Map(dataset.classes.map((c, i) => [c, i]));
  const corrupt: string[] = [];
  const sizes: Record<string, number> = {};
  const total = dataset.splits.train.length + dataset.splits.validation.length + dataset.splits.test.length;
  let done = 0;
  const kept: SplitImages = { train: [], validation: [], test: [] };
  const decodeSplit = async (images: readonly LabelledImage[], into: LabelledImage[]): Promise<DecodedSplit> => {
    const out: DecodedSplit = { paths: [], labels: [], pixels: [] };
    for (const img of images) {
      try {
        const bytes = await files.read(img.path);
        const size = await sizeOf(bytes, img.path);
        const px = await loadPixels(bytes, img.path, target, { ...cfg, resize: undefined });
        sizes[size] = (sizes[size] ?? 0) + 1;
        out.paths.push(img.path);
        out.labels.push(index.get(img.label)!);
        out.pixels.push(px);
        into.push(img);
      } catch (e) {
        if (e instanceof KilnError && e.code === 'E_FILE_NOT_FOUND') throw e;
        corrupt.push(img.path);
      }
      onImage?.(++done, total);
    }
    return out;
  };
  const train = await decodeSplit(dataset.splits.train, kept.train);
  const validation = await decodeSplit(dataset.splits.validation, kept.validation);
  const test = await decodeSplit(dataset.splits.test, kept.test);
  const warnings: string[] = [];
  if (corrupt.length > 0)
    warnings.push(
      `${corrupt.length} image(s) could not be decoded and were skipped: ${nameSome(corrupt)}; re-export them as JPEG or PNG, or remove them`,
    );
  const found = Object.keys(sizes);
  if (found.length > 1)
    warnings.push(
      `images come in ${found.length} sizes (${nameSome(Object.entries(sizes).map(([s, n]) => `${s}: ${n}`))}); each is resized to the model input ${target.width}x${target.height}`,
    );
  if (corrupt.length > 0) {
    const again = checkCounts(dataset.label, dataset.classes, [], kept);
    if (again.errors.length > 0)
      throw new KilnError(
        'E_BAD_ARGUMENT',
        `the dataset ${dataset.label} cannot be trained on once its unreadable images are skipped (${nameSome(corrupt)}): ${again.errors.join('; ')}`,
        { hint: 'Replace the unreadable images with good ones' },
      );
  }
  return { train, validation, test, sizes, warnings };
}
