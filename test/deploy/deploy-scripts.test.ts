import test from 'ava';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { deployLock, resolveLockPath } from '../../deploy/functions/lockfile.js';
import { missingReferences } from '../../deploy/functions/references.js';
import { deployPackageJson, FUNCTIONS_MAIN } from '../../deploy/functions/package-json.js';
import { outcomeOf, smokeFolderName, describeEvent, eventOf, missingArtifacts } from '../../deploy/smoke/outcome.js';
import { makeEvent, toPubsubMessage } from '../../shared/pipeline/events.js';
import { classifyUpload } from '../../shared/pipeline/uploads.js';

const lock = {
  packages: {
    'node_modules/zod': { version: '4.6.7' },
    'node_modules/firebase-admin': { version: '13.10.0' },
    'node_modules/tfjs-tflite-node': { version: '0.0.2' },
    'node_modules/ava': { version: '7.0.0' },
  },
};

test('the deployed package.json pins runtime dependencies to the locked versions and drops dev tools', (t) => {
  const pkg = deployPackageJson(
    {
      version: '1.2.3',
      dependencies: { zod: '^4.6.7', 'firebase-admin': '^13', 'tfjs-tflite-node': '^0.0.2' },
      devDependencies: { ava: '^7' },
    },
    lock,
  );
  t.is(pkg['type'], 'module');
  t.is(pkg['main'], FUNCTIONS_MAIN);
  t.deepEqual(pkg['dependencies'], { 'firebase-admin': '13.10.0', 'tfjs-tflite-node': '0.0.2', zod: '4.6.7' });
});

test('the deployed package.json refuses a dependency the lock file does not resolve', (t) => {
  t.throws(() => deployPackageJson({ dependencies: { sharp: '^0.35' } }, lock), { message: /sharp/ });
});

function event(kind: 'completed' | 'failed' | 'started', buildId: string) {
  const input = {
    bucket: 'b',
    object: 'smoke/x.tflite',
    generation: '1',
    kind: 'single-file' as const,
    uri: 'gs://b/smoke/x.tflite',
  };
  const data =
    kind === 'completed'
      ? {
          buildId,
          modelId: 'm',
          status: 'succeeded',
          input,
          artifacts: { 'a.json': 'gs://a/m/b/a.json' },
          summary: {},
          stageTimings: { convert: 5 },
        }
      : kind === 'failed'
        ? {
            buildId,
            modelId: 'm',
            status: 'failed',
            input,
            stage: 'verify',
            error: { code: 'E_INTERNAL', message: 'stage verify is not available in this build', retryable: false },
            artifacts: {},
          }
        : { buildId, modelId: 'm', input, config: {} };
  const e = makeEvent(kind, 'kiln-proj', data as never, '1970-01-01T00:00:00Z');
  const m = toPubsubMessage(e);
  return eventOf(m.data, m.attributes)!;
}

test("the smoke test ends on its own build's completed or failed event only", (t) => {
  t.deepEqual(outcomeOf(event('completed', 'b1'), 'b1'), {
    status: 'succeeded',
    artifacts: { 'a.json': 'gs://a/m/b/a.json' },
    stageTimings: { convert: 5 },
  });
  t.like(outcomeOf(event('failed', 'b1'), 'b1'), { status: 'failed', stage: 'verify', code: 'E_INTERNAL' });
  t.is(outcomeOf(event('started', 'b1'), 'b1'), undefined);
  t.is(outcomeOf(event('completed', 'other'), 'b1'), undefined);
  t.is(describeEvent(event('completed', 'other'), 'b1'), undefined);
  t.is(eventOf(Buffer.from('{}'), { 'ce-type': 'something.else' }), undefined);
});

test('a smoke upload is a folder whose kiln.json starts a build under the temporary prefix', (t) => {
  t.is(smokeFolderName('1234-abc'), 'tiny-cnn-1234-abc');
  t.is(smokeFolderName('a/b c'), 'tiny-cnn-a-b-c');
  const kind = classifyUpload(`smoke/${smokeFolderName('a/b c')}/kiln.json`, undefined);
  t.like(kind, { kind: 'folder', prefix: 'smoke/tiny-cnn-a-b-c/' });
  // What the smoke test used to upload: a model file inside a folder starts nothing.
  t.is(classifyUpload('smoke/tiny-cnn-1.tflite', undefined).kind, 'ignored');
});

