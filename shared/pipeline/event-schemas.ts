import { z } from 'zod';
import { dataschemaOf, EVENT_DATA_SCHEMAS, EVENT_TYPES, SCHEMA_FOLDER, schemaFile, type EventKind } from './events.js';

/**
 * The published JSON Schemas of the events' `data`, generated from the zod schemas of events.ts (the source of
 * truth) into docs/schemas/<type>.json by `npm run gen:schemas`; a test keeps the committed files equal to these.
 * Every event names its schema in the CloudEvents `dataschema` attribute: a URN that is the schema file's path in the
 * Kiln repository, `urn:kiln:docs/schemas/<type>.json`, which is also the schema's `$id`.
 */
export { SCHEMA_FOLDER };

/** The JSON Schema of one event kind's `data`. */
export function eventJsonSchema(kind: EventKind): Record<string, unknown> {
  const type = EVENT_TYPES[kind];
  const generated = z.toJSONSchema(EVENT_DATA_SCHEMAS[kind], {
    // zod records `startsWith` as a non-standard format next to the pattern that checks it; the pattern suffices.
    override: (ctx) => {
      if (ctx.jsonSchema.format === 'starts_with') delete ctx.jsonSchema.format;
    },
  });
  const { $schema, ...rest } = generated as Record<string, unknown>;
  return {
    $schema,
    $id: dataschemaOf(type),
    title: type,
    description: `The data of a ${type} CloudEvent (docs/events.md). Generated from shared/pipeline/events.ts.`,
    ...rest,
  };
}

/** Every schema file by name (under docs/schemas/). */
export function eventSchemaFiles(): Record<string, Record<string, unknown>> {
  return Object.fromEntries(
    (Object.keys(EVENT_TYPES) as EventKind[]).map((k) => [schemaFile(EVENT_TYPES[k]), eventJsonSchema(k)]),
  );
}
