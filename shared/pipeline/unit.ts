import type { BuildConfig } from './build-config.js';
import type { StageCores, StageInput, StageOutput } from './core.js';
import { stageUnavailable } from './errors.js';
import { readsArtifact, readsData, readsUpload, unitArtifactName, type StageSpec, type UnitSpec } from './stages.js';

/**
 * One unit of one stage, as the stage table (stages.ts) describes it: give the core what its row says it reads, run
 * it, and name what it wrote as the artifacts bucket does. The Cloud Functions (run-unit.ts) and the in-process build
 * (build-in-process.ts) both run units through here; they differ only in where bytes come from and go to.
 */
export interface UnitSources {
  /** The upload's files, as `upload/<relative path>`. */
  upload(): Promise<ReadonlyMap<string, Uint8Array>>;
  /** The build's artifacts so far that `wanted` accepts, data files (behind data manifests) included. */
  artifacts(wanted: (name: string) => boolean, data: boolean): Promise<ReadonlyMap<string, Uint8Array>>;
}

export interface UnitRun {
  spec: StageSpec;
  unit: UnitSpec;
  config: BuildConfig;
  build: StageInput['build'];
  cores: StageCores;
}

/** The unit's output with artifact names as stored (`<unit key>/<name>` when the stage fans out). */
export async function runStageUnit(run: UnitRun, sources: UnitSources): Promise<StageOutput> {
  const { spec, unit } = run;
  if (!spec.core) return { artifacts: {}, summary: {} };
  const core = run.cores[spec.name];
  if (!core) throw stageUnavailable(spec.name, 'no core is registered for it');
  const artifacts = readsUpload(spec)
    ? await sources.upload()
    : await sources.artifacts((name) => readsArtifact(spec, name), readsData(spec));
  const out = await core({ artifacts, config: run.config, unit, build: run.build });
  const named: Record<string, Uint8Array> = {};
  for (const [name, bytes] of Object.entries(out.artifacts)) named[unitArtifactName(unit, name)] = bytes;
  return { artifacts: named, summary: out.summary };
}