test('the smoke test fails a successful build that lacks an artifact every build publishes', (t) => {
  const all = { 'model.float.tflite': 'a', 'model.int8.tflite': 'b', 'report.json': 'c', 'report.html': 'd' };
  t.deepEqual(missingArtifacts({ status: 'succeeded', artifacts: all, stageTimings: {} }), []);
  const { 'report.html': _, ...noHtml } = all;
  t.deepEqual(missingArtifacts({ status: 'succeeded', artifacts: noHtml, stageTimings: {} }), ['report.html']);
});

test('the bundle lock takes the production closure of the root lock, resolved as Node finds packages', (t) => {
  const root = {
    packages: {
      '': { name: 'kiln', dependencies: { a: '^1', sharp: '^1' }, devDependencies: { ava: '^7' } },
      'node_modules/a': { version: '1.0.0', integrity: 'sha512-a', dependencies: { b: '^2' } },
      'node_modules/a/node_modules/b': { version: '2.0.0', dependencies: { c: '^1' } },
      'node_modules/b': { version: '3.0.0', dev: true },
      'node_modules/c': {
        version: '1.1.0',
        peerDependencies: { p: '*', q: '*' },
        peerDependenciesMeta: { q: { optional: true } },
      },
      'node_modules/p': { version: '1.0.0', peer: true },
      'node_modules/sharp': {
        version: '1.2.0',
        optionalDependencies: { 'sharp-linux': '1.2.0', 'sharp-mac': '1.2.0' },
      },
      'node_modules/sharp-linux': { version: '1.2.0', optional: true, os: ['linux'] },
      'node_modules/ava': { version: '7.0.0', dev: true, dependencies: { c: '^1' } },
    },
  };
  const lock = deployLock(root, {
    name: 'kiln-functions',
    version: '0.1.0',
    dependencies: { a: '1.0.0', sharp: '1.2.0' },
  });
  t.deepEqual(Object.keys(lock.packages!), [
    '',
    'node_modules/a',
    'node_modules/a/node_modules/b',
    'node_modules/c',
    'node_modules/p',
    'node_modules/sharp',
    'node_modules/sharp-linux',
  ]);
  t.deepEqual(lock.packages![''], {
    name: 'kiln-functions',
    version: '0.1.0',
    dependencies: { a: '1.0.0', sharp: '1.2.0' },
  });
  t.is(lock.packages!['node_modules/a']!['integrity'], 'sha512-a', 'entries are copied with their integrity');
  t.true(lock.packages!['node_modules/sharp-linux']!.optional, 'reached only through an optional dependency');
  t.is(lock.packages!['node_modules/p']!.peer, undefined, 'a required peer is installed like any dependency');
  t.is(lock.packages!['node_modules/c']!.optional, undefined);
  t.is(resolveLockPath(root.packages, 'node_modules/a/node_modules/b', 'c'), 'node_modules/c');
  t.throws(() => deployLock(root, { name: 'f', version: '0', dependencies: { a: '9.9.9' } }), {
    message: /locks a at 1\.0\.0, not 9\.9\.9/,
  });
  const broken = { packages: { ...root.packages, 'node_modules/c': undefined as never } };
  t.throws(() => deployLock(broken, { name: 'f', version: '0', dependencies: { a: '1.0.0' } }), {
    message: /no entry for c \(needed by node_modules\/a\/node_modules\/b\)/,
  });
});

test('a file the bundle code opens by a relative path and the bundle lacks is named', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'kiln-refs-'));
  mkdirSync(join(dir, 'verify/templates'), { recursive: true });
  writeFileSync(join(dir, 'verify/worker.cjs'), '');
  const code = new Map([
    [
      'verify/html.js',
      "const views = fileURLToPath(new URL('./templates/', import.meta.url));\n" +
        "const proto = new URL('../proto/model.proto', import.meta.url);\n" +
        "import { x } from './x.js';\nconst w = new URL('./worker.cjs', import.meta.url);\nconst t = new URL(`./w.${ext}`, import.meta.url);",
    ],
  ]);
  t.deepEqual(
    missingReferences(dir, code).map((m) => m.path),
    ['../proto/model.proto', './x.js'],
  );
});
