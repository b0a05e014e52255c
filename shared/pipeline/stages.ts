import { compileTargets, type BuildConfig } from './build-config.js';

/**
 * The stage list, as data. Each stage after ingest is one Cloud Function fed by one Pub/Sub topic; `units` says how
 * many units of work a stage fans out to for a given build config (each unit is one message). A stage completes when
 * all its units have succeeded; then the next stage's messages are published, exactly once (see build-state.ts).
 */
export const STAGE_NAMES = ['convert', 'quantize', 'compile', 'verify', 'finish'] as const;
export type StageName = (typeof STAGE_NAMES)[number];

export interface UnitSpec {
  /** Stable key of the unit within its stage (a Firestore map key and an artifact folder when the stage fans out). */
  key: string;
  index: number;
  count: number;
  /** Parameters for the stage core, e.g. a compile target. */
  params: Record<string, unknown>;
}

export interface StageSpec {
  name: StageName;
  /** What the stage does, for docs and logs. */
  title: string;
  units: (config: BuildConfig) => UnitSpec[];
}

const single = (): UnitSpec[] => [{ key: 'main', index: 0, count: 1, params: {} }];

export const STAGES: readonly StageSpec[] = [
  { name: 'convert', title: 'source model → float .tflite', units: single },
  { name: 'quantize', title: 'calibrate and quantize to int8', units: single },
  {
    name: 'compile',
    title: 'compile for the Edge TPU (one unit per target)',
    units: (config) => {
      const targets = compileTargets(config);
      return targets.map((t, index) => ({ key: t.name, index, count: targets.length, params: { target: t } }));
    },
  },
  {
    name: 'verify',
    title: 'accuracy and latency (one unit per shard)',
    units: (config) => {
      const count = config.verify.shards;
      return Array.from({ length: count }, (_, index) => ({
        key: `shard-${index}`,
        index,
        count,
        params: { shard: index, shards: count },
      }));
    },
  },
  { name: 'finish', title: 'write the index entry and publish the completion event', units: single },
];

export function stageSpec(name: StageName): StageSpec {
  const spec = STAGES.find((s) => s.name === name);
  if (!spec) throw new Error(`unknown stage ${name}`);
  return spec;
}

export function nextStage(name: StageName): StageName | undefined {
  const i = STAGE_NAMES.indexOf(name);
  return STAGE_NAMES[i + 1];
}

export function stageTopic(prefix: string, stage: StageName): string {
  return `${prefix}-${stage}`;
}

/** Artifact name of a unit's output: plain for single-unit stages, `<unit key>/<name>` when the stage fans out. */
export function unitArtifactName(unit: UnitSpec, name: string): string {
  return unit.count > 1 ? `${unit.key}/${name}` : name;
}
