import { createHash } from 'node:crypto';
import { isKilnError } from '../common/errors.js';
import { parseBuildConfigText, type BuildConfig } from './build-config.js';
import { beginUnit, completeBuild, failUnit, newBuild, succeedUnit, unitsOf, type BuildRecord } from './build-state.js';
import type { StageCores } from './core.js';
import { UPLOAD_PREFIX } from './artifacts.js';
import { errorInfo } from './errors.js';
import { modelIdOf } from './ids.js';
import type { LocalModel } from './local-model.js';
import type { UploadRef } from './messages.js';
import { publicSummary, routeOf, stagesOf, type StageName } from './stages.js';
import { runStageUnit } from './unit.js';

/** The one claim of an in-process build: every unit runs once, here. */
const IN_PROCESS = 'in-process';

/**
 * The pipeline without a cloud: the same stage cores, unit layout and build-record transitions (build-state.ts) as the
 * Cloud Functions, run one unit after another in this process. `kiln build` writes what it returns to a folder.
 */
export interface InProcessBuild {
  record: BuildRecord;
  /** Artifact name (as in the artifacts bucket, e.g. `m13/compile-report.json`) → bytes. */
  artifacts: Map<string, Uint8Array>;
}

export interface InProcessOptions {
  cores: StageCores;
  maxFanout: number;
  /** Called as soon as a unit's artifact exists (kiln build writes it to disk at once). */
  onArtifact?: (name: string, bytes: Uint8Array) => Promise<void>;
  /** Called when a unit starts and when it ends (kiln build shows progress). */
  onUnit?: (e: UnitProgress) => void;
  /** Where the model came from, for the record's input (default `file://<name>`). */
  sourceUri?: string;
  now?: () => string;
}

export interface UnitProgress {
  stage: StageName;
  unit: string;
  count: number;
  state: 'started' | 'succeeded' | 'failed';
  /** Wall time of the unit (succeeded, failed). */
  ms?: number;
  error?: string;
}

/** A content id for a local build: same files and config → same id. */
export function localBuildId(model: LocalModel): string {
  const h = createHash('sha256');
  for (const [name, bytes] of [...model.files].sort((a, b) => a[0].localeCompare(b[0]))) {
    h.update(name).update('\0').update(bytes).update('\0');
  }
  h.update(model.configText ?? '');
  return h.digest('hex').slice(0, 24);
}

/** Parses the model's build config (bad-input KilnError when invalid). */
export function localBuildConfig(model: LocalModel, maxFanout: number): BuildConfig {
  return parseBuildConfigText(model.configText ?? '{}', maxFanout, model.configSource ?? 'kiln.json');
}

export async function buildInProcess(model: LocalModel, opts: InProcessOptions): Promise<InProcessBuild> {
  const now = opts.now ?? (() => new Date().toISOString());
  const config = localBuildConfig(model, opts.maxFanout);
  const buildId = localBuildId(model);
  const modelId = modelIdOf(model.name);
  const uri = opts.sourceUri ?? `file://${model.name}`;
  const input: UploadRef = {
    bucket: 'local',
    object: model.kind === 'folder' ? `${model.name}/kiln.json` : model.name,
    generation: '0',
    kind: model.kind,
    uri,
    ...(model.kind === 'single-file' ? { format: model.format ?? '' } : { prefix: `${model.name}/` }),
  };
  const record = newBuild(buildId, modelId, input, config, now());
  const artifacts = new Map<string, Uint8Array>();
  const upload = new Map([...model.files].map(([name, bytes]) => [`${UPLOAD_PREFIX}${name}`, bytes]));
  const sources = {
    upload: async () => upload,
    artifacts: async (wanted: (name: string) => boolean) => new Map([...artifacts].filter(([name]) => wanted(name))),
  };

  for (const spec of stagesOf(routeOf({ input, config }))) {
    const stage = spec.name;
    // Bookkeeping stages (no core) are not shown as progress.
    const onUnit = spec.core ? opts.onUnit : undefined;
    for (const unit of unitsOf(record, stage)) {
      beginUnit(record, stage, unit.key, now(), 0, IN_PROCESS);
      try {
        onUnit?.({ stage, unit: unit.key, count: unit.count, state: 'started' });
        const t0 = Date.now();
        const out = await runStageUnit(
          { spec, unit, config, build: { buildId, modelId, inputUri: uri, inputKind: model.kind }, cores: opts.cores },
          sources,
        );
        const written: Record<string, string> = {};
        for (const [full, bytes] of Object.entries(out.artifacts)) {
          artifacts.set(full, bytes);
          written[full] = full;
          await opts.onArtifact?.(full, bytes);
        }
        succeedUnit(record, stage, unit.key, { artifacts: written, summary: out.summary }, now(), IN_PROCESS);
        onUnit?.({ stage, unit: unit.key, count: unit.count, state: 'succeeded', ms: Date.now() - t0 });
      } catch (e) {
        // In-process there is no redelivery: every failure is final.
        const info = { ...errorInfo(e), retryable: false };
        failUnit(record, stage, unit.key, info, 1, now(), IN_PROCESS);
        onUnit?.({ stage, unit: unit.key, count: unit.count, state: 'failed', error: info.message });
        if (!isKilnError(e)) throw e;
        return { record, artifacts };
      }
    }
  }
  completeBuild(record, {}, now());
  record.summary = publicSummary(record.summary);
  return { record, artifacts };
}
