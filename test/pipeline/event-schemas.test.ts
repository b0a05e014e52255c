import test from 'ava';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { readdirSync, readFileSync } from 'node:fs';
import { eventSchemaFiles, SCHEMA_FOLDER } from '../../shared/pipeline/event-schemas.js';
import {
  dataschemaOf,
  EVENT_TYPES,
  fromPubsubMessage,
  makeEvent,
  toPubsubMessage,
  type EventKind,
  type KilnCloudEvent,
} from '../../shared/pipeline/events.js';
import { SINGLE_FILE_UPLOAD as input, T } from '../helpers/builds.js';

/**
 * docs/schemas/ holds the JSON Schemas of the events' data, generated from the zod schemas (`npm run gen:schemas`):
 * the committed files are the generated ones, every event names its schema in `dataschema`, and the schemas accept
 * the events Kiln makes and reject what it never sends.
 */
const folder = new URL(`../../${SCHEMA_FOLDER}/`, import.meta.url);
const committed = Object.fromEntries(
  readdirSync(folder)
    .filter((f) => f.endsWith('.json'))
    .map((f) => [f, JSON.parse(readFileSync(new URL(f, folder), 'utf8')) as Record<string, unknown>]),
);

test('the committed schema files are the generated ones (run `npm run gen:schemas` after changing events.ts)', (t) => {
  t.deepEqual(committed, eventSchemaFiles());
});

const ajv = new Ajv2020({ strict: true, allErrors: true });
for (const schema of Object.values(committed)) ajv.addSchema(schema);

const artifacts = { 'model.int8.tflite': 'gs://kiln-artifacts/m/b1/model.int8.tflite' };
const error = { code: 'E_UNSUPPORTED_OP', message: 'op X is not supported; remove it', retryable: false };
const EVENTS: { [K in EventKind]: KilnCloudEvent<K> } = {
  started: makeEvent('started', 'kiln-local', { buildId: 'b1', modelId: 'm', input, config: { verify: {} } }, T(0)),
  stageSucceeded: makeEvent(
    'stageSucceeded',
    'kiln-local',
    { buildId: 'b1', modelId: 'm', stage: 'quantize', durationMs: 1200, artifacts, summary: { method: 'ptq' } },
    T(1),
    'quantize',
  ),
  stageFailed: makeEvent(
    'stageFailed',
    'kiln-local',
    { buildId: 'b1', modelId: 'm', stage: 'compile', unit: 'm13', attempts: 3, error },
    T(2),
    'compile',
  ),
  completed: makeEvent(
    'completed',
    'kiln-local',
    {
      buildId: 'b1',
      modelId: 'm',
      status: 'succeeded',
      input,
      artifacts,
      summary: { verify: { verdict: 'ok' } },
      stageTimings: { convert: 5, quantize: 1200 },
    },
    T(3),
  ),
  failed: makeEvent(
    'failed',
    'kiln-local',
    { buildId: 'b1', modelId: 'm', status: 'failed', input, stage: 'compile', error, artifacts },
    T(3),
  ),
};

for (const [kind, event] of Object.entries(EVENTS) as [EventKind, KilnCloudEvent][]) {
  test(`${kind}: dataschema names its published schema, which accepts the event's data`, (t) => {
    t.is(event.dataschema, dataschemaOf(EVENT_TYPES[kind]));
    t.is(event.dataschema, `urn:kiln:docs/schemas/${EVENT_TYPES[kind]}.json`);
    const validate = ajv.getSchema(event.dataschema);
    if (!validate) return t.fail(`no schema with $id ${event.dataschema} in ${SCHEMA_FOLDER}`);
    t.true(validate(event.data), JSON.stringify(validate.errors));
    // the Pub/Sub form carries it, and a subscriber reads it back
    const m = toPubsubMessage(event);
    t.is(m.attributes['ce-dataschema'], event.dataschema);
    t.is(fromPubsubMessage(m.data, m.attributes).dataschema, event.dataschema);
    // what Kiln never sends is rejected: a missing field, an unknown one
    const { buildId: _b, ...missing } = event.data;
    t.false(validate(missing));
    t.false(validate({ ...event.data, extra: 1 }));
  });
}

test('the schemas check what zod checks: artifact URIs, stage names, enum and literal fields', (t) => {
  const completed = ajv.getSchema(dataschemaOf(EVENT_TYPES.completed))!;
  t.false(completed({ ...EVENTS.completed.data, artifacts: { x: 'https://elsewhere' } }));
  t.false(completed({ ...EVENTS.completed.data, status: 'failed' }));
  t.false(completed({ ...EVENTS.completed.data, input: { ...input, kind: 'archive' } }));
  const stage = ajv.getSchema(dataschemaOf(EVENT_TYPES.stageFailed))!;
  t.false(stage({ ...EVENTS.stageFailed.data, stage: 'bake' }));
  t.false(stage({ ...EVENTS.stageFailed.data, attempts: 1.5 }));
});
