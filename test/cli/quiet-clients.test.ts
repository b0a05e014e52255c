import test from 'ava';
import { Storage } from '@google-cloud/storage';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startStorageEmulator, type StorageEmulator } from '../../emulators/storage/server.js';
import { applyMetadataDetection, metadataDetectionFor } from '../../shared/cloud/metadata-detection.js';
import { servicesNeedingCredentials } from '../../shared/cloud/credentials.js';
import { tinyCnnTflite } from '../../shared/toolchain/samples/tiny-cnn.js';
import { freePort } from '../../emulators/local-stack/ports.js';
import { startEmulator, type RunningEmulator } from '../../emulators/local-stack/gcloud-emulator.js';
import { PubSub } from '@google-cloud/pubsub';
import { getGCPResidency } from 'gcp-metadata';
import { makeEvent, toPubsubMessage } from '../../shared/pipeline/events.js';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { kiln, type CliResult } from '../helpers/cli.js';

/**
 * `kiln` commands that make the Google Cloud clients print nothing about the metadata server when run outside Google
 * Cloud: not against the local stack's emulators, and not when no credentials exist at all.
 */

const WARNING = /MetadataLookupWarning|metadata server/i;
let dir: string;
let storageEmu: StorageEmulator;
let pubsubEmu: RunningEmulator;
const PROJECT = 'kiln-quiet-test';

/** The environment of a machine off Google Cloud with no credentials: no ADC file, no emulator, no detection set. */
function offCloudEnv(home: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (v === undefined) continue;
    if (/_EMULATOR_HOST$|^GOOGLE_|^GCLOUD_|^CLOUDSDK_|^METADATA_SERVER_DETECTION$|^KILN_/.test(k)) continue;
    env[k] = v;
  }
  // A home without gcloud's application-default credentials.
  return { ...env, HOME: home, KILN_PROJECT_ID: PROJECT };
}

/** The real `kiln` executable, without blocking this process: the storage emulator runs in it. */
function kilnAsync(args: string[], opts: { cwd: string; env: Record<string, string> }): Promise<CliResult> {
  const bin = fileURLToPath(new URL('../../bin/kiln.js', import.meta.url));
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [bin, ...args], { cwd: opts.cwd, env: opts.env });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill(), 120_000);
    child.on('error', reject);
    child.on('close', (status) => {
      clearTimeout(timer);
      resolve({ status, stdout, stderr });
    });
  });
}

test.before(async () => {
  // This process's own clients (setting up the emulators' topic and bucket) look for no metadata server either.
  process.env['METADATA_SERVER_DETECTION'] ??= 'none';
  dir = await mkdtemp(join(tmpdir(), 'kiln-quiet-'));
  await writeFile(join(dir, 'tiny.tflite'), tinyCnnTflite());
  storageEmu = await startStorageEmulator({
    port: await freePort(),
    dataDir: join(dir, 'storage'),
    logSink: () => undefined,
  });
  pubsubEmu = await startEmulator('pubsub', await freePort(), PROJECT, { output: () => undefined });
});

test.after.always(async () => {
  await storageEmu?.close();
  await pubsubEmu?.stop();
  await rm(dir, { recursive: true, force: true });
});

test('kiln upload against the storage emulator: the upload lands and stderr says nothing of the metadata server', async (t) => {
  const env = { ...offCloudEnv(dir), STORAGE_EMULATOR_HOST: storageEmu.url, KILN_UPLOADS_BUCKET: 'kiln-quiet-uploads' };
  const storage = new Storage({ projectId: PROJECT, apiEndpoint: storageEmu.url });
  await storage.createBucket('kiln-quiet-uploads');
  const r = await kilnAsync(['upload', join(dir, 'tiny.tflite'), '--json'], { env, cwd: dir });
  t.is(r.status, 0, r.stderr);
  t.notRegex(r.stderr, WARNING);
  const upload = JSON.parse(r.stdout) as { uri: string };
  t.is(upload.uri, 'gs://kiln-quiet-uploads/tiny.tflite');
  const [exists] = await storage.bucket('kiln-quiet-uploads').file('tiny.tflite').exists();
  t.true(exists);
});

