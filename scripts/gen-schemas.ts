import { mkdir, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { format, resolveConfig } from 'prettier';
import { eventSchemaFiles, SCHEMA_FOLDER } from '../shared/pipeline/event-schemas.js';

/** `npm run gen:schemas`: writes docs/schemas/<event type>.json from the zod schemas (formatted as the repo is). */
const root = new URL('../', import.meta.url);
await mkdir(new URL(`${SCHEMA_FOLDER}/`, root), { recursive: true });
for (const [name, schema] of Object.entries(eventSchemaFiles())) {
  const file = new URL(`${SCHEMA_FOLDER}/${name}`, root);
  const options = (await resolveConfig(fileURLToPath(file))) ?? {};
  await writeFile(file, await format(JSON.stringify(schema), { ...options, filepath: fileURLToPath(file) }));
  process.stdout.write(`${SCHEMA_FOLDER}/${name}\n`);
}
