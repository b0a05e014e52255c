/**
 * Resumable upload sessions, persisted under <dataDir>/uploads so they survive restarts:
 *   <id>.json   session state (atomically rewritten after every request)
 *   <id>.part   bytes received so far
 * Nothing becomes visible in the bucket until the final byte arrives and the object is committed.
 */
import { randomBytes } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { mkdir, readdir, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import type { UploadRange } from './content-range.js';
import { badRequest, GcsError, notFound } from './errors.js';
import { isNotFound, readJson, removeQuietly, writeJsonAtomic } from './fsutil.js';
import { checkExpected, digestFile, mergeExpected, type ExpectedHashes } from './hashes.js';
import { bodyToFile } from './http.js';
import type { Logger } from './log.js';
import { KeyedMutex } from './mutex.js';
import { ObjectRecordSchema, type ObjectFields, type ObjectRecord } from './records.js';
import type { CommitResult, Store } from './store.js';
import type { Preconditions } from './preconditions.js';

/** Sessions expire a week after creation, like GCS. */
const SESSION_TTL_MS = 7 * 24 * 60 * 60 * 1000;

const SessionSchema = z.object({
  id: z.string(),
  bucket: z.string(),
  name: z.string(),
  fields: z.record(z.string(), z.unknown()),
  expected: z.object({ md5Hash: z.string().optional(), crc32c: z.string().optional() }),
  preconditions: z.record(z.string(), z.string()),
  declaredSize: z.number().int().min(0).optional(),
  received: z.number().int().min(0),
  createdAt: z.string(),
  state: z.enum(['active', 'finalized']),
  object: ObjectRecordSchema.optional(),
});
type Session = z.infer<typeof SessionSchema>;

export interface NewSession {
  bucket: string;
  name: string;
  fields: ObjectFields;
  expected: ExpectedHashes;
  preconditions: Preconditions;
  declaredSize?: number;
}

export type PutOutcome =
  | { kind: 'incomplete'; received: number }
  /** Committed by this request. */
  | { kind: 'finalized'; result: CommitResult }
  /** The session had already been finalized earlier. */
  | { kind: 'done'; object: ObjectRecord };

const ID = /^[A-Za-z0-9_-]{16,128}$/;

export class UploadSessions {
  readonly #dir: string;
  readonly #store: Store;
  readonly #log: Logger;
  readonly #sessions = new Map<string, Session>();
  readonly #lock = new KeyedMutex();

  private constructor(dataDir: string, store: Store, log: Logger) {
    this.#dir = join(dataDir, 'uploads');
    this.#store = store;
    this.#log = log;
  }

  static async open(dataDir: string, store: Store, log: Logger): Promise<UploadSessions> {
    const sessions = new UploadSessions(dataDir, store, log);
    await mkdir(sessions.#dir, { recursive: true });
    await sessions.#load();
    return sessions;
  }

  async create(input: NewSession): Promise<string> {
    const id = randomBytes(24).toString('base64url');
    const session: Session = {
      id,
      bucket: input.bucket,
      name: input.name,
      fields: { ...input.fields },
      expected: { ...input.expected },
      preconditions: { ...input.preconditions } as Record<string, string>,
      received: 0,
      createdAt: new Date().toISOString(),
      state: 'active',
      ...(input.declaredSize !== undefined ? { declaredSize: input.declaredSize } : {}),
    };
    await removeQuietly(this.#partPath(id));
    await this.#save(session);
    this.#sessions.set(id, session);
    this.#log.debug('resumable upload session created', { uploadId: id, bucket: input.bucket, object: input.name });
    return id;
  }

  /** Handles one PUT to the session URI: a status query, a chunk, or the final chunk. */
  async put(id: string, range: UploadRange, req: IncomingMessage, googHash: ExpectedHashes): Promise<PutOutcome> {
    const initial = this.#get(id);
    if (initial.state === 'finalized' && initial.object) return { kind: 'done', object: initial.object };
    if (range.kind === 'query' && range.total === undefined) return { kind: 'incomplete', received: initial.received };

    return this.#lock.run(id, async () => {
      const session = this.#get(id);
      if (session.state === 'finalized' && session.object) return { kind: 'done', object: session.object };
      const total = range.total ?? session.declaredSize;
      let endOfObject: boolean;
      if (range.kind === 'query') {
        endOfObject = range.total === session.received;
        if (!endOfObject) return { kind: 'incomplete', received: session.received };
      } else {
        if (range.start > session.received) {
          throw new GcsError(
            400,
            'invalid',
            `Invalid request. The first byte of Content-Range (${range.start}) is past the persisted size (${session.received}).`,
          );
        }
        // Keep only what the session file has committed to (a crash may have left extra bytes).
        await truncate(this.#partPath(id), session.received).catch(async (err: unknown) => {
          if (!isNotFound(err) || session.received !== 0) throw err;
        });
        const { written, complete } = await bodyToFile(req, this.#partPath(id), {
          append: true,
          skip: session.received - range.start,
        });
        session.received += written;
        if (total !== undefined && session.received > total) {
          await this.#discard(session);
          throw badRequest(`Upload exceeded its declared size (${session.received} > ${total}).`);
        }
        endOfObject = complete && (total !== undefined ? session.received === total : range.end === undefined);
        if (!endOfObject) {
          await this.#save(session);
          if (!complete) {
            this.#log.debug('resumable upload request ended early', { uploadId: id, received: session.received });
          }
          return { kind: 'incomplete', received: session.received };
        }
      }
      return { kind: 'finalized', result: await this.#finalize(session, googHash) };
    });
  }

  /** DELETE on the session URI: abandons the upload. */
  async cancel(id: string): Promise<void> {
    await this.#lock.run(id, async () => {
      await this.#discard(this.#get(id));
    });
  }

  async #finalize(session: Session, googHash: ExpectedHashes): Promise<CommitResult> {
    const part = this.#partPath(session.id);
    if (session.received === 0) await writeFile(part, '');
    const digests = await digestFile(part);
    const mismatch = checkExpected(digests, mergeExpected(session.expected, googHash));
    if (mismatch) {
      await this.#discard(session);
      throw badRequest(mismatch);
    }
    let result: CommitResult;
    try {
      result = await this.#store.commitObject({
        bucket: session.bucket,
        name: session.name,
        source: part,
        digests,
        fields: session.fields as ObjectFields,
        preconditions: session.preconditions as Preconditions,
      });
    } catch (err) {
      await this.#discard(session);
      throw err;
    }
    session.state = 'finalized';
    session.object = result.object;
    await this.#save(session).catch((err: unknown) =>
      this.#log.warn('could not record finalized upload session', { uploadId: session.id, error: err }),
    );
    return result;
  }

  #get(id: string): Session {
    const session = ID.test(id) ? this.#sessions.get(id) : undefined;
    if (!session) throw notFound('No such upload session.');
    return session;
  }

  #partPath(id: string): string {
    return join(this.#dir, `${id}.part`);
  }

  async #save(session: Session): Promise<void> {
    await writeJsonAtomic(join(this.#dir, `${session.id}.json`), session, this.#store.tmpDir);
  }

  async #discard(session: Session): Promise<void> {
    this.#sessions.delete(session.id);
    await removeQuietly(join(this.#dir, `${session.id}.json`));
    await removeQuietly(this.#partPath(session.id));
  }

  async #load(): Promise<void> {
    const now = Date.now();
    const files = await readdir(this.#dir);
    for (const file of files.filter((f) => f.endsWith('.json'))) {
      const parsed = SessionSchema.safeParse(await readJson(join(this.#dir, file)).catch(() => undefined));
      if (!parsed.success || !ID.test(parsed.data.id) || now - Date.parse(parsed.data.createdAt) > SESSION_TTL_MS) {
        await removeQuietly(join(this.#dir, file));
        continue;
      }
      this.#sessions.set(parsed.data.id, parsed.data);
    }
    for (const file of files.filter((f) => f.endsWith('.part'))) {
      const id = file.slice(0, -'.part'.length);
      const s = this.#sessions.get(id);
      if (!s || s.state !== 'active') await removeQuietly(join(this.#dir, file));
    }
  }
}