test('kiln watch against the Pub/Sub emulator prints the event it waited for, and nothing of the metadata server', async (t) => {
  const env = { ...offCloudEnv(dir), PUBSUB_EMULATOR_HOST: pubsubEmu.hostPort, KILN_EVENTS_TOPIC: 'kiln-quiet-events' };
  const pubsub = new PubSub({ projectId: PROJECT, apiEndpoint: pubsubEmu.hostPort, emulatorMode: true });
  const [topic] = await pubsub.createTopic('kiln-quiet-events');
  const event = makeEvent(
    'completed',
    PROJECT,
    {
      buildId: 'b-quiet',
      modelId: 'tiny',
      status: 'succeeded',
      input: { bucket: 'u', object: 'tiny.tflite', generation: '1', kind: 'single-file', uri: 'gs://u/tiny.tflite' },
      artifacts: {},
      summary: {},
      stageTimings: {},
    },
    '2026-01-01T00:00:00Z',
  );
  // Publish until the watcher's subscription exists and takes the event (it prints once, then exits).
  const run = kilnAsync(['watch', '--count', '1', '--json'], { env, cwd: dir });
  let done = false;
  void run.finally(() => (done = true));
  while (!done) {
    await topic.publishMessage(toPubsubMessage(event));
    await new Promise((r) => setTimeout(r, 500));
  }
  const r = await run;
  await pubsub.close();
  t.is(r.status, 0, r.stderr);
  t.notRegex(r.stderr, WARNING);
  t.is((JSON.parse(r.stdout) as { id: string }).id, event.id);
});

// On a Google Cloud machine the metadata server does lend credentials: "off Google Cloud" cannot be made there.
const offGoogleCloud = !getGCPResidency();

(offGoogleCloud ? test : test.skip)(
  'kiln watch off Google Cloud without credentials: one line naming the problem and the fix, exit 2, no warning',
  (t) => {
    const r = kiln(['watch', '--count', '1'], { env: offCloudEnv(dir), cwd: dir });
    t.is(r.status, 2, r.stderr);
    t.notRegex(r.stderr, WARNING);
    t.regex(
      r.stderr,
      /^kiln: no Google Cloud credentials found for pubsub\. Run `gcloud auth application-default login`/,
    );
    t.is(r.stderr.trim().split('\n').length, 1, r.stderr);
  },
);

test('credentials are needed only for the services no emulator serves', (t) => {
  t.deepEqual(servicesNeedingCredentials(['storage', 'pubsub'], {}), ['storage', 'pubsub']);
  t.deepEqual(servicesNeedingCredentials(['storage', 'pubsub'], { PUBSUB_EMULATOR_HOST: 'localhost:8085' }), [
    'storage',
  ]);
  t.deepEqual(
    servicesNeedingCredentials(['storage'], {
      STORAGE_EMULATOR_HOST: 'http://localhost:9023',
      PUBSUB_EMULATOR_HOST: '',
    }),
    [],
  );
});

test('the detection: none against emulators, BIOS only elsewhere; the user’s own setting is kept', (t) => {
  t.is(metadataDetectionFor({}), 'bios-only');
  t.is(metadataDetectionFor({ PUBSUB_EMULATOR_HOST: 'localhost:8085' }), 'none');
  t.is(metadataDetectionFor({ STORAGE_EMULATOR_HOST: 'http://localhost:9023' }), 'none');
  t.is(metadataDetectionFor({ FIRESTORE_EMULATOR_HOST: '' }), 'bios-only', 'an empty variable names no emulator');

  const env: Record<string, string | undefined> = { PUBSUB_EMULATOR_HOST: 'localhost:8085' };
  applyMetadataDetection(env);
  t.is(env['METADATA_SERVER_DETECTION'], 'none');
  delete env['PUBSUB_EMULATOR_HOST'];
  applyMetadataDetection(env);
  t.is(env['METADATA_SERVER_DETECTION'], 'bios-only', 'Kiln may change its own choice');

  const user: Record<string, string | undefined> = { METADATA_SERVER_DETECTION: 'ping-only' };
  applyMetadataDetection(user);
  t.is(user['METADATA_SERVER_DETECTION'], 'ping-only');
});
