import test from 'ava';
import { readFileSync } from 'node:fs';
import { QUERIES, type QuerySpec } from '../../shared/cloud/firestore-queries.js';

/**
 * Every query in the query table has the index production Firestore demands (the emulator demands none): a composite
 * index of the query's scope with its equality fields and then its order, or — for a query on one field — a
 * single-field index of that scope (automatic for collections unless an override removes it; a collection group needs
 * it listed in fieldOverrides).
 */
interface IndexField {
  fieldPath: string;
  order?: string;
}
interface IndexFile {
  indexes: { collectionGroup: string; queryScope: string; fields: IndexField[] }[];
  fieldOverrides: { collectionGroup: string; fieldPath: string; indexes: { queryScope: string; order?: string }[] }[];
}
const file = JSON.parse(readFileSync(new URL('../../firestore.indexes.json', import.meta.url), 'utf8')) as IndexFile;

const ORDER = { asc: 'ASCENDING', desc: 'DESCENDING' } as const;

/** The index fields a query needs: equality fields (ascending; their order is free), then the sort fields. */
function needed(q: QuerySpec): IndexField[] {
  return [
    ...q.equals.map((f) => ({ fieldPath: f, order: 'ASCENDING' })),
    ...q.orderBy.map((o) => ({ fieldPath: o.field, order: ORDER[o.direction] })),
  ];
}

function indexFor(q: QuerySpec, f: IndexFile): string | undefined {
  const fields = needed(q);
  if (fields.length >= 2) {
    const sorted = q.orderBy.map((o) => `${o.field}:${ORDER[o.direction]}`);
    const equals = new Set(q.equals);
    const hit = f.indexes.find(
      (ix) =>
        ix.collectionGroup === q.collectionGroup &&
        ix.queryScope === q.scope &&
        ix.fields.length === fields.length &&
        new Set(ix.fields.slice(0, equals.size).map((x) => x.fieldPath)).size === equals.size &&
        ix.fields.slice(0, equals.size).every((x) => equals.has(x.fieldPath)) &&
        ix.fields.slice(equals.size).every((x, i) => `${x.fieldPath}:${x.order}` === sorted[i]),
    );
    return hit
      ? `composite ${hit.queryScope} ${hit.fields.map((x) => `${x.fieldPath}:${x.order}`).join(',')}`
      : undefined;
  }
  const [one] = fields as [IndexField];
  const override = f.fieldOverrides.find(
    (o) => o.collectionGroup === q.collectionGroup && o.fieldPath === one.fieldPath,
  );
  if (!override) return q.scope === 'COLLECTION' ? 'automatic single-field index' : undefined;
  const hit = override.indexes.find((i) => i.queryScope === q.scope && i.order === one.order);
  return hit ? `field override ${hit.queryScope} ${one.fieldPath}:${hit.order}` : undefined;
}

for (const [name, q] of Object.entries(QUERIES)) {
  test(`query ${name} has its index in firestore.indexes.json`, (t) => {
    t.truthy(indexFor(q, file), `${name}: ${q.scope} ${JSON.stringify(needed(q))} has no index`);
  });
}

test('the check tells scope, order and field set apart', (t) => {
  const q: QuerySpec = QUERIES.recentBuildsByStatus;
  const swapScope = { ...q, scope: 'COLLECTION' as const };
  const other = { ...file, indexes: file.indexes.filter((ix) => ix.queryScope !== 'COLLECTION_GROUP') };
  t.falsy(indexFor(q, other), 'a collection index does not serve a collection-group query');
  t.truthy(indexFor(swapScope, file));
  t.falsy(indexFor({ ...q, orderBy: [{ field: 'createdAt', direction: 'asc' }] }, file), 'wrong order');
  t.falsy(indexFor({ ...q, equals: ['modelId'] }, file), 'wrong equality field');
  const single: QuerySpec = QUERIES.recentBuilds;
  t.falsy(indexFor(single, { ...file, fieldOverrides: [] }), 'a collection group needs its single-field index listed');
  t.truthy(indexFor({ ...single, scope: 'COLLECTION' }, { ...file, fieldOverrides: [] }), 'automatic for a collection');
  t.falsy(
    indexFor({ ...single, orderBy: [{ field: 'stages', direction: 'desc' }], scope: 'COLLECTION' }, file),
    'exempted field',
  );
});
