/**
 * Durable bucket/object store on the local filesystem.
 *
 * Layout under the data dir:
 *   buckets/<bucket>/bucket.json                   bucket record (its presence defines the bucket)
 *   buckets/<bucket>/objects/<key>.json            object sidecar (the commit point)
 *   buckets/<bucket>/objects/<key>.<generation>.data   object bytes
 *   tmp/                                           staging area, emptied on start
 * where <key> is sha256(object name). Content is moved into place before the sidecar is
 * atomically renamed over the old one, so an object is never visible half-written, and content
 * files not referenced by a sidecar are garbage-collected at startup.
 */
import { createHash } from 'node:crypto';
import { mkdir, open, readdir, rename, stat, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { badRequest, conflict, noSuchBucket, noSuchObject } from './errors.js';
import { isNotFound, readJson, removeQuietly, syncFile, writeJsonAtomic } from './fsutil.js';
import type { Digests } from './hashes.js';
import type { Logger } from './log.js';
import { KeyedMutex } from './mutex.js';
import { assertPreconditions, type Preconditions } from './preconditions.js';
import {
  BucketRecordSchema,
  ObjectRecordSchema,
  STRING_FIELDS,
  type BucketRecord,
  type ObjectFields,
  type ObjectRecord,
} from './records.js';

interface BucketState {
  record: BucketRecord;
  objects: Map<string, ObjectRecord>;
}

export interface NewBucket {
  name: string;
  location?: string;
  storageClass?: string;
  labels?: Record<string, string>;
}

export interface CommitInput {
  bucket: string;
  name: string;
  /** A complete content file on the same filesystem; the store takes ownership (moves or deletes it). */
  source: string;
  digests: Digests;
  fields: ObjectFields;
  preconditions: Preconditions;
}

export interface CommitResult {
  object: ObjectRecord;
  /** The live object this write replaced, if any. */
  replaced?: ObjectRecord;
}

export interface MoveResult extends CommitResult {
  source: ObjectRecord;
}

const BUCKET_NAME = /^[a-z0-9][a-z0-9._-]{1,61}[a-z0-9]$/;

export function validateBucketName(name: string): void {
  if (!BUCKET_NAME.test(name) || name.includes('..') || /^\d+\.\d+\.\d+\.\d+$/.test(name)) {
    throw badRequest(`Invalid bucket name: '${name}'`);
  }
}

export function validateObjectName(name: string): void {
  const bytes = Buffer.byteLength(name, 'utf8');
  if (bytes === 0 || bytes > 1024 || /[\r\n]/.test(name) || name === '.' || name === '..') {
    throw badRequest(`Invalid object name: '${name}'`);
  }
}

const objectKey = (name: string): string => createHash('sha256').update(name, 'utf8').digest('hex');

function withoutWritableFields(rec: ObjectRecord): ObjectRecord {
  const out: ObjectRecord = { ...rec };
  for (const f of STRING_FIELDS) delete out[f];
  delete out.metadata;
  return out;
}

export class Store {
  readonly dataDir: string;
  readonly tmpDir: string;
  readonly #bucketsDir: string;
  readonly #log: Logger;
  readonly #buckets = new Map<string, BucketState>();
  /** All metadata mutations are serialized; byte transfer happens outside this lock. */
  readonly #lock = new KeyedMutex();
  #lastGeneration = 0n;

  private constructor(dataDir: string, log: Logger) {
    this.dataDir = dataDir;
    this.tmpDir = join(dataDir, 'tmp');
    this.#bucketsDir = join(dataDir, 'buckets');
    this.#log = log;
  }

  static async open(dataDir: string, log: Logger): Promise<Store> {
    const store = new Store(dataDir, log);
    await removeQuietly(store.tmpDir);
    await mkdir(store.tmpDir, { recursive: true });
    await mkdir(store.#bucketsDir, { recursive: true });
    await store.#load();
    return store;
  }

  // ---- buckets -------------------------------------------------------------------------------

  listBuckets(): BucketRecord[] {
    return [...this.#buckets.values()].map((b) => b.record).sort((a, b) => (a.name < b.name ? -1 : 1));
  }

  getBucket(name: string): BucketRecord {
    return this.#bucket(name).record;
  }

  hasBucket(name: string): boolean {
    return this.#buckets.has(name);
  }

  async createBucket(input: NewBucket): Promise<BucketRecord> {
    validateBucketName(input.name);
    return this.#lock.run('write', async () => {
      if (this.#buckets.has(input.name)) {
        throw conflict('Your previous request to create the named bucket succeeded and you already own it.');
      }
      const now = new Date().toISOString();
      const record: BucketRecord = {
        name: input.name,
        location: (input.location ?? 'US').toUpperCase(),
        storageClass: input.storageClass ?? 'STANDARD',
        timeCreated: now,
        updated: now,
        metageneration: '1',
        ...(input.labels && Object.keys(input.labels).length > 0 ? { labels: input.labels } : {}),
      };
      const dir = join(this.#bucketsDir, input.name);
      await mkdir(join(dir, 'objects'), { recursive: true });
      await writeJsonAtomic(join(dir, 'bucket.json'), record, this.tmpDir);
      this.#buckets.set(input.name, { record, objects: new Map() });
      return record;
    });
  }

  async deleteBucket(name: string, preconditions: Preconditions): Promise<BucketRecord> {
    return this.#lock.run('write', async () => {
      const state = this.#bucket(name);
      assertPreconditions({ generation: '1', metageneration: state.record.metageneration }, preconditions, 'write');
      if (state.objects.size > 0) throw conflict('The bucket you tried to delete is not empty.');
      this.#buckets.delete(name);
      const dir = join(this.#bucketsDir, name);
      await removeQuietly(join(dir, 'bucket.json'));
      await removeQuietly(dir);
      return state.record;
    });
  }

  /** buckets.patch / update for labels and storageClass; bumps metageneration. */
  async updateBucket(
    name: string,
    preconditions: Preconditions,
    patch: { labels?: Record<string, string | null> | null; storageClass?: string },
    replaceLabels: boolean,
  ): Promise<BucketRecord> {
    return this.#lock.run('write', async () => {
      const state = this.#bucket(name);
      const before = state.record;
      assertPreconditions({ generation: '1', metageneration: before.metageneration }, preconditions, 'write');
      const merged: Record<string, string | null> =
        patch.labels === null ? {} : { ...(replaceLabels ? {} : (before.labels ?? {})), ...(patch.labels ?? {}) };
      const labels = Object.fromEntries(Object.entries(merged).filter((e): e is [string, string] => e[1] !== null));
      const { labels: _old, ...rest } = before;
      const record: BucketRecord = {
        ...rest,
        ...(patch.storageClass ? { storageClass: patch.storageClass } : {}),
        ...(Object.keys(labels).length > 0 ? { labels } : {}),
        metageneration: (BigInt(before.metageneration) + 1n).toString(),
        updated: new Date().toISOString(),
      };
      await writeJsonAtomic(join(this.#bucketsDir, name, 'bucket.json'), record, this.tmpDir);
      state.record = record;
      return record;
    });
  }

  // ---- objects: reads ------------------------------------------------------------------------

  /** The live object, or undefined. Throws 404 if the bucket does not exist. */
  findObject(bucket: string, name: string): ObjectRecord | undefined {
    return this.#bucket(bucket).objects.get(name);
  }

  getObject(bucket: string, name: string): ObjectRecord {
    const rec = this.findObject(bucket, name);
    if (!rec) throw noSuchObject(bucket, name);
    return rec;
  }

  /** Live objects of a bucket, sorted by name. */
  listObjects(bucket: string): ObjectRecord[] {
    return [...this.#bucket(bucket).objects.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  contentPath(rec: ObjectRecord): string {
    return join(this.#objectsDir(rec.bucket), rec.dataFile);
  }

  /**
   * Opens the live object's content. The handle stays valid even if the object is replaced or
   * deleted while it is being read.
   */
  async openObject(bucket: string, name: string): Promise<{ record: ObjectRecord; handle: FileHandle }> {
    for (let attempt = 0; ; attempt++) {
      const record = this.getObject(bucket, name);
      try {
        return { record, handle: await open(this.contentPath(record), 'r') };
      } catch (err) {
        // Replaced between lookup and open: look it up again.
        if (!isNotFound(err) || attempt >= 5) throw err;
      }
    }
  }

  // ---- objects: writes -----------------------------------------------------------------------

  async commitObject(input: CommitInput): Promise<CommitResult> {
    try {
      validateObjectName(input.name);
      return await this.#lock.run('write', async () => {
        const state = this.#bucket(input.bucket);
        const replaced = state.objects.get(input.name);
        assertPreconditions(replaced, input.preconditions, 'write');
        const generation = this.#nextGeneration();
        const now = new Date().toISOString();
        const key = objectKey(input.name);
        const dir = this.#objectsDir(input.bucket);
        const object: ObjectRecord = {
          bucket: input.bucket,
          name: input.name,
          generation,
          metageneration: '1',
          size: input.digests.size,
          md5Hash: input.digests.md5Hash,
          crc32c: input.digests.crc32c,
          ...input.fields,
          storageClass: state.record.storageClass,
          timeCreated: now,
          updated: now,
          timeStorageClassUpdated: now,
          dataFile: `${key}.${generation}.data`,
        };
        await syncFile(input.source);
        await rename(input.source, join(dir, object.dataFile));
        try {
          await writeJsonAtomic(join(dir, `${key}.json`), object, this.tmpDir);
        } catch (err) {
          await removeQuietly(join(dir, object.dataFile));
          throw err;
        }
        state.objects.set(input.name, object);
        if (replaced) await removeQuietly(join(dir, replaced.dataFile));
        return replaced ? { object, replaced } : { object };
      });
    } finally {
      // No-op when the source was moved into place.
      await removeQuietly(input.source);
    }
  }

  /** Metadata-only change (patch/update): bumps metageneration and `updated`. */
  async updateObject(
    bucket: string,
    name: string,
    preconditions: Preconditions,
    change: (current: ObjectRecord) => ObjectFields,
  ): Promise<{ before: ObjectRecord; after: ObjectRecord }> {
    return this.#lock.run('write', async () => {
      const state = this.#bucket(bucket);
      const before = state.objects.get(name);
      if (!before) throw noSuchObject(bucket, name);
      assertPreconditions(before, preconditions, 'write');
      const after: ObjectRecord = {
        ...withoutWritableFields(before),
        ...change(before),
        metageneration: (BigInt(before.metageneration) + 1n).toString(),
        updated: new Date().toISOString(),
      };
      await writeJsonAtomic(join(this.#objectsDir(bucket), `${objectKey(name)}.json`), after, this.tmpDir);
      state.objects.set(name, after);
      return { before, after };
    });
  }

  async deleteObject(bucket: string, name: string, preconditions: Preconditions): Promise<ObjectRecord> {
    return this.#lock.run('write', async () => {
      const state = this.#bucket(bucket);
      const current = state.objects.get(name);
      if (!current) throw noSuchObject(bucket, name);
      assertPreconditions(current, preconditions, 'write');
      const dir = this.#objectsDir(bucket);
      await removeQuietly(join(dir, `${objectKey(name)}.json`));
      state.objects.delete(name);
      await removeQuietly(join(dir, current.dataFile));
      return current;
    });
  }

  /** Atomic rename within a bucket (objects.move). */
  async moveObject(
    bucket: string,
    from: string,
    to: string,
    sourcePreconditions: Preconditions,
    preconditions: Preconditions,
  ): Promise<MoveResult> {
    validateObjectName(to);
    return this.#lock.run('write', async () => {
      const state = this.#bucket(bucket);
      const source = state.objects.get(from);
      if (!source) throw noSuchObject(bucket, from);
      if (from === to) throw badRequest('Source and destination object names must be different.');
      assertPreconditions(source, sourcePreconditions, 'write');
      const replaced = state.objects.get(to);
      assertPreconditions(replaced, preconditions, 'write');
      const dir = this.#objectsDir(bucket);
      const generation = this.#nextGeneration();
      const now = new Date().toISOString();
      const key = objectKey(to);
      const object: ObjectRecord = {
        ...source,
        name: to,
        generation,
        metageneration: '1',
        timeCreated: now,
        updated: now,
        dataFile: `${key}.${generation}.data`,
      };
      await rename(join(dir, source.dataFile), join(dir, object.dataFile));
      await writeJsonAtomic(join(dir, `${key}.json`), object, this.tmpDir);
      await removeQuietly(join(dir, `${objectKey(from)}.json`));
      state.objects.delete(from);
      state.objects.set(to, object);
      if (replaced) await removeQuietly(join(dir, replaced.dataFile));
      return replaced ? { object, replaced, source } : { object, source };
    });
  }

  // ---- internals -----------------------------------------------------------------------------

  #bucket(name: string): BucketState {
    const state = this.#buckets.get(name);
    if (!state) throw noSuchBucket();
    return state;
  }

  #objectsDir(bucket: string): string {
    return join(this.#bucketsDir, bucket, 'objects');
  }

  /** Microsecond wall-clock timestamp, strictly increasing. */
  #nextGeneration(): string {
    const now = BigInt(Date.now()) * 1000n;
    this.#lastGeneration = now > this.#lastGeneration ? now : this.#lastGeneration + 1n;
    return this.#lastGeneration.toString();
  }

  async #load(): Promise<void> {
    for (const entry of await readdir(this.#bucketsDir, { withFileTypes: true })) {
      if (!entry.isDirectory()) continue;
      const dir = join(this.#bucketsDir, entry.name);
      let record: BucketRecord;
      try {
        record = BucketRecordSchema.parse(await readJson(join(dir, 'bucket.json')));
      } catch (err) {
        if (isNotFound(err)) {
          // Leftover of an interrupted bucket deletion.
          await removeQuietly(dir);
        } else {
          this.#log.warn('skipping unreadable bucket', { bucket: entry.name, error: err });
        }
        continue;
      }
      const objects = await this.#loadObjects(record.name);
      this.#buckets.set(record.name, { record, objects });
    }
    this.#log.debug('store loaded', {
      dataDir: this.dataDir,
      buckets: this.#buckets.size,
      objects: [...this.#buckets.values()].reduce((n, b) => n + b.objects.size, 0),
    });
  }

  async #loadObjects(bucket: string): Promise<Map<string, ObjectRecord>> {
    const dir = this.#objectsDir(bucket);
    await mkdir(dir, { recursive: true });
    const files = await readdir(dir);
    const objects = new Map<string, ObjectRecord>();
    const referenced = new Set<string>();
    for (const file of files.filter((f) => f.endsWith('.json'))) {
      let rec: ObjectRecord;
      try {
        rec = ObjectRecordSchema.parse(await readJson(join(dir, file)));
        await stat(join(dir, rec.dataFile));
      } catch (err) {
        this.#log.warn('skipping unreadable object sidecar', { bucket, file, error: err });
        continue;
      }
      objects.set(rec.name, rec);
      referenced.add(rec.dataFile);
      const gen = BigInt(rec.generation);
      if (gen > this.#lastGeneration) this.#lastGeneration = gen;
    }
    for (const file of files) {
      if (file.endsWith('.data') && !referenced.has(file)) await removeQuietly(join(dir, file));
    }
    return objects;
  }
}
