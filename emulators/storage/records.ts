/**
 * On-disk records (bucket.json and per-object JSON sidecars) and the writable object metadata
 * fields accepted from clients.
 */
import { z } from 'zod';

export const BucketRecordSchema = z.object({
  name: z.string(),
  location: z.string(),
  storageClass: z.string(),
  timeCreated: z.string(),
  updated: z.string(),
  metageneration: z.string(),
  labels: z.record(z.string(), z.string()).optional(),
});
export type BucketRecord = z.infer<typeof BucketRecordSchema>;

export const ObjectRecordSchema = z.object({
  bucket: z.string(),
  name: z.string(),
  generation: z.string().regex(/^\d+$/),
  metageneration: z.string().regex(/^\d+$/),
  size: z.number().int().min(0),
  md5Hash: z.string(),
  crc32c: z.string(),
  contentType: z.string().optional(),
  contentEncoding: z.string().optional(),
  contentDisposition: z.string().optional(),
  contentLanguage: z.string().optional(),
  cacheControl: z.string().optional(),
  customTime: z.string().optional(),
  metadata: z.record(z.string(), z.string()).optional(),
  storageClass: z.string(),
  timeCreated: z.string(),
  updated: z.string(),
  timeStorageClassUpdated: z.string(),
  /** Basename of the content file next to the sidecar. */
  dataFile: z.string(),
});
export type ObjectRecord = z.infer<typeof ObjectRecordSchema>;

/** Fields a client may set on an object (on upload, patch, update, rewrite or compose). */
export const STRING_FIELDS = [
  'contentType',
  'contentEncoding',
  'contentDisposition',
  'contentLanguage',
  'cacheControl',
  'customTime',
] as const;
export type StringField = (typeof STRING_FIELDS)[number];

const metadataValue = z
  .union([z.string(), z.number(), z.boolean()])
  .transform((v) => String(v))
  .nullable();

/**
 * Client-supplied object resource (JSON body). Unknown fields (acl, kmsKeyName, ...) are accepted
 * and ignored; `null` means "clear" in patch semantics.
 */
export const ObjectInputSchema = z.object({
  name: z.string().optional(),
  contentType: z.string().nullable().optional(),
  contentEncoding: z.string().nullable().optional(),
  contentDisposition: z.string().nullable().optional(),
  contentLanguage: z.string().nullable().optional(),
  cacheControl: z.string().nullable().optional(),
  customTime: z.string().nullable().optional(),
  metadata: z.record(z.string(), metadataValue).nullable().optional(),
  md5Hash: z.string().optional(),
  crc32c: z.string().optional(),
});
export type ObjectInput = z.infer<typeof ObjectInputSchema>;

/** The writable part of an object record. */
export type ObjectFields = Partial<Pick<ObjectRecord, StringField | 'metadata'>>;

function cleanMetadata(m: Record<string, string | null> | null | undefined): Record<string, string> | undefined {
  if (!m) return undefined;
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(m)) if (v !== null) out[k] = v;
  return Object.keys(out).length > 0 ? out : undefined;
}

/** Fields for a brand-new object (upload / full update): absent or null means unset. */
export function fieldsFromInput(input: ObjectInput): ObjectFields {
  const out: ObjectFields = {};
  for (const f of STRING_FIELDS) {
    const v = input[f];
    if (typeof v === 'string') out[f] = v;
  }
  const metadata = cleanMetadata(input.metadata);
  if (metadata) out.metadata = metadata;
  return out;
}

/** Applies patch semantics: only present keys change; null clears; `metadata` merges per key. */
export function patchFields(current: ObjectFields, input: ObjectInput): ObjectFields {
  const out: ObjectFields = { ...current };
  for (const f of STRING_FIELDS) {
    const v = input[f];
    if (v === null) delete out[f];
    else if (typeof v === 'string') out[f] = v;
  }
  if (input.metadata === null) {
    delete out.metadata;
  } else if (input.metadata !== undefined) {
    const merged: Record<string, string | null> = { ...(current.metadata ?? {}), ...input.metadata };
    const metadata = cleanMetadata(merged);
    if (metadata) out.metadata = metadata;
    else delete out.metadata;
  }
  return out;
}

export function pickFields(rec: ObjectRecord): ObjectFields {
  const out: ObjectFields = {};
  for (const f of STRING_FIELDS) if (rec[f] !== undefined) out[f] = rec[f];
  if (rec.metadata) out.metadata = { ...rec.metadata };
  return out;
}

/** True when the JSON body carries any writable field (used by rewrite/copy to decide overrides). */
export function hasWritableFields(input: ObjectInput): boolean {
  return STRING_FIELDS.some((f) => input[f] !== undefined) || input.metadata !== undefined;
}
