import type { Firestore, Transaction } from 'firebase-admin/firestore';
import type { BuildRecord } from '../pipeline/build-state.js';
import type { BuildStore } from '../pipeline/ports.js';

/**
 * Build records in Firestore: `models/{modelId}` (name, latest build, best result) and
 * `models/{modelId}/builds/{buildId}` (the BuildRecord). Every write is a transaction that also refreshes the model
 * document, so the console and the results page always agree.
 */
export function buildDoc(db: Firestore, modelId: string, buildId: string) {
  return db.collection('models').doc(modelId).collection('builds').doc(buildId);
}

export function modelDoc(db: Firestore, modelId: string) {
  return db.collection('models').doc(modelId);
}

interface ModelEntry {
  name: string;
  latestBuildId: string;
  latestStatus: string;
  updatedAt: string;
  best?: { buildId: string; finishedAt: string; summary: Record<string, unknown> };
}

function modelEntry(record: BuildRecord, previous: ModelEntry | undefined): ModelEntry {
  const entry: ModelEntry = {
    name: record.modelId,
    latestBuildId: record.buildId,
    latestStatus: record.status,
    updatedAt: record.updatedAt,
  };
  // The best result is the most recent succeeded build; a newer failure does not hide it.
  if (record.status === 'succeeded') {
    entry.best = {
      buildId: record.buildId,
      finishedAt: record.finishedAt ?? record.updatedAt,
      summary: record.summary,
    };
  } else if (previous?.best) entry.best = previous.best;
  // A late update of an older build must not move "latest" backwards.
  if (previous && previous.latestBuildId !== record.buildId && previous.updatedAt > record.updatedAt) {
    return { ...previous, ...(entry.best ? { best: entry.best } : {}) };
  }
  return entry;
}

async function writeBoth(db: Firestore, tx: Transaction, record: BuildRecord, previousModel: ModelEntry | undefined) {
  tx.set(buildDoc(db, record.modelId, record.buildId), record as unknown as Record<string, unknown>);
  tx.set(modelDoc(db, record.modelId), modelEntry(record, previousModel) as unknown as Record<string, unknown>);
}

export class FirestoreBuildStore implements BuildStore {
  constructor(private readonly db: Firestore) {}

  async get(modelId: string, buildId: string): Promise<BuildRecord | undefined> {
    const snap = await buildDoc(this.db, modelId, buildId).get();
    return snap.exists ? (snap.data() as BuildRecord) : undefined;
  }

  async create(record: BuildRecord): Promise<{ created: boolean; record: BuildRecord }> {
    return this.db.runTransaction(async (tx) => {
      const ref = buildDoc(this.db, record.modelId, record.buildId);
      const [snap, model] = await Promise.all([tx.get(ref), tx.get(modelDoc(this.db, record.modelId))]);
      if (snap.exists) return { created: false, record: snap.data() as BuildRecord };
      await writeBoth(this.db, tx, record, model.data() as ModelEntry | undefined);
      return { created: true, record };
    });
  }

  async update<T>(
    modelId: string,
    buildId: string,
    fn: (record: BuildRecord) => T,
  ): Promise<{ result: T; record: BuildRecord }> {
    return this.db.runTransaction(async (tx) => {
      const ref = buildDoc(this.db, modelId, buildId);
      const [snap, model] = await Promise.all([tx.get(ref), tx.get(modelDoc(this.db, modelId))]);
      if (!snap.exists) throw new Error(`build ${modelId}/${buildId} does not exist`);
      const record = snap.data() as BuildRecord;
      const result = fn(record);
      await writeBoth(this.db, tx, record, model.data() as ModelEntry | undefined);
      return { result, record };
    });
  }
}
