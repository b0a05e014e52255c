import { z } from 'zod';
import { STAGE_NAMES } from './stages.js';
import { UploadRefSchema } from './messages.js';

/**
 * The CloudEvent vocabulary Kiln publishes on the events topic (docs/events.md). Types are versioned in the name
 * (`dev.kiln.build.v1.*`); a breaking change to a data schema makes a `v2` type published next to `v1`. Event ids are
 * deterministic (`<buildId>/<what>`), so a redelivered or republished event can be dropped by id.
 */
export const EVENT_TYPES = {
  started: 'dev.kiln.build.v1.started',
  stageSucceeded: 'dev.kiln.build.v1.stage.succeeded',
  stageFailed: 'dev.kiln.build.v1.stage.failed',
  completed: 'dev.kiln.build.v1.completed',
  failed: 'dev.kiln.build.v1.failed',
} as const;
export type EventKind = keyof typeof EVENT_TYPES;
export type EventType = (typeof EVENT_TYPES)[EventKind];

const ErrorInfoSchema = z.strictObject({
  code: z.string(),
  message: z.string(),
  retryable: z.boolean(),
});
export type ErrorInfo = z.infer<typeof ErrorInfoSchema>;

const base = { buildId: z.string(), modelId: z.string() };
const artifacts = z.record(z.string(), z.string().startsWith('gs://'));
const summary = z.record(z.string(), z.unknown());

export const EVENT_DATA_SCHEMAS = {
  started: z.strictObject({ ...base, input: UploadRefSchema, config: z.record(z.string(), z.unknown()) }),
  stageSucceeded: z.strictObject({
    ...base,
    stage: z.enum(STAGE_NAMES),
    durationMs: z.number(),
    artifacts,
    summary,
  }),
  stageFailed: z.strictObject({
    ...base,
    stage: z.enum(STAGE_NAMES),
    unit: z.string(),
    attempts: z.number().int(),
    error: ErrorInfoSchema,
  }),
  completed: z.strictObject({
    ...base,
    status: z.literal('succeeded'),
    input: UploadRefSchema,
    artifacts,
    summary,
    stageTimings: z.record(z.string(), z.number()),
  }),
  failed: z.strictObject({
    ...base,
    status: z.literal('failed'),
    input: UploadRefSchema,
    stage: z.enum(STAGE_NAMES),
    error: ErrorInfoSchema,
    artifacts,
  }),
} as const satisfies Record<EventKind, z.ZodType>;

export type EventData<K extends EventKind> = z.infer<(typeof EVENT_DATA_SCHEMAS)[K]>;

export interface KilnCloudEvent<K extends EventKind = EventKind> {
  specversion: '1.0';
  id: string;
  type: (typeof EVENT_TYPES)[K];
  source: string;
  subject: string;
  time: string;
  datacontenttype: 'application/json';
  data: EventData<K>;
}

export function eventSource(projectId: string): string {
  return `//kiln.dev/projects/${projectId}`;
}

/** Builds and validates one event. `idSuffix` distinguishes events of the same kind within a build. */
export function makeEvent<K extends EventKind>(
  kind: K,
  projectId: string,
  data: EventData<K>,
  time: string,
  idSuffix = '',
): KilnCloudEvent<K> {
  const parsed = EVENT_DATA_SCHEMAS[kind].parse(data) as EventData<K>;
  return {
    specversion: '1.0',
    id: `${data.buildId}/${kind}${idSuffix ? `/${idSuffix}` : ''}`,
    type: EVENT_TYPES[kind],
    source: eventSource(projectId),
    subject: `models/${data.modelId}/builds/${data.buildId}`,
    time,
    datacontenttype: 'application/json',
    data: parsed,
  };
}

/**
 * The Pub/Sub form (CloudEvents Pub/Sub protocol binding, binary content mode): attributes `ce-*`, the data as the
 * message body. `ce-buildid` / `ce-modelid` are extension attributes so subscriptions can filter on them.
 */
export function toPubsubMessage(event: KilnCloudEvent): { data: Buffer; attributes: Record<string, string> } {
  return {
    data: Buffer.from(JSON.stringify(event.data)),
    attributes: {
      'ce-specversion': event.specversion,
      'ce-id': event.id,
      'ce-type': event.type,
      'ce-source': event.source,
      'ce-subject': event.subject,
      'ce-time': event.time,
      'ce-buildid': event.data.buildId,
      'ce-modelid': event.data.modelId,
      'content-type': event.datacontenttype,
    },
  };
}

const KIND_OF_TYPE = Object.fromEntries(Object.entries(EVENT_TYPES).map(([k, t]) => [t, k])) as Record<
  EventType,
  EventKind
>;

/** Reads an event back from a Pub/Sub message (for subscribers: `kiln watch`, tests). Throws on a foreign message. */
export function fromPubsubMessage(data: Uint8Array, attributes: Record<string, string>): KilnCloudEvent {
  const kind = KIND_OF_TYPE[attributes['ce-type'] as EventType];
  if (!kind) throw new Error(`not a Kiln build event: type ${attributes['ce-type'] ?? '(none)'}`);
  const json: unknown = JSON.parse(Buffer.from(data).toString('utf8'));
  return {
    specversion: '1.0',
    id: attributes['ce-id'] ?? '',
    type: EVENT_TYPES[kind],
    source: attributes['ce-source'] ?? '',
    subject: attributes['ce-subject'] ?? '',
    time: attributes['ce-time'] ?? '',
    datacontenttype: 'application/json',
    data: EVENT_DATA_SCHEMAS[kind].parse(json),
  } as KilnCloudEvent;
}
