import type { Storage } from '@google-cloud/storage';
import { KilnError } from '../common/errors.js';
import { artifactObject, gsUri } from '../pipeline/ids.js';
import type { UploadRef } from '../pipeline/messages.js';
import type { ArtifactStore, ObjectInfo } from '../pipeline/ports.js';
import { ARTIFACT_MARKER_KEY } from '../pipeline/uploads.js';

/**
 * Objects through @google-cloud/storage. Uploads are only ever read; artifacts are created with
 * `ifGenerationMatch: 0` (never overwritten) and carry the marker metadata that keeps them from starting builds.
 */
/** Object reads one upload's folder keeps under way at once. */
const READS_AT_ONCE = 8;

const CONTENT_TYPES: [RegExp, string][] = [
  [/\.json$/, 'application/json'],
  [/\.html$/, 'text/html; charset=utf-8'],
  [/\.(log|txt)$/, 'text/plain; charset=utf-8'],
  [/\.tflite$/, 'application/octet-stream'],
];

function codeOf(e: unknown): number | undefined {
  const c = (e as { code?: unknown })?.code;
  return typeof c === 'number' ? c : undefined;
}

function info(bucket: string, m: Record<string, unknown>): ObjectInfo {
  const metadata = (m['metadata'] ?? undefined) as Record<string, string> | undefined;
  return {
    bucket,
    name: String(m['name']),
    generation: String(m['generation']),
    size: Number(m['size'] ?? 0),
    ...(metadata ? { metadata } : {}),
  };
}

export class StorageObjects implements ArtifactStore {
  constructor(
    private readonly storage: Storage,
    private readonly artifactsBucket: string,
  ) {}

  async read(bucket: string, object: string, generation?: string): Promise<Uint8Array> {
    return this.download(bucket, object, generation);
  }

  async readHead(bucket: string, object: string, generation: string | undefined, bytes: number): Promise<Uint8Array> {
    if (!Number.isSafeInteger(bytes) || bytes < 1) throw new Error(`readHead: bad byte count ${bytes}`);
    // `end` is inclusive; the server sends at most the object's length. No validation: a partial read has no CRC.
    return this.download(bucket, object, generation, { start: 0, end: bytes - 1, validation: false });
  }

  private async download(
    bucket: string,
    object: string,
    generation: string | undefined,
    range: { start: number; end: number; validation: false } | Record<string, never> = {},
  ): Promise<Uint8Array> {
    try {
      const file = this.storage.bucket(bucket).file(object, generation ? { generation: Number(generation) } : {});
      const [buf] = await file.download(range);
      return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
    } catch (e) {
      if (codeOf(e) === 404) {
        throw new KilnError('E_FILE_NOT_FOUND', `${gsUri(bucket, object)} does not exist`, {
          hint: 'The upload was deleted or replaced before the build read it; upload it again',
        });
      }
      throw e;
    }
  }

  async stat(bucket: string, object: string): Promise<ObjectInfo | undefined> {
    try {
      const [m] = await this.storage.bucket(bucket).file(object).getMetadata();
      return info(bucket, m as Record<string, unknown>);
    } catch (e) {
      if (codeOf(e) === 404) return undefined;
      throw e;
    }
  }

  async list(bucket: string, prefix: string): Promise<ObjectInfo[]> {
    const [files] = await this.storage.bucket(bucket).getFiles({ prefix });
    return files.map((f) => info(bucket, f.metadata as Record<string, unknown>));
  }

  async readUpload(input: UploadRef): Promise<Map<string, Uint8Array>> {
    const out = new Map<string, Uint8Array>();
    if (input.kind === 'single-file') {
      out.set(`upload/${input.object}`, await this.read(input.bucket, input.object, input.generation));
      return out;
    }
    const prefix = input.prefix ?? '';
    const files = (await this.list(input.bucket, prefix)).filter((f) => !f.name.endsWith('/'));
    // A folder upload can hold thousands of data files: read READS_AT_ONCE at a time, keep the listing's order.
    const bytes = new Array<Uint8Array>(files.length);
    let next = 0;
    const lane = async (): Promise<void> => {
      while (next < files.length) {
        const i = next++;
        bytes[i] = await this.read(input.bucket, files[i]!.name, files[i]!.generation);
      }
    };
    await Promise.all(Array.from({ length: Math.min(READS_AT_ONCE, files.length) }, lane));
    files.forEach((f, i) => out.set(`upload/${f.name.slice(prefix.length)}`, bytes[i]!));
    return out;
  }

  async writeArtifact(modelId: string, buildId: string, name: string, bytes: Uint8Array): Promise<string> {
    const object = artifactObject(modelId, buildId, name);
    const contentType = CONTENT_TYPES.find(([re]) => re.test(name))?.[1] ?? 'application/octet-stream';
    const body = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    try {
      // The client resends on connection resets (storage-retry.ts): the generation precondition makes it idempotent.
      await this.storage
        .bucket(this.artifactsBucket)
        .file(object)
        .save(body, {
          resumable: false,
          contentType,
          preconditionOpts: { ifGenerationMatch: 0 },
          metadata: { metadata: { [ARTIFACT_MARKER_KEY]: buildId, 'kiln-model': modelId } },
        });
    } catch (e) {
      // 412: a previous attempt (of this unit, or a resend of the client) wrote it already; the existing object stands.
      if (codeOf(e) !== 412) throw e;
    }
    return gsUri(this.artifactsBucket, object);
  }
}
