import { z } from 'zod';

/**
 * What a Pub/Sub push delivery looks like once the functions framework has turned it into a CloudEvent
 * (`google.cloud.pubsub.topic.v1.messagePublished`): `data.message.data` is the base64 message body.
 */
const EnvelopeSchema = z.looseObject({
  message: z.looseObject({
    data: z.string().optional(),
    attributes: z.record(z.string(), z.string()).optional(),
    messageId: z.string().optional(),
  }),
});

export function messageBytesOf(
  eventData: unknown,
): { ok: true; bytes: Buffer; attributes: Record<string, string> } | { ok: false; reason: string } {
  const parsed = EnvelopeSchema.safeParse(eventData);
  if (!parsed.success) return { ok: false, reason: 'not a Pub/Sub message envelope' };
  const { data, attributes } = parsed.data.message;
  return { ok: true, bytes: Buffer.from(data ?? '', 'base64'), attributes: attributes ?? {} };
}

/** The fields of a `google.cloud.storage.object.v1.finalized` event's data (a Cloud Storage object resource). */
export const StorageObjectDataSchema = z.looseObject({
  bucket: z.string().min(1),
  name: z.string().min(1),
  generation: z.union([z.string(), z.number()]).transform(String),
  size: z.union([z.string(), z.number()]).transform(Number).optional(),
  metadata: z.record(z.string(), z.string()).optional(),
});
