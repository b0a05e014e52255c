import test from 'ava';
import { execFile, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startLocalStack, type LocalStack } from '../../emulators/local-stack/stack.js';
import { TfliteRuntime } from '../../shared/toolchain/runtime/tflite-runtime.js';
import { fromPubsubMessage, type KilnCloudEvent } from '../../shared/pipeline/events.js';
import { tinyCnnTflite } from '../../shared/toolchain/samples/tiny-cnn.js';
import { writeKeras2H5 } from '../loaders/helpers/h5-fixture.js';
import { writeSavedModel } from '../loaders/helpers/savedmodel-fixture.js';
import { captureLogs, sleep } from './stack-helpers.js';

/**
 * The local stack driven only the way a user drives it from a shell: `gcloud storage` (multipart, resumable, `cp -r`
 * of a folder, download), `gcloud pubsub subscriptions pull` for the completion events, and `curl -T` (the XML API).
 * Three tiny models, three builds.
 */
const missingTools = ['gcloud', 'curl'].filter((cmd) => spawnSync(cmd, ['--version'], { stdio: 'ignore' }).error);
const TITLE =
  'gcloud storage cp (multipart, resumable, cp -r of a SavedModel) and curl -T start builds; ' +
  'gcloud pubsub pull gets each completion; the int8 artifact downloads with gcloud and loads in TFLite';

