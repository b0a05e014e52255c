import test from 'ava';
import { createHash } from 'node:crypto';
import { startLocalStack, type LocalStack } from '../../emulators/local-stack/stack.js';
import { cloudClients } from '../../shared/cloud/clients.js';
import type { StageCore } from '../../shared/pipeline/core.js';
import { STAGE_CORES } from '../../shared/pipeline/cores/index.js';
import { buildIdOf } from '../../shared/pipeline/ids.js';
import { tinyCnnTflite } from '../../shared/toolchain/samples/tiny-cnn.js';
import { captureLogs, collectEvents, readBuild, type EventCollector, terminalOf } from '../e2e/stack-helpers.js';

/**
 * A stage worker that dies mid-unit (its connection cut while the core runs; the unit stays "running" in Firestore)
 * is replaced by Pub/Sub redelivery once the unit's lease runs out. And an object in the storage emulator is never
 * visible half-written, seen through the official client while a large upload is under way.
 */
const LEASE_MS = 4000;
process.env['KILN_LEASE_MS'] = String(LEASE_MS);
let stack: LocalStack;
let events: EventCollector;
const logs = captureLogs();

test.before(async () => {
  // Source mode: the test swaps the quantize core of this process (STAGE_CORES), so the functions must run here.
  stack = await startLocalStack({
    env: { ...process.env, KILN_PROJECT_ID: 'kiln-reliability-crash' },
    functionsFrom: 'source',
  });
  events = await collectEvents(stack.config);
});

test.after.always(async () => {
  await events?.close();
  await stack?.stop();
  logs.restore();
});

test.serial(
  'a quantize worker killed mid-unit: the lease expires, Pub/Sub redelivers, the build completes once',
  async (t) => {
    const real = STAGE_CORES.quantize!;
    let entered!: () => void;
    const inside = new Promise<void>((r) => (entered = r));
    let calls = 0;
    const dying: StageCore = async (input) => {
      calls += 1;
      if (calls === 1) {
        entered();
        return new Promise(() => undefined); // this worker never finishes: its instance is about to die
      }
      return real(input);
    };
    STAGE_CORES.quantize = dying;
    try {
      const bucket = cloudClients(stack.config).storage.bucket(stack.config.buckets.uploads);
      const file = bucket.file('crash.tflite');
      await file.save(Buffer.from(tinyCnnTflite(31)), { resumable: false });
      const [meta] = await file.getMetadata();
      const buildId = buildIdOf(stack.config.buckets.uploads, 'crash.tflite', String(meta.generation));
      await inside;
      const running = await readBuild(stack.config, 'crash', buildId);
      t.is(running?.stages.quantize.units['main']?.status, 'running');
      t.true(stack.faults.dropConnections('quantize') >= 1, 'the push request in flight was cut');
      const end = await events.waitFor(terminalOf(buildId), 180_000);
      t.is(end.type, 'dev.kiln.build.v1.completed', JSON.stringify(end.data));
      const record = (await readBuild(stack.config, 'crash', buildId))!;
      t.is(record.status, 'succeeded');
      t.is(record.stages.quantize.units['main']?.attempts, 2, 'the redelivered message ran the unit again');
      t.is(calls, 2);
      t.true(
        logs.lines.some((l) => /running elsewhere/.test(l.message)),
        'redeliveries inside the lease were turned back',
      );
      t.is(events.events.filter(terminalOf(buildId)).length, 1);
    } finally {
      STAGE_CORES.quantize = real;
    }
  },
);

const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

test.serial('a reader never sees a half-written object while a 48 MiB upload is under way', async (t) => {
  const bucket = cloudClients(stack.config).storage.bucket(stack.config.buckets.artifacts);
  const v1 = Buffer.alloc(1 << 20, 1);
  const v2 = Buffer.alloc(48 << 20);
  for (let i = 0; i < v2.length; i += 4096) v2[i] = (i >> 12) & 0xff;
  const valid = new Map([
    [sha(v1), 'v1'],
    [sha(v2), 'v2'],
  ]);
  const file = bucket.file('atomic/big.bin');
  const fresh = bucket.file('atomic/new.bin');
  await file.save(v1, { resumable: false });
  let writing = true;
  const seen = { v1: 0, v2: 0, absent: 0, partial: 0 };
  const readLoop = async (f: typeof file) => {
    while (writing) {
      try {
        const [bytes] = await f.download();
        const which = valid.get(sha(bytes));
        if (which) seen[which as 'v1' | 'v2'] += 1;
        else seen.partial += 1;
      } catch (e) {
        if ((e as { code?: number }).code === 404) seen.absent += 1;
        else throw e;
      }
    }
  };
  const readers = [readLoop(file), readLoop(fresh)];
  // resumable uploads in 8 MiB chunks: the object exists only once the last chunk is in
  await Promise.all([
    file.save(v2, { resumable: true, chunkSize: 8 << 20 }),
    fresh.save(v2, { resumable: true, chunkSize: 8 << 20 }),
  ]);
  writing = false;
  await Promise.all(readers);
  t.log(seen);
  t.is(seen.partial, 0);
  t.true(seen.v1 + seen.absent > 0, 'readers ran while the uploads were in progress');
  const [final] = await file.download();
  t.is(sha(final), sha(v2));
});
