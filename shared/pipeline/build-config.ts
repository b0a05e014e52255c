import { z } from 'zod';
import { KilnError } from '../common/errors.js';
import { TrainConfigSchema } from '../toolchain/train/config.js';
import { TaskSettingSchema } from '../toolchain/verify/accuracy/task-type.js';

/**
 * The build config: `kiln.json` beside the model (or inside the uploaded folder), or the defaults. Only the keys the
 * pipeline itself needs are checked here; `quantize` and `verify` settings pass through to the stage cores.
 */
export const CompileTargetSchema = z.strictObject({
  /** Unique name of this target; becomes the artifact folder `compile/<name>/`. */
  name: z
    .string()
    .regex(/^[A-Za-z0-9_-]{1,40}$/)
    .optional(),
  /** `-m`: minimum Edge TPU runtime version. */
  minRuntimeVersion: z.number().int().min(10).max(16).optional(),
  /** `-n`: number of segments for pipelining. */
  numSegments: z.number().int().min(1).max(16).optional(),
  /** `-a`: enable multiple subgraphs. */
  multipleSubgraphs: z.boolean().optional(),
});
export type CompileTargetInput = z.infer<typeof CompileTargetSchema>;
export type CompileTarget = CompileTargetInput & { name: string };

export const BuildConfigSchema = z.looseObject({
  compile: z.strictObject({ targets: z.array(CompileTargetSchema).min(1).default([{}]) }).prefault({}),
  verify: z.looseObject({ shards: z.number().int().min(1).default(1) }).prefault({}),
  quantize: z.record(z.string(), z.unknown()).default({}),
  /** What the model does (classifier, detector, …): overrides the task verify reads from the outputs. */
  task: TaskSettingSchema.optional(),
  /** Folder uploads: the model file or folder inside the upload, relative to kiln.json. */
  model: z.string().min(1).optional(),
  /** Folder uploads of a labelled image set: train a model from it (shared/toolchain/train/config.ts). */
  train: TrainConfigSchema.optional(),
});
export type BuildConfig = z.output<typeof BuildConfigSchema>;

/** Default name of a compile target: its flags, e.g. `m13-n2-a`, or `default`. */
export function targetName(t: CompileTargetInput): string {
  if (t.name) return t.name;
  const parts = [
    t.minRuntimeVersion !== undefined ? `m${t.minRuntimeVersion}` : '',
    t.numSegments !== undefined ? `n${t.numSegments}` : '',
    t.multipleSubgraphs ? 'a' : '',
  ].filter(Boolean);
  return parts.length > 0 ? parts.join('-') : 'default';
}

export function parseBuildConfig(json: unknown, maxFanout: number, source = 'kiln.json'): BuildConfig {
  const parsed = BuildConfigSchema.safeParse(json ?? {});
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
    throw new KilnError('E_BAD_ARGUMENT', `${source} is not a valid build config: ${problems}`, {
      hint: 'See docs/pipeline.md for the kiln.json fields',
    });
  }
  const config = parsed.data;
  const names = config.compile.targets.map(targetName);
  const dup = names.find((n, i) => names.indexOf(n) !== i);
  if (dup)
    throw new KilnError('E_BAD_ARGUMENT', `${source}: two compile targets are named "${dup}"`, {
      hint: 'Give each target a distinct "name"',
    });
  for (const [what, n] of [
    ['compile targets', names.length],
    ['verify shards', config.verify.shards],
  ] as const) {
    if (n > maxFanout)
      throw new KilnError('E_BAD_ARGUMENT', `${source} asks for ${n} ${what}; the limit is ${maxFanout}`, {
        hint: 'Ask for fewer, or raise KILN_MAX_FANOUT',
      });
  }
  return config;
}

export function parseBuildConfigText(text: string, maxFanout: number, source = 'kiln.json'): BuildConfig {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new KilnError('E_BAD_ARGUMENT', `${source} is not valid JSON: ${(e as Error).message}`, {
      hint: 'Fix the JSON syntax',
    });
  }
  return parseBuildConfig(json, maxFanout, source);
}

export function compileTargets(config: BuildConfig): CompileTarget[] {
  return config.compile.targets.map((t) => ({ ...t, name: targetName(t) }));
}
