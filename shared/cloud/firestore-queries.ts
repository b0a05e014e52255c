import type { Firestore, Query } from 'firebase-admin/firestore';
import type { BuildRecord } from '../pipeline/build-state.js';
import { buildDoc } from './firestore-builds.js';
import { fromStoredBuild } from './firestore-times.js';

/**
 * Every Firestore query Kiln makes, as data: the module that runs them and the test that checks each one against
 * firestore.indexes.json (test/pipeline/firestore-indexes.test.ts) read the same table. Firestore in production
 * refuses a query without an index (the emulator does not), so a query added anywhere else would break only there.
 */
export type QueryScope = 'COLLECTION' | 'COLLECTION_GROUP';

export interface QuerySpec {
  collectionGroup: string;
  scope: QueryScope;
  /** Equality filters, in order. */
  equals: readonly string[];
  orderBy: readonly { field: string; direction: 'asc' | 'desc' }[];
}

export const QUERIES = {
  /** The results page: the newest builds of every model. */
  recentBuilds: {
    collectionGroup: 'builds',
    scope: 'COLLECTION_GROUP',
    equals: [],
    orderBy: [{ field: 'createdAt', direction: 'desc' }],
  },
  /** The results page filtered by status (`/api/builds?status=failed`). */
  recentBuildsByStatus: {
    collectionGroup: 'builds',
    scope: 'COLLECTION_GROUP',
    equals: ['status'],
    orderBy: [{ field: 'createdAt', direction: 'desc' }],
  },
} as const satisfies Record<string, QuerySpec>;

function query(db: Firestore, spec: QuerySpec, values: readonly unknown[]): Query {
  if (spec.scope !== 'COLLECTION_GROUP') throw new Error('only collection-group queries are defined');
  let q: Query = db.collectionGroup(spec.collectionGroup);
  spec.equals.forEach((field, i) => (q = q.where(field, '==', values[i])));
  for (const o of spec.orderBy) q = q.orderBy(o.field, o.direction);
  return q;
}

/** The most recent builds of every model, newest first; only those with `status` when given. */
export async function recentBuilds(db: Firestore, limit: number, status?: string): Promise<BuildRecord[]> {
  const q =
    status === undefined ? query(db, QUERIES.recentBuilds, []) : query(db, QUERIES.recentBuildsByStatus, [status]);
  const snap = await q.limit(limit).get();
  return snap.docs.map((d) => fromStoredBuild(d.data()));
}

/** One build by its path (a document read: no index). */
export async function readBuild(db: Firestore, modelId: string, buildId: string): Promise<BuildRecord | undefined> {
  const snap = await buildDoc(db, modelId, buildId).get();
  return snap.exists ? fromStoredBuild(snap.data()!) : undefined;
}
