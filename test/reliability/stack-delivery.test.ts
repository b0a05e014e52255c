import type { Message, Subscription } from '@google-cloud/pubsub';
import test from 'ava';
import { startLocalStack, type LocalStack } from '../../emulators/local-stack/stack.js';
import { cloudClients } from '../../shared/cloud/clients.js';
import { unitsOf } from '../../shared/pipeline/build-state.js';
import { buildIdOf } from '../../shared/pipeline/ids.js';
import {
  encodeStageMessage,
  parseStageMessage,
  STAGE_MESSAGE_SCHEMA_V1,
  type StageMessage,
} from '../../shared/pipeline/messages.js';
import { stagesOf, stageTopic, type StageName } from '../../shared/pipeline/stages.js';

/** A model upload's stages (the dataset route's train stage is not in its record). */
const STAGE_NAMES = stagesOf('model').map((s) => s.name);
import { tinyCnnTflite } from '../../shared/toolchain/samples/tiny-cnn.js';
import { captureLogs, collectEvents, readBuild, sleep, type EventCollector, terminalOf } from '../e2e/stack-helpers.js';

/**
 * Delivery faults on the local stack: every stage message delivered 3 times, messages for later stages delivered
 * before their stage may run (out of order), and every message delivered again after the build completed (late).
 * The build runs each unit once and ends succeeded with exactly one completion event.
 */
let stack: LocalStack;
let events: EventCollector;
const logs = captureLogs();
const spies: Subscription[] = [];

test.before(async () => {
  stack = await startLocalStack({ env: { KILN_PROJECT_ID: 'kiln-reliability-delivery' } });
  events = await collectEvents(stack.config);
});

test.after.always(async () => {
  for (const s of spies) await s.close().catch(() => undefined);
  await events?.close();
  await stack?.stop();
  logs.restore();
});

test.serial('stage messages delivered 3 times, out of order and late make one build that succeeds once', async (t) => {
  const { pubsub, storage } = cloudClients(stack.config);
  const publish = (m: StageMessage) =>
    pubsub.topic(stageTopic(stack.config.topics.stagePrefix, m.stage)).publishMessage({
      data: encodeStageMessage(m),
      attributes: { buildId: m.buildId, stage: m.stage, unit: m.unit.key },
    });
  const name = 'faults.tflite';
  // The pipeline's own stage messages, seen through a second subscription on every stage topic: each one is
  // published twice more as soon as it is seen, so every unit gets 3 deliveries.
  const seen = new Map<string, StageMessage>();
  let buildId = '';
  for (const stage of STAGE_NAMES) {
    const [sub] = await pubsub
      .topic(stageTopic(stack.config.topics.stagePrefix, stage))
      .createSubscription(`spy-${stage}`);
    spies.push(sub);
    sub.on('message', (m: Message) => {
      m.ack();
      const parsed = parseStageMessage(m.data);
      if (!parsed.ok || parsed.message.buildId !== buildId) return;
      const key = `${parsed.message.stage}/${parsed.message.unit.key}`;
      if (seen.has(key)) return;
      seen.set(key, parsed.message);
      void publish(parsed.message).then(() => publish(parsed.message));
    });
  }
  const file = storage.bucket(stack.config.buckets.uploads).file(name);
  await storage
    .bucket(stack.config.buckets.uploads)
    .file('faults.kiln.json')
    .save(JSON.stringify({ compile: { targets: [{ minRuntimeVersion: 13 }, { minRuntimeVersion: 14 }] } }), {
      resumable: false,
    });
  await file.save(Buffer.from(tinyCnnTflite(21)), { resumable: false });
  const [meta] = await file.getMetadata();
  buildId = buildIdOf(stack.config.buckets.uploads, name, String(meta.generation));
  const modelId = 'faults';
  await events.waitFor((e) => e.type === 'dev.kiln.build.v1.started' && e.data.buildId === buildId);
  // out of order: the messages of compile, verify and finish, before convert has finished
  const record0 = (await readBuild(stack.config, modelId, buildId))!;
  t.is(record0.stages.convert.status === 'succeeded', false, 'early messages go out before convert completes');
  const early: StageMessage[] = (['finish', 'verify', 'compile'] as StageName[]).flatMap((stage) =>
    unitsOf(record0, stage).map((unit) => ({ schema: STAGE_MESSAGE_SCHEMA_V1, buildId, modelId, stage, unit })),
  );
  await Promise.all(early.map(publish));

  // Generous: every turned-back delivery waits out a redelivery backoff, and CI runs other suites beside this one.
  const end = await events.waitFor(terminalOf(buildId), 600_000);
  t.is(end.type, 'dev.kiln.build.v1.completed', JSON.stringify(end.data));
  // The completion event can overtake the bookkeeping of an earlier stage (its hand-off write may still be
  // retrying a contended transaction): wait until the record says every stage handed off and the end was published.
  const settled = async () => {
    for (let i = 0; i < 120; i++) {
      const r = (await readBuild(stack.config, modelId, buildId))!;
      if (r.terminalEventPublished && STAGE_NAMES.every((s) => r.stages[s].handedOff)) return r;
      await sleep(500);
    }
    return (await readBuild(stack.config, modelId, buildId))!;
  };
  const done = await settled();
  for (const stage of STAGE_NAMES) t.true(done.stages[stage].handedOff, `${stage} handed off`);
  t.true(done.terminalEventPublished);
  t.is(done.status, 'succeeded');
  for (const stage of STAGE_NAMES)
    for (const [key, unit] of Object.entries(done.stages[stage].units)) {
      t.is(unit.attempts, 1, `${stage}/${key} ran once`);
      t.is(unit.status, 'succeeded');
    }
  t.is(seen.size, 1 + 1 + 2 + 1 + 1, 'every unit message was seen and tripled');
  t.true(
    logs.lines.some((l) => /early delivery/.test(l.message)),
    'early messages were turned back',
  );
  t.true(logs.lines.some((l) => /duplicate delivery|unit already succeeded/.test(l.message)));

  // late and out of order: every message again, last stage first, after the build completed
  const artifacts = storage.bucket(stack.config.buckets.artifacts);
  const generations = async () =>
    Object.fromEntries(
      (await artifacts.getFiles({ prefix: `${modelId}/${buildId}/` }))[0].map((f) => [
        f.name,
        String(f.metadata.generation),
      ]),
    );
  const before = await generations();
  const eventCount = events.events.filter((e) => e.data.buildId === buildId).length;
  for (const m of [...seen.values()].reverse()) await publish(m);
  await sleep(6000);
  t.is(events.events.filter((e) => e.data.buildId === buildId).length, eventCount, 'late messages publish nothing');
  t.deepEqual(await generations(), before, 'late messages rewrite no artifact');
  const after = (await readBuild(stack.config, modelId, buildId))!;
  t.deepEqual(after.stages, done.stages);
  t.is(after.status, 'succeeded');

  const mine = events.events.filter((e) => e.data.buildId === buildId);
  t.is(mine.filter(terminalOf(buildId)).length, 1);
  for (const stage of STAGE_NAMES)
    t.is(
      mine.filter(
        (e) => e.type === 'dev.kiln.build.v1.stage.succeeded' && (e.data as { stage: string }).stage === stage,
      ).length,
      1,
      `one stage.succeeded for ${stage}`,
    );
  const builds = await cloudClients(stack.config)
    .firestore.collection('models')
    .doc(modelId)
    .collection('builds')
    .get();
  t.is(builds.size, 1);
});
