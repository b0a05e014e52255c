import { readdir, readFile, stat } from 'node:fs/promises';
import { basename, extname, join } from 'node:path';
import { KilnError } from '../../../common/errors.js';
import { numElements } from '../../ir/graph.js';
import type { Tensor } from '../../ir/types.js';
import type { CalibrationConfig } from '../../data/input-config.js';
import { imageTargetOf, loadCalibrationSet, type Sample } from '../../data/dataset.js';
import { IMAGE_EXTENSIONS, loadPixels, normalizePixels } from '../../data/images.js';
import { readNpyFloat32 as readNpy } from '../../npy/index.js';

/** Validation samples with their labels (class index per sample, or null when unlabelled). */
export interface ValidationSet {
  samples: Sample[];
  labels: (number | null)[] | null;
  /** Class names by index when known (labels file or folder names). */
  classes: string[] | null;
  files: string[];
  /** Data files found (the loader reads at most `max` of them); null for synthetic inputs. */
  available: number | null;
  source: 'labelled-folders' | 'labels-file' | 'unlabelled-folder' | 'synthetic';
  warnings: string[];
}

const isData = (n: string): boolean =>
  extname(n).toLowerCase() === '.npy' || (IMAGE_EXTENSIONS as readonly string[]).includes(extname(n).toLowerCase());

/**
 * A labels file: one class name per line (index = line), or `file,label` / `file label` lines mapping a file name to a
 * class index or name. Pure.
 */
export function parseLabelsFile(text: string): { classes: string[] | null; byFile: Map<string, string> | null } {
  const lines = text
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'));
  const pairs = lines.map((l) => l.match(/^(\S+?)(?:\s*,\s*|\s+)(.+)$/));
  if (lines.length > 0 && pairs.every((p) => p !== null && isData(p[1]!))) {
    return { classes: null, byFile: new Map(pairs.map((p) => [basename(p![1]!), p![2]!.trim()])) };
  }
  return { classes: lines, byFile: null };
}

function classIndex(label: string, classes: string[] | null, where: string): number {
  if (classes) {
    const i = classes.indexOf(label);
    if (i >= 0) return i;
  }
  if (/^\d+$/.test(label)) return Number(label);
  throw new KilnError(
    'E_BAD_ARGUMENT',
    `label "${label}" of ${where} is neither a class index nor a known class name`,
    {
      hint: 'Give labels as class indices, or pass a labels file with one class name per line',
    },
  );
}

async function loadSample(path: string, input: Tensor, cfg: CalibrationConfig): Promise<Sample> {
  const bytes = await readFile(path);
  const name = basename(path);
  if (extname(name).toLowerCase() === '.npy') {
    const arr = readNpy(bytes, name);
    if (arr.data.length !== numElements(input.shape))
      throw new KilnError(
        'E_SHAPE',
        `${name} has ${arr.data.length} values; the input needs [${input.shape.join(',')}]`,
      );
    return [arr.data];
  }
  const target = imageTargetOf(input);
  if (!target)
    throw new KilnError('E_SHAPE', `the model input [${input.shape.join(',')}] is not an image`, {
      hint: 'Validate it with .npy samples',
    });
  return [normalizePixels(await loadPixels(bytes, name, target, cfg), target.channels, cfg)];
}

/**
 * Validation data: a folder with one sub-folder per class (class index = position of the folder name in the labels
 * file when given, else sorted folder order, as Keras' flow_from_directory), or a flat folder labelled by a
 * `file,label` labels file, or an unlabelled flat folder. Without a folder: synthetic inputs (agreement only). At most
 * `max` samples, spread over the classes in order.
 */
export async function loadValidationSet(
  dir: string | undefined,
  labelsPath: string | undefined,
  inputs: Tensor[],
  cfg: CalibrationConfig,
  max: number,
): Promise<ValidationSet> {
  if (dir === undefined) {
    const synth = await loadCalibrationSet(undefined, inputs, cfg, max + 64);
    // Skip the first 64 synthetic samples: the quantizer calibrates on those when it has no data.
    const samples = synth.samples.length > max ? synth.samples.slice(-max) : synth.samples;
    return {
      samples,
      labels: null,
      classes: null,
      files: [],
      available: null,
      source: 'synthetic',
      warnings: [
        'NO VALIDATION DATA: accuracy was measured as float vs int8 agreement on synthetic inputs; pass --validation DIR with labelled images for top-1/top-5',
      ],
    };
  }
  if (!(await stat(dir).catch(() => null))?.isDirectory())
    throw new KilnError('E_FILE_NOT_FOUND', `validation folder ${dir} does not exist`, {
      hint: 'Pass --validation with a folder of images (one sub-folder per class) or .npy files',
    });
  if (inputs.length !== 1)
    throw new KilnError('E_BAD_ARGUMENT', `the model has ${inputs.length} inputs; validation folders feed one input`);
  const labelsFile = labelsPath
    ? parseLabelsFile(
        await readFile(labelsPath, 'utf8').catch(() => {
          throw new KilnError('E_FILE_NOT_FOUND', `labels file ${labelsPath} does not exist`);
        }),
      )
    : null;
  const entries = (await readdir(dir, { withFileTypes: true })).sort((a, b) => (a.name < b.name ? -1 : 1));
  const subdirs = entries.filter((e) => e.isDirectory()).map((e) => e.name);
  const flat = entries.filter((e) => e.isFile() && isData(e.name)).map((e) => e.name);
  const picked: { path: string; label: number | null }[] = [];
  let available = flat.length;
  let classes = labelsFile?.classes ?? null;
  let source: ValidationSet['source'];
  if (subdirs.length > 0) {
    source = 'labelled-folders';
    classes ??= subdirs;
    const perClass = await Promise.all(
      subdirs.map(async (d) =>
        (await readdir(join(dir, d)))
          .filter(isData)
          .sort()
          .map((f) => ({
            path: join(dir, d, f),
            label: classIndex(d, classes, `folder ${d}`),
          })),
      ),
    );
    available = perClass.reduce((a, c) => a + c.length, 0);
    // Round-robin over classes so that a small cap still covers them.
    for (let i = 0; picked.length < max && perClass.some((c) => i < c.length); i++)
      for (const c of perClass) if (i < c.length && picked.length < max) picked.push(c[i]!);
  } else {
    source = labelsFile?.byFile ? 'labels-file' : 'unlabelled-folder';
    for (const f of flat.slice(0, max)) {
      const l = labelsFile?.byFile?.get(f);
      picked.push({ path: join(dir, f), label: l === undefined ? null : classIndex(l, classes, f) });
    }
  }
  if (picked.length === 0)
    throw new KilnError('E_BAD_ARGUMENT', `validation folder ${dir} has no images or .npy files`, {
      hint: `Put ${IMAGE_EXTENSIONS.join(', ')} or .npy files in it (one sub-folder per class for top-1/top-5)`,
    });
  const samples: Sample[] = [];
  for (const p of picked) samples.push(await loadSample(p.path, inputs[0]!, cfg));
  const labels = picked.map((p) => p.label);
  const warnings: string[] = [];
  const unlabelled = labels.filter((l) => l === null).length;
  if (unlabelled > 0 && unlabelled < labels.length)
    warnings.push(`${unlabelled} of ${labels.length} validation files have no label: they count for agreement only`);
  if (source === 'unlabelled-folder')
    warnings.push('validation data has no labels: accuracy is float vs int8 agreement, not top-1/top-5');
  return {
    samples,
    labels: labels.every((l) => l === null) ? null : labels,
    classes,
    files: picked.map((p) => p.path),
    available,
    source,
    warnings,
  };
}
