import test from 'ava';
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startLocalStack, type LocalStack } from '../../emulators/local-stack/stack.js';
import { cloudClients } from '../../shared/cloud/clients.js';
import { tinyCnnTflite } from '../../shared/toolchain/samples/tiny-cnn.js';
import { captureLogs, collectEvents, readBuild, sleep, type EventCollector, terminalOf } from '../e2e/stack-helpers.js';
import { CORPUS } from './corpus/index.js';
import { writeCase } from './corpus/run-build.js';
import { uploadRaw, type RawUpload } from './stack/upload-raw.js';

/**
 * A subset of the bad-input corpus through the local stack (official Pub/Sub and Firestore emulators, Kiln's storage
 * emulator, the functions), uploaded at once together with a good model: each bad upload ends in a failed build with
 * its reason in Firestore and a failure event, its bytes and generation untouched; the good build succeeds.
 */
const SUBSET: Record<string, string> = {
  'empty-tflite': 'ingest',
  'wrong-extension-h5': 'ingest',
  'kiln-json-invalid': 'ingest',
  'oversized-upload': 'ingest',
  'garbage-with-identifier': 'convert',
  'op-input-index-out-of-range': 'convert',
  'huge-declared-shape': 'convert',
  'zip-slip': 'convert',
  'zip-bomb-ratio': 'convert',
  'tar-symlink': 'convert',
  'tfjs-weights-dotdot': 'convert',
  'kiln-json-only': 'convert',
  'unknown-custom-op': 'convert',
  'int64-tensor': 'convert',
  'nan-weights': 'convert', // non-finite weights are found and named at convert time
  'while-loop': 'quantize',
};

let stack: LocalStack;
let events: EventCollector;
const logs = captureLogs();
// the only limit case in the subset; the good model (a few KiB) stays well under it
process.env['KILN_MAX_UPLOAD_BYTES'] = '100000';

test.before(async () => {
  stack = await startLocalStack({ env: { ...process.env, KILN_PROJECT_ID: 'kiln-reliability-corpus' } });
  events = await collectEvents(stack.config);
});

test.after.always(async () => {
  await events?.close();
  await stack?.stop();
  logs.restore();
});

test.serial(
  `${Object.keys(SUBSET).length} bad uploads fail with their reason; a good upload alongside succeeds`,
  async (t) => {
    const { storage } = cloudClients(stack.config);
    const uploads = stack.config.buckets.uploads;
    const root = await mkdtemp(join(tmpdir(), 'kiln-stack-corpus-'));
    const cases = CORPUS.filter((c) => c.name in SUBSET);
    t.is(cases.length, Object.keys(SUBSET).length);
    const goodDir = join(root, 'good');
    await mkdir(goodDir);
    await writeFile(join(goodDir, 'good.tflite'), tinyCnnTflite(4));

    const started: { name: string; up: RawUpload }[] = await Promise.all([
      ...cases.map(async (c) => ({
        name: c.name,
        up: await uploadRaw(storage, uploads, await writeCase(c, root), c.name),
      })),
      (async () => ({ name: 'good', up: await uploadRaw(storage, uploads, join(goodDir, 'good.tflite'), 'good') }))(),
    ]);
    const ends = await Promise.all(started.map((s) => events.waitFor(terminalOf(s.up.buildId), 240_000)));
    await sleep(1500);

    const known = new Set<string>();
    for (const [i, { name, up }] of started.entries()) {
      const end = ends[i]!;
      const record = await readBuild(stack.config, up.modelId, up.buildId);
      known.add(`${up.modelId}/${up.buildId}/`);
      if (name === 'good') {
        t.is(end.type, 'dev.kiln.build.v1.completed', JSON.stringify(record?.error));
        t.is(record?.status, 'succeeded');
        continue;
      }
      const c = cases.find((x) => x.name === name)!;
      t.is(end.type, 'dev.kiln.build.v1.failed', name);
      t.is(record?.status, 'failed', name);
      t.regex(record?.error?.message ?? '', c.expect, name);
      t.false(record?.error?.retryable, name);
      t.false((record?.error?.message ?? '').includes('\n'), name);
      const stage = (end.data as { stage: string }).stage;
      t.is(stage, record?.error?.stage ?? '');
      // ingest rejects before any stage runs and records the failure on convert, the first stage
      t.is(stage, SUBSET[name] === 'ingest' ? 'convert' : SUBSET[name], name);
      if (SUBSET[name] === 'ingest') t.is(record?.stages.convert.units['main']?.attempts, 0, `${name}: no stage ran`);
      t.true(
        events.events.some((e) => e.type === 'dev.kiln.build.v1.stage.failed' && e.data.buildId === up.buildId),
        `${name}: stage.failed event`,
      );
      // exactly one terminal event
      t.is(events.events.filter(terminalOf(up.buildId)).length, 1, name);
      const file = storage.bucket(uploads).file(up.object);
      const [bytes] = await file.download();
      t.deepEqual(new Uint8Array(bytes), up.bytes, `${name}: upload bytes untouched`);
      const [meta] = await file.getMetadata();
      t.is(String(meta.generation), up.generation, `${name}: upload generation untouched`);
    }
    // nothing was written outside each build's own artifact folder, and nothing into the uploads bucket
    const [artifacts] = await storage.bucket(stack.config.buckets.artifacts).getFiles();
    const strays = artifacts.map((f) => f.name).filter((n) => ![...known].some((k) => n.startsWith(k)));
    t.deepEqual(strays, []);
    const [uploaded] = await storage.bucket(uploads).getFiles();
    const expected = new Set(started.map((s) => s.up.object.split('/')[0]!));
    const extra = uploaded
      .map((f) => f.name)
      .filter((n) => !expected.has(n.split('/')[0]!) && !n.endsWith('.kiln.json'));
    t.deepEqual(extra, []);
  },
);
