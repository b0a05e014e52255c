/**
 * Emulator configuration, validated with zod. Environment variables:
 *   KILN_STORAGE_DIR          data directory (default `.kiln/storage`)
 *   KILN_STORAGE_PORT         port for the CLI (default 9023)
 *   KILN_STORAGE_LOG_LEVEL    debug | info | warn | error | silent (default info)
 *   KILN_STORAGE_SUBSCRIBERS  JSON array of {bucket?, eventType, url}
 */
import { resolve } from 'node:path';
import { z } from 'zod';

export const DEFAULT_PORT = 9023;
export const DEFAULT_DATA_DIR = '.kiln/storage';

export const STORAGE_EVENT_TYPES = [
  'google.cloud.storage.object.v1.finalized',
  'google.cloud.storage.object.v1.deleted',
  'google.cloud.storage.object.v1.metadataUpdated',
] as const;

export const EventTypeSchema = z.enum(STORAGE_EVENT_TYPES);
export type StorageEventType = z.infer<typeof EventTypeSchema>;

const httpUrl = z.url({ protocol: /^https?$/ });

export const SubscriberSchema = z.strictObject({
  /** Bucket to watch; omitted or `*` means every bucket. */
  bucket: z.string().min(1).optional(),
  eventType: EventTypeSchema,
  url: httpUrl,
});
export type SubscriberInput = z.input<typeof SubscriberSchema>;
export type SubscriberSpec = z.output<typeof SubscriberSchema>;

export const DeliverySchema = z.strictObject({
  /** Total attempts per event and subscriber (first try included). */
  maxAttempts: z.number().int().min(1).max(50).default(6),
  /** Delay before the first retry; doubles on every further retry. */
  initialBackoffMs: z.number().int().min(0).default(1000),
  maxBackoffMs: z.number().int().min(0).default(30_000),
  /** Per-attempt request timeout. */
  timeoutMs: z.number().int().min(1).default(10_000),
});
export type DeliveryOptions = z.output<typeof DeliverySchema>;

export const LogLevelSchema = z.enum(['debug', 'info', 'warn', 'error', 'silent']);

export const EmulatorOptionsSchema = z.strictObject({
  /** 0 picks an ephemeral port. */
  port: z.number().int().min(0).max(65535).default(DEFAULT_PORT),
  /** The emulator only ever binds to loopback. */
  host: z.literal('127.0.0.1').default('127.0.0.1'),
  dataDir: z
    .string()
    .min(1)
    .transform((p) => resolve(p))
    .prefault(() => process.env.KILN_STORAGE_DIR || DEFAULT_DATA_DIR),
  subscribers: z.array(SubscriberSchema).default([]),
  delivery: DeliverySchema.prefault({}),
  logLevel: LogLevelSchema.default('info'),
});
export type EmulatorOptionsInput = z.input<typeof EmulatorOptionsSchema>;
export type EmulatorConfig = z.output<typeof EmulatorOptionsSchema>;

export function parseOptions(input: unknown): EmulatorConfig {
  const result = EmulatorOptionsSchema.safeParse(input ?? {});
  if (!result.success) {
    throw new Error(`Invalid storage emulator options: ${z.prettifyError(result.error)}`);
  }
  return result.data;
}

const PortFromEnv = z.coerce.number().int().min(0).max(65535);

/** Builds CLI options from the environment (explicit overrides win). */
export function optionsFromEnv(env: NodeJS.ProcessEnv = process.env): EmulatorOptionsInput {
  const out: EmulatorOptionsInput = {};
  if (env.KILN_STORAGE_PORT !== undefined && env.KILN_STORAGE_PORT !== '') {
    const port = PortFromEnv.safeParse(env.KILN_STORAGE_PORT);
    if (!port.success) throw new Error(`KILN_STORAGE_PORT is not a valid port: ${env.KILN_STORAGE_PORT}`);
    out.port = port.data;
  }
  if (env.KILN_STORAGE_DIR) out.dataDir = env.KILN_STORAGE_DIR;
  if (env.KILN_STORAGE_LOG_LEVEL) {
    const level = LogLevelSchema.safeParse(env.KILN_STORAGE_LOG_LEVEL);
    if (!level.success) throw new Error(`KILN_STORAGE_LOG_LEVEL is invalid: ${env.KILN_STORAGE_LOG_LEVEL}`);
    out.logLevel = level.data;
  }
  if (env.KILN_STORAGE_SUBSCRIBERS) {
    let raw: unknown;
    try {
      raw = JSON.parse(env.KILN_STORAGE_SUBSCRIBERS);
    } catch {
      throw new Error('KILN_STORAGE_SUBSCRIBERS must be a JSON array of {bucket?, eventType, url}');
    }
    const subs = z.array(SubscriberSchema).safeParse(raw);
    if (!subs.success) throw new Error(`KILN_STORAGE_SUBSCRIBERS is invalid: ${z.prettifyError(subs.error)}`);
    out.subscribers = subs.data;
  }
  return out;
}
