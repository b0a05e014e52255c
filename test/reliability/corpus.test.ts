import test from 'ava';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, sep } from 'node:path';
import { buildToDir } from '../../shared/cli/commands/build.js';
import { kiln } from '../helpers/cli.js';
import { CORPUS } from './corpus/index.js';
import { changedPaths, runBuild, snapshot, writeCase } from './corpus/run-build.js';
import { editedTflite } from './corpus/tflite-models.js';
import { writeFiles } from './corpus/write.js';

/**
 * The bad-input corpus through `kiln build` (the CLI's main(), in-process stage cores): each case exits 2 with one line
 * on stderr naming the reason, and writes nothing outside its own output folder (checked on the filesystem).
 */
let root: string;
test.before(async () => {
  root = await mkdtemp(join(tmpdir(), 'kiln-corpus-'));
});

test('the corpus has at least 40 named cases with distinct names', (t) => {
  t.true(CORPUS.length >= 40, `${CORPUS.length} cases`);
  t.is(new Set(CORPUS.map((c) => c.name)).size, CORPUS.length);
});

const strays = async (): Promise<string[]> => {
  const dirs = [tmpdir(), dirname(tmpdir()), process.cwd()];
  const found: string[] = [];
  for (const d of dirs) {
    for (const name of await readdir(d).catch(() => [] as string[]))
      if (name.startsWith('kiln-slip-') || name === 'kiln-abs.tflite') found.push(join(d, name));
  }
  return found;
};

for (const c of CORPUS) {
  test.serial(
    `kiln build: ${c.name} (${c.what}) exits 2 with one line and writes only its output folder`,
    async (t) => {
      const input = await writeCase(c, root);
      const out = join(root, 'out', c.name);
      const before = await snapshot(root);
      const r = await runBuild(c, input, out);
      const after = await snapshot(root);
      const line = r.stderr.replace(/\n$/, '');
      t.is(r.code, 2, line);
      t.false(line.includes('\n'), 'one line on stderr');
      t.regex(line, /^kiln: /);
      t.regex(line, c.expect);
      const outside = changedPaths(before, after).filter((p) => !p.startsWith(`out${sep}${c.name}${sep}`));
      t.deepEqual(outside, [], 'nothing changed outside the output folder (inputs untouched)');
      t.deepEqual(await strays(), []);
      if (!existsSync(out)) return;
      // whatever was written is the build's own: artifacts of the stages that ran, and build.json saying why it failed
      const build = after.get(join('out', c.name, 'build.json'));
      t.truthy(build, 'a started build leaves build.json');
    },
  );
}

test.serial(
  'the real kiln executable: a corrupt .tflite, a zip-slip archive and an oversized upload exit 2 with one line',
  async (t) => {
    for (const name of ['garbage-with-identifier', 'zip-slip', 'oversized-upload']) {
      const c = CORPUS.find((x) => x.name === name)!;
      const input = await writeCase({ ...c, name: `${name}-exe` }, root);
      const r = kiln(['build', input, '-o', join(root, 'out', `${name}-exe`)], { env: c.env ?? {} });
      t.is(r.status, 2, r.stderr);
      t.is(r.stderr.trim().split('\n').length, 1);
      t.regex(r.stderr, c.expect);
    }
  },
);

test.serial(
  'a valid model whose tensor names hold <script> builds, and its report page shows them escaped',
  async (t) => {
    const dir = join(root, 'inputs', 'html-names-valid');
    const input = await writeFiles(
      dir,
      {
        'm.tflite': editedTflite((m) => {
          for (const x of m.subgraphs[0]!.tensors) x.name = `<script>alert("${String(x.name)}")</script>`;
        }),
      },
      'm.tflite',
    );
    const out = join(root, 'out', 'html-names-valid');
    const result = await buildToDir(input, { out });
    t.is(result.status, 'succeeded', JSON.stringify(result.error));
    const html = await readFile(join(out, 'report.html'), 'utf8');
    t.false(html.includes('<script>alert'));
    t.true(html.includes('&lt;script&gt;alert'));
  },
);
