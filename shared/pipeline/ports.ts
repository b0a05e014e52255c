import type { BuildRecord } from './build-state.js';
import type { KilnCloudEvent } from './events.js';
import type { StageMessage, UploadRef } from './messages.js';
import type { StageName } from './stages.js';

/**
 * What the pipeline needs from the cloud, implemented in shared/cloud/ over the official clients (the local stack
 * reaches the emulators through `*_EMULATOR_HOST`; there is no other implementation).
 */
export interface BuildStore {
  get(modelId: string, buildId: string): Promise<BuildRecord | undefined>;
  /** Creates the record unless one exists (transaction). */
  create(record: BuildRecord): Promise<{ created: boolean; record: BuildRecord }>;
  /**
   * Read-modify-write of one build in a transaction; `fn` mutates the record and returns a decision. The model
   * document `models/{modelId}` is updated in the same transaction.
   */
  update<T>(
    modelId: string,
    buildId: string,
    fn: (record: BuildRecord) => T,
  ): Promise<{ result: T; record: BuildRecord }>;
  /** Builds whose status is `running`, newest first, at most `limit` (the sweeper's query). */
  running(limit: number): Promise<BuildRecord[]>;
}

export interface ObjectInfo {
  bucket: string;
  name: string;
  generation: string;
  size: number;
  metadata?: Record<string, string>;
}

export interface ArtifactStore {
  /** Bytes of one object at one generation (throws KilnError E_FILE_NOT_FOUND when gone). */
  read(bucket: string, object: string, generation?: string): Promise<Uint8Array>;
  /**
   * The first `bytes` bytes of one object at one generation (fewer when it is shorter), by a ranged read: memory does
   * not grow with the object (throws KilnError E_FILE_NOT_FOUND when gone).
   */
  readHead(bucket: string, object: string, generation: string | undefined, bytes: number): Promise<Uint8Array>;
  /** Object info, or undefined when absent. */
  stat(bucket: string, object: string): Promise<ObjectInfo | undefined>;
  /** Every object under a prefix. */
  list(bucket: string, prefix: string): Promise<ObjectInfo[]>;
  /** The upload's files keyed `upload/<relative path>`. */
  readUpload(input: UploadRef): Promise<Map<string, Uint8Array>>;
  /**
   * Writes one artifact of a build to `<modelId>/<buildId>/<name>` in the artifacts bucket with `ifGenerationMatch: 0`
   * and the artifact marker; if it already exists (a retried unit), keeps the existing object. Returns its gs:// URI.
   */
  writeArtifact(modelId: string, buildId: string, name: string, bytes: Uint8Array): Promise<string>;
}

export interface Publisher {
  publishStage(stage: StageName, message: StageMessage): Promise<void>;
  publishEvent(event: KilnCloudEvent): Promise<void>;
}

export interface PipelineDeps {
  store: BuildStore;
  objects: ArtifactStore;
  publisher: Publisher;
}
