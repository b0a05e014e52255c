import { Timestamp, GeoPoint, DocumentReference } from 'firebase-admin/firestore';

/**
 * A document's storage size by Firestore's published rules (firebase.google.com/docs/firestore/storage-size): string =
 * UTF-8 bytes + 1, boolean/null = 1, number/timestamp = 8, geopoint = 16, map = its keys (as strings) + values, array
 * = its values; document = its name (each path segment as a string, + 16) + its fields + 32. The limit is 1 MiB.
 */
export function valueSize(v: unknown): number {
  if (v === null || v === undefined || typeof v === 'boolean') return 1;
  if (typeof v === 'number') return 8;
  if (typeof v === 'string') return Buffer.byteLength(v, 'utf8') + 1;
  if (v instanceof Timestamp) return 8;
  if (v instanceof GeoPoint) return 16;
  if (v instanceof DocumentReference) return documentNameSize(v.path);
  if (v instanceof Uint8Array) return v.byteLength;
  if (Array.isArray(v)) return v.reduce((n: number, x) => n + valueSize(x), 0);
  return Object.entries(v as Record<string, unknown>).reduce((n, [k, x]) => n + valueSize(k) + valueSize(x), 0);
}

export function documentNameSize(path: string): number {
  return path.split('/').reduce((n, seg) => n + valueSize(seg), 0) + 16;
}

export function documentSize(path: string, data: Record<string, unknown>): number {
  return documentNameSize(path) + valueSize(data) + 32;
}
