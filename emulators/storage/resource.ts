/** Renders stored records as Cloud Storage JSON API resources. */
import type { BucketRecord, ObjectRecord } from './records.js';

export const PROJECT_NUMBER = '0';

function varint(value: bigint): number[] {
  const out: number[] = [];
  let v = value;
  do {
    let byte = Number(v & 0x7fn);
    v >>= 7n;
    if (v > 0n) byte |= 0x80;
    out.push(byte);
  } while (v > 0n);
  return out;
}

/** GCS-style etag: base64 of the protobuf encoding {1: generation, 2: metageneration}. */
export function objectEtag(generation: string, metageneration: string): string {
  return Buffer.from([0x08, ...varint(BigInt(generation)), 0x10, ...varint(BigInt(metageneration))]).toString('base64');
}

export function bucketEtag(metageneration: string): string {
  return Buffer.from([0x10, ...varint(BigInt(metageneration))]).toString('base64');
}

export type ObjectResource = Record<string, unknown> & {
  kind: 'storage#object';
  name: string;
  bucket: string;
  generation: string;
  metageneration: string;
  size: string;
};

const enc = encodeURIComponent;

export function objectResource(rec: ObjectRecord, baseUrl: string): ObjectResource {
  const path = `b/${enc(rec.bucket)}/o/${enc(rec.name)}`;
  const res: ObjectResource = {
    kind: 'storage#object',
    id: `${rec.bucket}/${rec.name}/${rec.generation}`,
    selfLink: `${baseUrl}/storage/v1/${path}`,
    mediaLink: `${baseUrl}/download/storage/v1/${path}?generation=${rec.generation}&alt=media`,
    name: rec.name,
    bucket: rec.bucket,
    generation: rec.generation,
    metageneration: rec.metageneration,
    contentType: rec.contentType ?? 'application/octet-stream',
    storageClass: rec.storageClass,
    size: String(rec.size),
    md5Hash: rec.md5Hash,
    crc32c: rec.crc32c,
    etag: objectEtag(rec.generation, rec.metageneration),
    timeCreated: rec.timeCreated,
    updated: rec.updated,
    timeStorageClassUpdated: rec.timeStorageClassUpdated,
    timeFinalized: rec.timeCreated,
  };
  if (rec.contentEncoding !== undefined) res.contentEncoding = rec.contentEncoding;
  if (rec.contentDisposition !== undefined) res.contentDisposition = rec.contentDisposition;
  if (rec.contentLanguage !== undefined) res.contentLanguage = rec.contentLanguage;
  if (rec.cacheControl !== undefined) res.cacheControl = rec.cacheControl;
  if (rec.customTime !== undefined) res.customTime = rec.customTime;
  if (rec.metadata !== undefined) res.metadata = { ...rec.metadata };
  return res;
}

export function bucketResource(rec: BucketRecord, baseUrl: string): Record<string, unknown> {
  return {
    kind: 'storage#bucket',
    id: rec.name,
    selfLink: `${baseUrl}/storage/v1/b/${enc(rec.name)}`,
    projectNumber: PROJECT_NUMBER,
    name: rec.name,
    timeCreated: rec.timeCreated,
    updated: rec.updated,
    metageneration: rec.metageneration,
    location: rec.location,
    locationType: 'multi-region',
    storageClass: rec.storageClass,
    etag: bucketEtag(rec.metageneration),
    iamConfiguration: {
      uniformBucketLevelAccess: { enabled: true },
      publicAccessPrevention: 'inherited',
    },
    ...(rec.labels ? { labels: { ...rec.labels } } : {}),
  };
}

export function storageLayoutResource(rec: BucketRecord): Record<string, unknown> {
  return {
    kind: 'storage#storageLayout',
    bucket: rec.name,
    location: rec.location,
    locationType: 'multi-region',
    hierarchicalNamespace: { enabled: false },
  };
}