let stack: LocalStack;
let dir: string;
let env: NodeJS.ProcessEnv;
const logs = captureLogs();

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a command without blocking this process (the stack's functions run in it). */
function run(cmd: string, args: string[], extraEnv: Record<string, string> = {}): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      cmd,
      args,
      { env: { ...env, ...extraEnv }, cwd: dir, maxBuffer: 64 * 1024 * 1024 },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

async function gcloud(args: string[], extraEnv: Record<string, string> = {}): Promise<Run> {
  const r = await run('gcloud', args, extraEnv);
  if (r.code !== 0) throw new Error(`gcloud ${args.join(' ')} exited ${r.code}: ${r.stderr.slice(-2000)}`);
  return r;
}

test.before(async () => {
  if (missingTools.length > 0) return;
  stack = await startLocalStack({ env: { KILN_PROJECT_ID: 'kiln-gcloud-test' } });
  dir = await mkdtemp(join(tmpdir(), 'kiln-e2e-gcloud-'));
  // A private gcloud configuration pointed at the local stack: no credentials, no prompts, nothing sent elsewhere.
  env = {
    PATH: process.env['PATH'] ?? '',
    HOME: process.env['HOME'] ?? dir,
    CLOUDSDK_CONFIG: join(dir, 'gcloud-config'),
    CLOUDSDK_CORE_PROJECT: stack.config.projectId,
    CLOUDSDK_AUTH_DISABLE_CREDENTIALS: 'True',
    CLOUDSDK_API_ENDPOINT_OVERRIDES_STORAGE: `${stack.endpoints.storage}/`,
    CLOUDSDK_API_ENDPOINT_OVERRIDES_PUBSUB: `http://${stack.endpoints.pubsub}/`,
    CLOUDSDK_CORE_DISABLE_PROMPTS: '1',
    CLOUDSDK_CORE_DISABLE_USAGE_REPORTING: 'true',
    CLOUDSDK_COMPONENT_MANAGER_DISABLE_UPDATE_CHECK: 'true',
  };
});

test.after.always(async () => {
  await stack?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
  logs.restore();
});

/** Pulls from `subscription` with gcloud until `done` holds for the events so far (or the deadline passes). */
async function pullUntil(
  subscription: string,
  done: (events: KilnCloudEvent[]) => boolean,
  timeoutMs = 15 * 60_000,
): Promise<KilnCloudEvent[]> {
  const events: KilnCloudEvent[] = [];
  const deadline = Date.now() + timeoutMs;
  while (!done(events)) {
    if (Date.now() > deadline) {
      throw new Error(`timed out pulling events; got ${events.map((e) => `${e.data.modelId} ${e.type}`).join(', ')}`);
    }
    const { stdout } = await gcloud([
      'pubsub',
      'subscriptions',
      'pull',
      subscription,
      '--auto-ack',
      '--limit=100',
      '--format=json',
    ]);
    const received = JSON.parse(stdout.trim() || '[]') as {
      message: { data?: string; attributes?: Record<string, string> };
    }[];
    for (const r of received) {
      events.push(fromPubsubMessage(Buffer.from(r.message.data ?? '', 'base64'), r.message.attributes ?? {}));
    }
    if (received.length === 0) await sleep(2000);
  }
  return events;
}

const bytesOf: Record<string, number> = { float32: 4, int32: 4, int8: 1, uint8: 1, int16: 2 };

(missingTools.length === 0 ? test.serial : test.skip)(
  missingTools.length === 0 ? TITLE : `${TITLE} (skipped: ${missingTools.join(' and ')} not on PATH)`,
  async (t) => {
    const uploads = `gs://${stack.config.buckets.uploads}`;
    const small = { quantize: { samples: 8, debugSamples: 2 } };
    const curlConfig = { quantize: { samples: 6, debugSamples: 2 } };
    await writeKeras2H5(join(dir, 'keras.h5'), { seed: 3 });
    await writeFile(join(dir, 'keras.kiln.json'), JSON.stringify(small));
    await writeFile(join(dir, 'tiny.tflite'), tinyCnnTflite(5));
    await writeFile(join(dir, 'tiny.kiln.json'), JSON.stringify(curlConfig));
    await mkdir(join(dir, 'upload', 'sm'), { recursive: true });
    writeSavedModel(join(dir, 'upload', 'sm'), { withVariables: true });
    await writeFile(join(dir, 'sm-kiln.json'), JSON.stringify(small));

    const subscription = 'gcloud-cli-events';
    await gcloud(['pubsub', 'subscriptions', 'create', subscription, `--topic=${stack.config.topics.events}`]);

    // curl -T: the XML API's PUT upload, with a content type and custom metadata (a config, written before its model)
    const curl = await run('curl', [
      '--fail-with-body',
      '-sS',
      '-T',
      'tiny.kiln.json',
      '-H',
      'Content-Type: application/json',
      '-H',
      'x-goog-meta-uploaded-by: curl',
      `${stack.endpoints.storage}/${stack.config.buckets.uploads}/`,
    ]);
    t.is(curl.code, 0, curl.stdout + curl.stderr);
    const described = JSON.parse(
      (await gcloud(['storage', 'objects', 'describe', `${uploads}/tiny.kiln.json`, '--format=json'])).stdout,
    ) as Record<string, unknown>;
    t.is(described['content_type'], 'application/json');
    t.deepEqual(described['custom_fields'], { 'uploaded-by': 'curl' });
    t.is(described['size'], JSON.stringify(curlConfig).length);

    // a Keras .h5 (and its config, first): small files go up as one multipart request
    await gcloud(['storage', 'cp', 'keras.kiln.json', `${uploads}/`]);
    const multipart = await gcloud(['storage', 'cp', 'keras.h5', `${uploads}/`, '--log-http']);
    t.regex(multipart.stderr, /uploadType=multipart/);
    t.regex(multipart.stderr, /boundary='=+\d+=='/);
    // a .tflite forced through a resumable upload session
    const resumable = await gcloud(['storage', 'cp', 'tiny.tflite', `${uploads}/`, '--log-http'], {
      CLOUDSDK_STORAGE_RESUMABLE_THRESHOLD: '0',
    });
    t.regex(resumable.stderr, /\/resumable\/upload\/storage\/v1\/b\/[^/]+\/o\?[^\n]*uploadType=resumable/);
    t.regex(resumable.stderr, /Content-Range': b'bytes 0-\d+\/\d+'/);
    // a SavedModel folder with cp -r, then its kiln.json last (docs/pipeline.md), which starts the build
    await gcloud(['storage', 'cp', '-r', join('upload', 'sm'), `${uploads}/`]);
    const listed = (await gcloud(['storage', 'ls', '-r', `${uploads}/sm/**`])).stdout.trim().split('\n').sort();
    t.deepEqual(listed, [
      `${uploads}/sm/saved_model.pb`,
      `${uploads}/sm/variables/variables.data-00000-of-00001`,
      `${uploads}/sm/variables/variables.index`,
    ]);
    await gcloud(['storage', 'cp', 'sm-kiln.json', `${uploads}/sm/kiln.json`]);

    // a stream from stdin goes up in chunks, 308 Resume Incomplete between them (inside a folder: starts no build)
    const blob = randomBytes(600 * 1024);
    await writeFile(join(dir, 'blob.bin'), blob);
    const streamed = await run('sh', ['-c', `gcloud storage cp - ${uploads}/notes/blob.bin --log-http < blob.bin`], {
      CLOUDSDK_STORAGE_UPLOAD_CHUNK_SIZE: String(256 * 1024),
    });
    t.is(streamed.code, 0, streamed.stderr.slice(-2000));
    t.regex(streamed.stderr, /Content-Range': b'bytes 262144-524287\/\*'/);
    t.is(streamed.stderr.match(/^status: 308$/gm)?.length, 2);
    t.regex(streamed.stderr, /^Range: bytes=0-524287$/m);
    await gcloud(['storage', 'cp', `${uploads}/notes/blob.bin`, 'blob.back']);
    t.true(blob.equals(await readFile(join(dir, 'blob.back'))));

    const startedBy: Record<string, string> = { keras: 'keras.h5', tiny: 'tiny.tflite', sm: 'sm/kiln.json' };
    const models = Object.keys(startedBy);
    const terminal = (e: KilnCloudEvent): boolean =>
      e.type === 'dev.kiln.build.v1.completed' || e.type === 'dev.kiln.build.v1.failed';
    const events = await pullUntil(subscription, (es) =>
      models.every((m) => es.some((e) => e.data.modelId === m && terminal(e))),
    );
    for (const e of events.filter((x) => x.type === 'dev.kiln.build.v1.failed')) {
      t.log(`${e.data.modelId} failed: ${JSON.stringify(e.data)}`);
    }

    for (const modelId of models) {
      const mine = events.filter((e) => e.data.modelId === modelId);
      t.is(mine.filter((e) => e.type === 'dev.kiln.build.v1.started').length, 1, `${modelId}: one build started`);
      const done = mine.filter(terminal);
      t.is(done.length, 1, `${modelId}: one terminal event`);
      const completed = done[0]!;
      t.is(completed.type, 'dev.kiln.build.v1.completed', `${modelId}: the build succeeded`);
      const data = completed.data as { artifacts: Record<string, string>; input: { object: string } };
      t.is(data.input.object, startedBy[modelId]);

      const uri = data.artifacts['model.int8.tflite'];
      t.regex(uri ?? '', new RegExp(`^gs://${stack.config.buckets.artifacts}/${modelId}/`));
      const local = join(dir, `${modelId}.int8.tflite`);
      await gcloud(['storage', 'cp', uri!, local]);
      const runtime = await TfliteRuntime.load(await readFile(local));
      try {
        const inputs = runtime.inputs.map(
          (i) => new Uint8Array(i.shape.reduce((a, b) => a * b, 1) * bytesOf[i.dtype]!),
        );
        const outputs = await runtime.run(inputs);
        t.is(outputs.length, runtime.outputs.length, `${modelId}: the int8 model runs`);
        t.true(
          outputs.every((o) => o.bytes.length === o.shape.reduce((a, b) => a * b, 1) * bytesOf[o.dtype]!),
          `${modelId}: outputs of the declared size`,
        );
      } finally {
        runtime.close();
      }
    }
    // the config curl uploaded is the one the tflite build used
    const tinyStarted = events.find((e) => e.data.modelId === 'tiny' && e.type === 'dev.kiln.build.v1.started')!;
    const config = (tinyStarted.data as { config: { quantize?: { samples?: number } } }).config;
    t.is(config.quantize?.samples, curlConfig.quantize.samples);
  },
);
