import test from 'ava';
import { execFile } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { buildBundle } from '../../deploy/functions/bundle.js';
import type { PackageLock } from '../../deploy/functions/lockfile.js';
import { installBundle } from '../../emulators/local-stack/bundle-cache.js';
import { startLocalStack, type LocalStack } from '../../emulators/local-stack/stack.js';
import { FUNCTION_NAMES, FUNCTION_SIGNATURES } from '../../functions/manifest.js';
import { cloudClients } from '../../shared/cloud/clients.js';
import { buildIdOf } from '../../shared/pipeline/ids.js';
import { tinyCnnTflite } from '../../shared/toolchain/samples/tiny-cnn.js';
import { captureLogs, collectEvents, terminalOf, type EventCollector } from '../e2e/stack-helpers.js';

/**
 * The deploy artifact runs: the bundle `npm run bundle` writes, installed with `npm ci --omit=dev` in an empty folder,
 * serves every function on the local stack (one functions-framework process each, as Cloud Functions runs them); a
 * model uploaded to it builds to the end with its HTML report, and the post-deploy smoke script passes against it.
 */
const ROOT = fileURLToPath(new URL('../..', import.meta.url));
let dir: string;
let stack: LocalStack;
let events: EventCollector;
const logs = captureLogs();

test.before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kiln-bundle-'));
  await buildBundle(dir);
  await installBundle(dir);
  stack = await startLocalStack({
    env: { ...process.env, KILN_PROJECT_ID: 'kiln-bundle-test' },
    functionsFrom: 'bundle',
    bundleDir: dir,
  });
  events = await collectEvents(stack.config);
});

test.after.always(async () => {
  await events?.close();
  await stack?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
  logs.restore();
});

test.serial('the installed bundle holds its runtime files and only the production dependencies', (t) => {
  for (const f of [
    'functions/index.js',
    'shared/toolchain/verify/report/templates/report.eta',
    'shared/toolchain/loaders/proto/saved_model.proto',
    'shared/toolchain/loaders/proto/onnx.proto',
    'node_modules/protobufjs/package.json',
    'shared/toolchain/runtime/tflite-worker.cjs',
    'shared/toolchain/quantize/calibration-worker.js',
    'package-lock.json',
  ]) {
    t.true(existsSync(join(dir, f)), f);
  }
  const lock = JSON.parse(readFileSync(join(dir, 'package-lock.json'), 'utf8')) as PackageLock;
  const rootLock = JSON.parse(readFileSync(join(ROOT, 'package-lock.json'), 'utf8')) as PackageLock;
  const devOnly = Object.keys(lock.packages!).filter((p) => p !== '' && rootLock.packages![p]?.dev === true);
  t.deepEqual(devOnly, [], 'no package the repository needs only for development');
  for (const tool of ['ava', 'typescript', 'eslint', 'prettier']) {
    t.false(existsSync(join(dir, 'node_modules', tool)), `${tool} is not installed`);
  }
  // Every locked entry is installed at the version the repository was tested with.
  const installed = JSON.parse(readFileSync(join(dir, 'node_modules/.package-lock.json'), 'utf8')) as PackageLock;
  for (const [path, entry] of Object.entries(installed.packages!)) {
    t.is(entry.version, rootLock.packages![path]?.version, path);
  }
  t.true(existsSync(join(dir, 'node_modules/@google-cloud/functions-framework/package.json')));
  t.is(stack.functions.from, 'bundle');
  t.is(stack.functions.bundleDir, dir);
});

test.serial('each function is a functions-framework process of its own, started in the installed bundle', (t) => {
  if (!existsSync('/proc/self/cwd')) return t.pass('no /proc on this system');
  const targets: string[] = [];
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    try {
      if (readlinkSync(`/proc/${pid}/cwd`) !== dir) continue;
      const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
      if (!argv.some((a) => a.endsWith('functions-framework/build/src/main.js'))) continue;
      targets.push(
        `${argv.find((a) => a.startsWith('--target='))} ${argv.find((a) => a.startsWith('--signature-type='))}`,
      );
    } catch {
      // a process that ended or is not ours
    }
  }
  t.deepEqual(
    targets.sort(),
    FUNCTION_NAMES.map((n) => `--target=${n} --signature-type=${FUNCTION_SIGNATURES[n]}`).sort(),
  );
});

test.serial('a model uploaded to the stack on the installed bundle builds to the end with report.html', async (t) => {
  const { storage } = cloudClients(stack.config);
  const file = storage.bucket(stack.config.buckets.uploads).file('bundled.tflite');
  await file.save(Buffer.from(tinyCnnTflite(7)), { resumable: false });
  const [meta] = await file.getMetadata();
  const buildId = buildIdOf(stack.config.buckets.uploads, 'bundled.tflite', String(meta.generation));
  const end = await events.waitFor(terminalOf(buildId), 300_000);
  t.is(end.type, 'dev.kiln.build.v1.completed', JSON.stringify(end.data));
  const artifacts = (end.data as { artifacts: Record<string, string> }).artifacts;
  t.truthy(artifacts['report.html'], Object.keys(artifacts).join(', '));
  const [html] = await storage.bucket(stack.config.buckets.artifacts).file(`bundled/${buildId}/report.html`).download();
  t.regex(html.toString('utf8'), /<html[\s\S]*Edge TPU/i);
  // The functions' log lines, written by their own processes, reach this process's log sink with their labels.
  t.true(
    logs.lines.some(
      (l) => l.message.startsWith('build created') && l['logging.googleapis.com/labels']['build'] === buildId,
    ),
  );
});

test.serial('the post-deploy smoke script passes against the local stack', async (t) => {
  const r = await promisify(execFile)(
    process.execPath,
    [
      '--import=tsx',
      join(ROOT, 'deploy/smoke/smoke.ts'),
      `--project=${stack.config.projectId}`,
      `--uploads-bucket=${stack.config.buckets.uploads}`,
      `--events-topic=${stack.config.topics.events}`,
      '--timeout=300',
      '--run-id=local-stack-test',
    ],
    { cwd: ROOT, env: process.env, maxBuffer: 16 * 1024 * 1024 },
  );
  t.log(r.stdout);
  t.regex(r.stdout, /smoke: uploaded gs:\/\/kiln-uploads\/smoke\/tiny-cnn-local-stack-test\/kiln\.json/);
  t.regex(r.stdout, /smoke: build succeeded/);
});
