import test from 'ava';
import { ESLint } from 'eslint';
import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { LAYERS } from '../../eslint/layers.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const eslint = new ESLint({ cwd: ROOT });

/** Lints `code` as if it were the file at repo path `file`; returns the messages of the layer rule. */
async function layerMessages(file: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath: join(ROOT, file) });
  return result!.messages.filter((m) => m.ruleId === 'kiln/import-layers').map((m) => m.message);
}

test('an import down the layers passes', async (t) => {
  t.deepEqual(
    await layerMessages(
      'shared/pipeline/example.ts',
      "import { KilnError } from '../common/errors.js';\nexport { KilnError };\n",
    ),
    [],
  );
  t.deepEqual(
    await layerMessages(
      'shared/toolchain/quantize/example.ts',
      "import { readTflite } from '../tflite/reader.js';\nexport { readTflite };\n",
    ),
    [],
  );
});

test('an import up the layers fails lint, naming both layers', async (t) => {
  const messages = await layerMessages(
    'shared/toolchain/tflite/example.ts',
    "import { STAGES } from '../../pipeline/stages.js';\nexport { STAGES };\n",
  );
  t.is(messages.length, 1);
  t.regex(messages[0]!, /layer 'tflite' may not import layer 'pipeline'/);
});

test('a toolchain layer may not import a sibling above it (format → compiler model)', async (t) => {
  const messages = await layerMessages(
    'shared/toolchain/tflite/example.ts',
    "export { compileModel } from '../edgetpu/compile-model.js';\n",
  );
  t.regex(messages[0] ?? '', /layer 'tflite' may not import layer 'edgetpu'/);
});

test('shared/ may not import the emulators, functions or tests; dynamic imports count', async (t) => {
  const messages = await layerMessages(
    'shared/cli/commands/example.ts',
    "export const s = await import('../../../emulators/local-stack/session.js');\n" +
      "export { fixture } from '../../../test/helpers/fixture.js';\n",
  );
  t.is(messages.length, 2);
  for (const m of messages) t.regex(m, /outside shared\//);
});

test('a file in no layer fails lint until its folder is in the table', async (t) => {
  const messages = await layerMessages('shared/newthing/example.ts', 'export const x = 1;\n');
  t.regex(messages[0] ?? '', /is in no layer of eslint\/layers\.js/);
});

test('every folder of shared/ holding code belongs to exactly one layer', (t) => {
  const walk = (dir: string): string[] =>
    readdirSync(dir).flatMap((name) => {
      const p = join(dir, name);
      return statSync(p).isDirectory() ? walk(p) : /\.(ts|cjs|js)$/.test(name) ? [relative(ROOT, p)] : [];
    });
  const files = walk(join(ROOT, 'shared')).filter((f) => !f.includes('/generated/'));
  const unplaced = files.filter((f) => LAYERS.filter((l) => f.startsWith(`${l.dir}/`)).length !== 1);
  t.deepEqual(unplaced, []);
  t.true(files.length > 100);
});
