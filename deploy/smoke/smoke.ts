/**
 * Smoke test of a deployed pipeline: uploads Kiln's sample model (shared/toolchain/samples/tiny-cnn.ts) to the uploads bucket the
 * way a user uploads a folder (the model, then kiln.json last, under the temporary prefix) and waits for the build's
 * completion event on the events topic. Exit 0 when the build succeeds with every artifact a build publishes, 1 when
 * it fails, lacks one, or the wait times out. The same script runs against the local stack in CI
 * (test/deploy/smoke-local.test.ts): the official clients go to the emulators named by *_EMULATOR_HOST.
 *
 *   npx tsx deploy/smoke/smoke.ts --project P --uploads-bucket B --events-topic T [--timeout 900] [--prefix smoke]
 *   npx tsx deploy/smoke/smoke.ts --outputs tf-outputs.json --project P   (names from `terraform output -json`)
 *
 * Uses the official clients with Application Default Credentials. The temporary events subscription it creates is
 * deleted at the end (and expires on its own after a day if the run is killed).
 */
import { PubSub, type Message } from '@google-cloud/pubsub';
import { Storage } from '@google-cloud/storage';
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { uploadModel } from '../../shared/cloud/upload-model.js';
import { tinyCnnTflite } from '../../shared/toolchain/samples/tiny-cnn.js';
import { describeEvent, eventOf, missingArtifacts, outcomeOf, smokeFolderName, type SmokeOutcome } from './outcome.js';

const { values } = parseArgs({
  options: {
    project: { type: 'string' },
    outputs: { type: 'string' },
    'uploads-bucket': { type: 'string' },
    'events-topic': { type: 'string' },
    timeout: { type: 'string', default: '900' },
    prefix: { type: 'string', default: 'smoke' },
    'run-id': { type: 'string', default: `${Date.now()}` },
  },
});

function fromOutputs(name: string): string | undefined {
  if (!values.outputs) return undefined;
  const outputs = JSON.parse(readFileSync(values.outputs, 'utf8')) as Record<string, { value?: unknown }>;
  const v = outputs[name]?.value;
  return typeof v === 'string' ? v : undefined;
}

function required(name: string, v: string | undefined): string {
  if (!v) {
    process.stderr.write(`smoke: --${name} is required (or --outputs with terraform's output -json)\n`);
    process.exit(2);
  }
  return v;
}

const project = required('project', values.project ?? process.env['GOOGLE_CLOUD_PROJECT']);
const uploadsBucket = required('uploads-bucket', values['uploads-bucket'] ?? fromOutputs('uploads_bucket'));
const eventsTopic = required('events-topic', values['events-topic'] ?? fromOutputs('events_topic'));
const timeoutMs = Number(values.timeout) * 1000;

const pubsub = new PubSub({ projectId: project });
const storage = new Storage({ projectId: project });
const subscriptionName = `${eventsTopic}-smoke-${values['run-id']!.replace(/[^A-Za-z0-9_-]+/g, '-')}`.slice(0, 255);

// Subscribe before uploading, so the events of the build cannot be missed.
const [subscription] = await pubsub.topic(eventsTopic).createSubscription(subscriptionName, {
  ackDeadlineSeconds: 60,
  expirationPolicy: { ttl: { seconds: 86_400 } },
  messageRetentionDuration: { seconds: 3600 },
});

let outcome: SmokeOutcome | undefined;
try {
  const bytes = tinyCnnTflite();
  const upload = await uploadModel(
    storage,
    uploadsBucket,
    { kind: 'folder', name: smokeFolderName(values['run-id']!), files: new Map([['model.tflite', bytes]]) },
    { under: values.prefix! },
  );
  const buildId = upload.buildId;
  process.stdout.write(`smoke: uploaded ${upload.uri} (model.tflite ${bytes.length} bytes), build ${buildId}\n`);

  outcome = await new Promise<SmokeOutcome | undefined>((resolve) => {
    const timer = setTimeout(() => resolve(undefined), timeoutMs);
    subscription.on('message', (m: Message) => {
      m.ack();
      const event = eventOf(m.data, m.attributes);
      if (!event) return;
      const line = describeEvent(event, buildId);
      if (line) process.stdout.write(`smoke: ${line}\n`);
      const done = outcomeOf(event, buildId);
      if (done) {
        clearTimeout(timer);
        resolve(done);
      }
    });
    subscription.on('error', (e: Error) => {
      process.stderr.write(`smoke: subscription error: ${e.message}\n`);
    });
  });
} finally {
  await subscription.close().catch(() => undefined);
  await subscription.delete().catch(() => undefined);
  await pubsub.close().catch(() => undefined);
}

if (!outcome) {
  process.stderr.write(`smoke: no completion event within ${values.timeout} s\n`);
  process.exitCode = 1;
} else if (outcome.status === 'failed') {
  process.stderr.write(`smoke: build failed at ${outcome.stage}: ${outcome.code} ${outcome.message}\n`);
  process.exitCode = 1;
} else if (missingArtifacts(outcome).length > 0) {
  process.stderr.write(`smoke: build succeeded without ${missingArtifacts(outcome).join(', ')}\n`);
  process.exitCode = 1;
} else {
  process.stdout.write(
    `smoke: build succeeded (${Object.keys(outcome.artifacts).length} artifacts; stage times ms ${JSON.stringify(outcome.stageTimings)})\n`,
  );
}
