import type { Firestore, Transaction } from 'firebase-admin/firestore';
import type { BuildRecord } from '../pipeline/build-state.js';
import { isRetryableGrpc } from '../pipeline/errors.js';
import type { BuildStore } from '../pipeline/ports.js';
import { recentBuilds } from './firestore-queries.js';
import { fromStoredBuild, fromStoredModel, toStoredBuild, toStoredModel } from './firestore-times.js';
import { modelEntry, touchesModel, type ModelEntry } from './model-entry.js';

/**
 * Build records in Firestore: `models/{modelId}` (name, latest build, best result) and
 * `models/{modelId}/builds/{buildId}` (the BuildRecord). Every write is a transaction; one that creates a build or
 * changes its status refreshes the model document in it, so the console and the results page always agree. Times are
 * stored as Timestamps and read back as ISO strings (firestore-times.ts): the pure code never sees a Timestamp.
 */
export function buildDoc(db: Firestore, modelId: string, buildId: string) {
  return db.collection('models').doc(modelId).collection('builds').doc(buildId);
}

export function modelDoc(db: Firestore, modelId: string) {
  return db.collection('models').doc(modelId);
}

function writeModel(db: Firestore, tx: Transaction, record: BuildRecord, previous: ModelEntry | undefined) {
  tx.set(modelDoc(db, record.modelId), toStoredModel(modelEntry(record, previous)));
}

function writeBuild(db: Firestore, tx: Transaction, record: BuildRecord) {
  tx.set(buildDoc(db, record.modelId, record.buildId), toStoredBuild(record));
}

const storedModel = (d: Record<string, unknown> | undefined) => (d ? fromStoredModel(d) : undefined);

/**
 * Failures of a transaction that may succeed when run again: gRPC aborted by contention (the emulator's "Transaction
 * lock timeout" too), deadline exceeded, resource exhausted, internal, unavailable, and an invalid argument naming the
 * transaction itself (expired, or closed by the emulator after a lock timeout). Some of them leave it unknown whether
 * the commit happened, so every transition run through `update` must be safe to apply twice (build-state.ts
 * recognises a delivery's own earlier write by its claim).
 */
const INVALID_ARGUMENT = 3;

export function isTransientStoreError(e: unknown): boolean {
  const { code, message } = (e ?? {}) as { code?: unknown; message?: unknown };
  if (typeof code !== 'number') return false;
  if (isRetryableGrpc(code)) return true;
  return code === INVALID_ARGUMENT && typeof message === 'string' && /transaction/i.test(message);
}

export interface RetryPolicy {
  /** Transactions tried in all (each is also retried by the client on contention). */
  attempts: number;
  firstDelayMs: number;
  maxDelayMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = { attempts: 8, firstDelayMs: 200, maxDelayMs: 8_000 };

export class FirestoreBuildStore implements BuildStore {
  constructor(
    private readonly db: Firestore,
    private readonly retry: RetryPolicy = DEFAULT_RETRY,
  ) {}

  async get(modelId: string, buildId: string): Promise<BuildRecord | undefined> {
    const snap = await buildDoc(this.db, modelId, buildId).get();
    return snap.exists ? fromStoredBuild(snap.data()!) : undefined;
  }

  async create(record: BuildRecord): Promise<{ created: boolean; record: BuildRecord }> {
    return this.transact(async (tx) => {
      const ref = buildDoc(this.db, record.modelId, record.buildId);
      const [snap, model] = await Promise.all([tx.get(ref), tx.get(modelDoc(this.db, record.modelId))]);
      if (snap.exists) return { created: false, record: fromStoredBuild(snap.data()!) };
      writeBuild(this.db, tx, record);
      writeModel(this.db, tx, record, storedModel(model.data()));
      return { created: true, record };
    });
  }

  /**
   * A transition that changes nothing writes nothing; one that keeps the build's status writes the build document
   * alone (the model document is neither read nor locked: model-entry.ts).
   */
  async update<T>(
    modelId: string,
    buildId: string,
    fn: (record: BuildRecord) => T,
  ): Promise<{ result: T; record: BuildRecord }> {
    return this.transact(async (tx) => {
      const snap = await tx.get(buildDoc(this.db, modelId, buildId));
      if (!snap.exists) throw new Error(`build ${modelId}/${buildId} does not exist`);
      const record = fromStoredBuild(snap.data()!);
      const before = { json: JSON.stringify(record), status: record.status };
      const result = fn(record);
      if (JSON.stringify(record) === before.json) return { result, record };
      if (touchesModel(before, record)) {
        const model = await tx.get(modelDoc(this.db, modelId));
        writeModel(this.db, tx, record, storedModel(model.data()));
      }
      writeBuild(this.db, tx, record);
      return { result, record };
    });
  }

  /** Running builds across every model, newest first: the results page's status query (firestore-queries.ts). */
  async running(limit: number): Promise<BuildRecord[]> {
    return recentBuilds(this.db, limit, 'running');
  }

  /**
   * One transaction, run again with jittered exponential backoff while it fails transiently. runTransaction already
   * retries ABORTED and the like itself (5 attempts); this outer loop covers what it does not: the emulator's
   * INVALID_ARGUMENT "Transaction is invalid or closed." after a lock timeout (the client only retries "transaction has
   * expired"), and contention between concurrent deliveries that outlasts the client's attempts.
   */
  private async transact<T>(body: (tx: Transaction) => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.db.runTransaction(body);
      } catch (e) {
        if (!isTransientStoreError(e) || attempt >= this.retry.attempts) throw e;
        const cap = Math.min(this.retry.maxDelayMs, this.retry.firstDelayMs * 2 ** (attempt - 1));
        await new Promise((r) => setTimeout(r, cap / 2 + Math.random() * (cap / 2)));
      }
    }
  }
}
