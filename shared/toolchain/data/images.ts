import * as bmp from 'bmp-ts';
import sharp from 'sharp';
import { KilnError } from '../../common/errors.js';
import { DEFAULT_NORMALIZATION, type CalibrationConfig } from './input-config.js';

/** File extensions read as images: sharp decodes all but BMP (libvips has no BMP loader), bmp-ts decodes BMP. */
export const IMAGE_EXTENSIONS = ['.jpg', '.jpeg', '.png', '.bmp', '.webp', '.gif', '.tif', '.tiff'] as const;

export interface ImageTarget {
  height: number;
  width: number;
  channels: 1 | 3;
}

/** A sharp pipeline for any supported file; BMP goes through bmp-ts into sharp's raw input. */
function open(bytes: Uint8Array, name: string): ReturnType<typeof sharp> {
  if (name.toLowerCase().endsWith('.bmp')) {
    let img: { width: number; height: number; data: Uint8Array };
    try {
      img = bmp.decode(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength), { toRGBA: true });
    } catch (e) {
      throw new KilnError('E_BAD_ARGUMENT', `cannot decode the BMP image ${name}: ${(e as Error).message}`);
    }
    // toRGBA gives R,G,B,A with A=0 for images without alpha: keep the three color channels.
    const rgb = Buffer.alloc(img.width * img.height * 3);
    for (let i = 0, j = 0; j < rgb.length; i += 4, j += 3) {
      rgb[j] = img.data[i]!;
      rgb[j + 1] = img.data[i + 1]!;
      rgb[j + 2] = img.data[i + 2]!;
    }
    return sharp(rgb, { raw: { width: img.width, height: img.height, channels: 3 } });
  }
  return sharp(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength), { failOn: 'error' });
}

/** Decoded, resized pixels (uint8, HWC, RGB or gray). */
export async function loadPixels(
  bytes: Uint8Array,
  name: string,
  target: ImageTarget,
  cfg: CalibrationConfig,
): Promise<Uint8Array> {
  const size = cfg.resize ?? { width: target.width, height: target.height };
  if (size.width !== target.width || size.height !== target.height) {
    throw new KilnError(
      'E_SHAPE',
      `calibration.resize ${size.width}x${size.height} does not match the model input ${target.width}x${target.height}`,
      {
        hint: 'Remove calibration.resize from kiln.json or set it to the model input size',
      },
    );
  }
  const fit = cfg.fit === 'squash' ? 'fill' : cfg.fit;
  try {
    let p = open(bytes, name)
      .removeAlpha()
      .resize(size.width, size.height, { fit, background: { r: 0, g: 0, b: 0 } });
    p = target.channels === 1 ? p.grayscale() : p.toColourspace('srgb');
    const { data, info } = await p.raw().toBuffer({ resolveWithObject: true });
    if (info.channels !== target.channels) throw new Error(`got ${info.channels} channels, need ${target.channels}`);
    return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  } catch (e) {
    if (e instanceof KilnError) throw e;
    throw new KilnError('E_BAD_ARGUMENT', `cannot read the calibration image ${name}: ${(e as Error).message}`, {
      hint: `Calibration images must be ${IMAGE_EXTENSIONS.join(', ')}`,
    });
  }
}

/** Pixels → float model input: channel order, then (p − mean) / std or p · scale + offset. Pure. */
export function normalizePixels(pixels: Uint8Array, channels: number, cfg: CalibrationConfig): Float32Array {
  const norm = cfg.normalization ?? DEFAULT_NORMALIZATION;
  const out = new Float32Array(pixels.length);
  const bgr = cfg.channelOrder === 'BGR' && channels === 3;
  const per = (arr: readonly number[], c: number): number => arr[arr.length === 1 ? 0 : c]!;
  for (let i = 0; i < pixels.length; i += channels) {
    for (let c = 0; c < channels; c++) {
      const src = bgr ? channels - 1 - c : c;
      const p = pixels[i + src]!;
      out[i + c] = 'mean' in norm ? (p - per(norm.mean, c)) / per(norm.std, c) : p * norm.scale + norm.offset;
    }
  }
  return out;
}
