import { z } from 'zod';
import { STAGE_NAMES } from './stages.js';

/**
 * Pub/Sub message schemas between stages, versioned by the `schema` field. Every consumer parses with zod; a message
 * that does not parse is acknowledged and logged (redelivering it could never succeed).
 */
export const STAGE_MESSAGE_SCHEMA_V1 = 'dev.kiln.stage-message.v1';

export const UploadRefSchema = z.strictObject({
  bucket: z.string().min(1),
  /** The object that started the build: the model file, or the folder's kiln.json. */
  object: z.string().min(1),
  generation: z.string().regex(/^\d+$/),
  kind: z.enum(['single-file', 'folder']),
  /** Single file: the format its name implies. */
  format: z.string().optional(),
  /** Folder: the prefix every file of the upload shares (ends with `/`). */
  prefix: z.string().optional(),
  uri: z.string().startsWith('gs://'),
});
export type UploadRef = z.infer<typeof UploadRefSchema>;

export const UnitSchema = z.strictObject({
  key: z.string().min(1),
  index: z.number().int().min(0),
  count: z.number().int().min(1),
  params: z.record(z.string(), z.unknown()),
});

export const StageMessageSchema = z.strictObject({
  schema: z.literal(STAGE_MESSAGE_SCHEMA_V1),
  buildId: z.string().regex(/^[0-9a-f]{24}$/),
  modelId: z.string().min(1),
  stage: z.enum(STAGE_NAMES),
  unit: UnitSchema,
});
export type StageMessage = z.infer<typeof StageMessageSchema>;

/** Parses the bytes of a Pub/Sub message's data. Returns the issue text instead of throwing. */
export function parseStageMessage(
  data: Uint8Array | string,
): { ok: true; message: StageMessage } | { ok: false; reason: string } {
  let json: unknown;
  try {
    json = JSON.parse(typeof data === 'string' ? data : Buffer.from(data).toString('utf8'));
  } catch {
    return { ok: false, reason: 'message data is not JSON' };
  }
  const parsed = StageMessageSchema.safeParse(json);
  if (!parsed.success) return { ok: false, reason: z.prettifyError(parsed.error) };
  return { ok: true, message: parsed.data };
}

export function encodeStageMessage(m: StageMessage): Buffer {
  return Buffer.from(JSON.stringify(StageMessageSchema.parse(m)));
}
