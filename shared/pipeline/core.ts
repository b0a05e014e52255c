import type { BuildConfig } from './build-config.js';
import type { StageName, UnitSpec } from './stages.js';

/**
 * The contract every stage core meets: a plain async function `(input artifacts, config) → (output artifacts,
 * summary)` that runs without any cloud. The same cores run in the Cloud Functions, `kiln build` and tests.
 */
export interface StageInput {
  /**
   * Named input bytes. convert gets the upload (`upload/<relative path>` for every file of a folder, or
   * `upload/<file name>` for a single file); later stages get every artifact of the build so far by artifact name.
   */
  artifacts: ReadonlyMap<string, Uint8Array>;
  /** The build's config (kiln.json or defaults). */
  config: BuildConfig;
  /** Which unit of a fanned-out stage this is, with its parameters (e.g. a compile target). */
  unit: UnitSpec;
  /** Build identity, for logs and reports. */
  build: { buildId: string; modelId: string; inputUri: string; inputKind: 'single-file' | 'folder' };
  /** Aborted when the unit's deadline passes (withStageTimeout); a core run in a worker is terminated then. */
  signal?: AbortSignal;
}

export interface StageOutput {
  /** Output bytes by artifact name (`model.int8.tflite`, `compile-report.json`, …). */
  artifacts: Record<string, Uint8Array>;
  /** Small JSON summary recorded on the build (ops on Edge TPU, memory, latency, accuracy, warnings…). */
  summary: Record<string, unknown>;
}

export type StageCore = (input: StageInput) => Promise<StageOutput>;

/** The cores by stage. A bookkeeping stage (core: null in the stage table) has none. */
export type StageCores = Partial<Record<StageName, StageCore>>;
