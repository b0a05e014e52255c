import { readdir, readFile, stat } from 'node:fs/promises';
import { extname, join } from 'node:path';
import { KilnError } from '../../common/errors.js';
import { numElements } from '../ir/graph.js';
import type { Tensor } from '../ir/types.js';
import type { CalibrationConfig } from './input-config.js';
import { IMAGE_EXTENSIONS, loadPixels, normalizePixels, type ImageTarget } from './images.js';
import { readNpyFloat32 as readNpy } from '../npy/index.js';
import { rng } from '../../common/rng.js';

/** One calibration sample: one float32 array per model input, in input order. */
export type Sample = Float32Array[];

export interface CalibrationSet {
  samples: Sample[];
  source: 'images' | 'npy' | 'synthetic';
  files: string[];
  warnings: string[];
}

export const SYNTHETIC_WARNING =
  'NO CALIBRATION DATA: ranges come from synthetic inputs, not from real data. Accuracy on real inputs is unknown; pass --calibration DIR with real images or .npy samples';

/** [1, H, W, 1|3] float inputs are images. */
export function imageTargetOf(t: Tensor): ImageTarget | null {
  const s = t.shape;
  if (s.length !== 4 || s[0] !== 1 || (s[3] !== 1 && s[3] !== 3)) return null;
  return { height: s[1]!, width: s[2]!, channels: s[3] as 1 | 3 };
}

/**
 * Pixels as an image input takes them: normalized for a float input; raw 0–255 values for an integer input (a model
 * that takes int32 pixels, as MoveNet does, casts and normalizes them itself).
 */
function pixelValues(t: Tensor, px: Uint8Array, channels: number, cfg: CalibrationConfig): Float32Array {
  if (t.dtype === 'float32') return normalizePixels(px, channels, cfg);
  return normalizePixels(px, channels, { ...cfg, normalization: { scale: 1, offset: 0 } });
}

/**
 * Calibration samples from a folder of images or .npy files (sorted by name, the first `max`), or synthetic inputs
 * when no folder is given. Images need a single [1,H,W,C] model input; .npy files hold one sample shaped like the
 * (single) input, with or without the batch dimension.
 */
export async function loadCalibrationSet(
  dir: string | undefined,
  inputs: Tensor[],
  cfg: CalibrationConfig,
  max: number,
  onFile?: (done: number, total: number) => void,
): Promise<CalibrationSet> {
  if (dir === undefined) return syntheticSet(inputs, cfg, max);
  const info = await stat(dir).catch(() => null);
  if (!info?.isDirectory())
    throw new KilnError('E_FILE_NOT_FOUND', `calibration folder ${dir} does not exist`, {
      hint: 'Pass --calibration with a folder of images or .npy files',
    });
  const names = (await readdir(dir)).sort();
  const npy = names.filter((n) => extname(n).toLowerCase() === '.npy');
  const images = names.filter((n) => (IMAGE_EXTENSIONS as readonly string[]).includes(extname(n).toLowerCase()));
  if (npy.length === 0 && images.length === 0) {
    throw new KilnError('E_BAD_ARGUMENT', `calibration folder ${dir} has no images or .npy files`, {
      hint: `Put ${IMAGE_EXTENSIONS.join(', ')} or .npy files in it`,
    });
  }
  if (inputs.length !== 1) {
    throw new KilnError(
      'E_BAD_ARGUMENT',
      `the model has ${inputs.length} inputs; a calibration folder can feed only single-input models`,
      { hint: 'Quantize without --calibration (synthetic data) or use a single-input model' },
    );
  }
  const input = inputs[0]!;
  const files = (npy.length > 0 ? npy : images).slice(0, max);
  const samples: Sample[] = [];
  const target = imageTargetOf(input);
  const warnings: string[] = [];
  if (npy.length > 0 && images.length > 0)
    warnings.push(`calibration folder has both .npy files and images: used the ${npy.length} .npy files`);
  if (npy.length === 0 && !target) {
    throw new KilnError(
      'E_SHAPE',
      `the model input ${input.name} [${input.shape.join(',')}] is not an image ([1,H,W,1|3])`,
      { hint: 'Calibrate it with .npy samples' },
    );
  }
  if (npy.length === 0 && !cfg.normalization && input.dtype === 'float32')
    warnings.push('kiln.json gives no calibration.normalization: pixels were mapped to [-1, 1] ((p - 127.5) / 127.5)');
  const need = numElements(input.shape);
  for (const name of files) {
    const bytes = await readFile(join(dir, name));
    if (npy.length > 0) {
      const arr = readNpy(bytes, name);
      if (arr.data.length !== need) {
        throw new KilnError(
          'E_SHAPE',
          `${name} has shape [${arr.shape.join(',')}] (${arr.data.length} values); the input ${input.name} needs [${input.shape.join(',')}]`,
          {
            hint: 'Save one sample per .npy file, shaped like the model input',
          },
        );
      }
      samples.push([arr.data]);
    } else {
      samples.push([pixelValues(input, await loadPixels(bytes, name, target!, cfg), target!.channels, cfg)]);
    }
    onFile?.(samples.length, files.length);
  }
  return { samples, source: npy.length > 0 ? 'npy' : 'images', files, warnings };
}

/** Smooth random images (gradients + blobs + noise) through the configured normalization; uniform [0, 1) otherwise. */
function syntheticSet(inputs: Tensor[], cfg: CalibrationConfig, max: number): CalibrationSet {
  const r = rng(12345);
  const samples: Sample[] = [];
  const n = Math.min(max, 64);
  for (let k = 0; k < n; k++) {
    samples.push(
      inputs.map((t) => {
        const target = imageTargetOf(t);
        if (!target) return Float32Array.from({ length: numElements(t.shape) }, () => r());
        const { height: H, width: W, channels: C } = target;
        const px = new Uint8Array(H * W * C);
        const base = Array.from({ length: C }, () => r() * 255);
        const gx = Array.from({ length: C }, () => (r() - 0.5) * 255);
        const gy = Array.from({ length: C }, () => (r() - 0.5) * 255);
        const cx = r() * W,
          cy = r() * H,
          rad = (0.1 + r() * 0.4) * Math.max(H, W);
        for (let y = 0; y < H; y++)
          for (let x = 0; x < W; x++) {
            const blob = Math.hypot(x - cx, y - cy) < rad ? 60 : 0;
            for (let c = 0; c < C; c++) {
              const v = base[c]! + (gx[c]! * x) / W + (gy[c]! * y) / H + blob + (r() - 0.5) * 30;
              px[(y * W + x) * C + c] = Math.max(0, Math.min(255, Math.round(v)));
            }
          }
        return pixelValues(t, px, C, cfg);
      }),
    );
  }
  return { samples, source: 'synthetic', files: [], warnings: [SYNTHETIC_WARNING] };
}
