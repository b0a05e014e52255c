import test from 'ava';
import { Storage } from '@google-cloud/storage';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { startTestEmulator, type TestEmulator } from '../../emulators/storage/testing.js';
import { StorageObjects } from '../../shared/cloud/storage-objects.js';
import type { BuildRecord } from '../../shared/pipeline/build-state.js';
import { loadConfig } from '../../shared/pipeline/config.js';
import type { KilnCloudEvent } from '../../shared/pipeline/events.js';
import { ingestUpload, MAX_CONFIG_BYTES } from '../../shared/pipeline/ingest.js';
import { setLogSink } from '../../shared/pipeline/log.js';
import type { ArtifactStore, BuildStore, PipelineDeps } from '../../shared/pipeline/ports.js';
import { SNIFF_BYTES } from '../../shared/pipeline/sniff.js';

/**
 * Ingest classifies a single-file upload from its leading bytes, read by a ranged request to Kiln's storage emulator:
 * a 400 MiB upload costs it a few dozen bytes and no memory that grows with the upload.
 */
const MiB = 1024 * 1024;
const UPLOAD_BYTES = 400 * MiB;
const config = loadConfig({ KILN_PROJECT_ID: 'kiln-ingest-memory' });
let emu: TestEmulator;
let storage: Storage;
setLogSink(() => undefined);

test.before(async () => {
  emu = await startTestEmulator({ logLevel: 'error' });
  storage = new Storage({ apiEndpoint: emu.url, projectId: config.projectId });
  await storage.createBucket(config.buckets.uploads);
});

test.after.always(async () => {
  await emu?.dispose();
});

/** `bytes` of a would-be .tflite (the TFL3 identifier at offset 4, then filler), streamed: never held in memory. */
function bigTflite(bytes: number): Readable {
  let sent = 0;
  return new Readable({
    read() {
      if (sent >= bytes) return void this.push(null);
      const chunk = Buffer.alloc(Math.min(MiB, bytes - sent), 0x2a);
      if (sent === 0) chunk.write('TFL3', 4, 'latin1');
      sent += chunk.length;
      this.push(chunk);
    },
  });
}

/** A build store in memory: only ingest's reads are under test. */
class MemoryStore implements BuildStore {
  readonly records = new Map<string, BuildRecord>();
  async get(_m: string, b: string) {
    return structuredClone(this.records.get(b));
  }
  async create(record: BuildRecord) {
    const existing = this.records.get(record.buildId);
    if (existing) return { created: false, record: structuredClone(existing) };
    this.records.set(record.buildId, structuredClone(record));
    return { created: true, record };
  }
  async running() {
    return [...this.records.values()].filter((r) => r.status === 'running').map((r) => structuredClone(r));
  }
  async update<T>(_m: string, b: string, fn: (r: BuildRecord) => T) {
    const record = structuredClone(this.records.get(b)!);
    const result = fn(record);
    this.records.set(b, structuredClone(record));
    return { result, record };
  }
}

/** The storage port, counting the bytes ingest receives through it. */
function counting(objects: ArtifactStore): { objects: ArtifactStore; bytes: () => number } {
  let bytes = 0;
  const count = (b: Uint8Array) => ((bytes += b.byteLength), b);
  return {
    bytes: () => bytes,
    objects: {
      read: async (...a) => count(await objects.read(...a)),
      readHead: async (...a) => count(await objects.readHead(...a)),
      stat: (...a) => objects.stat(...a),
      list: (...a) => objects.list(...a),
      readUpload: async () => {
        throw new Error('ingest never reads the whole upload');
      },
      writeArtifact: (...a) => objects.writeArtifact(...a),
    },
  };
}

test.serial(
  'a 400 MiB upload is classified from its first bytes: bytes read and memory do not grow with it',
  async (t) => {
    const file = storage.bucket(config.buckets.uploads).file('huge.tflite');
    await pipeline(bigTflite(UPLOAD_BYTES), file.createWriteStream({ resumable: true, validation: false }));
    const [meta] = await file.getMetadata();
    t.is(Number(meta.size), UPLOAD_BYTES);

    const store = new MemoryStore();
    const events: KilnCloudEvent[] = [];
    const io = counting(new StorageObjects(storage, config.buckets.artifacts));
    const deps: PipelineDeps = {
      store,
      objects: io.objects,
      publisher: { publishStage: async () => undefined, publishEvent: async (e) => void events.push(e) },
    };
    const before = process.memoryUsage().rss;
    const result = await ingestUpload(
      deps,
      { bucket: config.buckets.uploads, name: 'huge.tflite', generation: String(meta.generation), size: UPLOAD_BYTES },
      { config, leaseMs: 540_000 },
    );
    const growth = process.memoryUsage().rss - before;
    t.log(
      `ingest of a ${UPLOAD_BYTES / MiB} MiB upload: ${io.bytes()} bytes read, RSS growth ${(growth / MiB).toFixed(1)} MiB`,
    );
    t.is(result.outcome, 'started');
    t.is(events[0]?.type, 'dev.kiln.build.v1.started');
    t.true(io.bytes() <= SNIFF_BYTES, `${io.bytes()} bytes read`);
    t.true(growth < 50 * MiB, `RSS grew ${growth} bytes`);
  },
);

test.serial('the ranged read still rejects a file whose first bytes are wrong, and an empty one', async (t) => {
  const bucket = storage.bucket(config.buckets.uploads);
  await bucket.file('wrong.tflite').save(Buffer.alloc(4 * MiB, 7), { resumable: false });
  await bucket.file('empty.tflite').save(Buffer.alloc(0), { resumable: false });
  const store = new MemoryStore();
  const io = counting(new StorageObjects(storage, config.buckets.artifacts));
  const deps: PipelineDeps = {
    store,
    objects: io.objects,
    publisher: { publishStage: async () => undefined, publishEvent: async () => undefined },
  };
  for (const [name, size, code] of [
    ['wrong.tflite', 4 * MiB, 'E_TFLITE_IDENTIFIER'],
    ['empty.tflite', 0, 'E_FILE_EMPTY'],
  ] as const) {
    const [meta] = await bucket.file(name).getMetadata();
    const r = await ingestUpload(
      deps,
      { bucket: config.buckets.uploads, name, generation: String(meta.generation), size },
      { config, leaseMs: 540_000 },
    );
    t.is(r.outcome, 'rejected', name);
    if (r.outcome === 'rejected') t.is(store.records.get(r.buildId)?.error?.code, code, name);
  }
  t.true(io.bytes() <= SNIFF_BYTES, `${io.bytes()} bytes read for both`);
});

test.serial('a folder upload reads its kiln.json by a bounded ranged read; an oversized one is rejected', async (t) => {
  const bucket = storage.bucket(config.buckets.uploads);
  await bucket.file('small/model.tflite').save(Buffer.from('xxxxTFL3'), { resumable: false });
  await bucket.file('small/kiln.json').save(Buffer.from('{"verify":{"shards":2}}'), { resumable: false });
  // valid JSON, but 300 KiB of it: rejected for its size, not parsed
  await bucket.file('padded/model.tflite').save(Buffer.from('xxxxTFL3'), { resumable: false });
  await bucket.file('padded/kiln.json').save(Buffer.from(`{}${' '.repeat(300 * 1024)}`), { resumable: false });
  const store = new MemoryStore();
  const io = counting(new StorageObjects(storage, config.buckets.artifacts));
  const deps: PipelineDeps = {
    store,
    objects: io.objects,
    publisher: { publishStage: async () => undefined, publishEvent: async () => undefined },
  };
  const ingest = async (name: string) => {
    const [meta] = await bucket.file(name).getMetadata();
    return ingestUpload(
      deps,
      { bucket: config.buckets.uploads, name, generation: String(meta.generation), size: Number(meta.size) },
      { config, leaseMs: 540_000 },
    );
  };
  const small = await ingest('small/kiln.json');
  t.is(small.outcome, 'started');
  if (small.outcome === 'started') t.is(store.records.get(small.buildId)?.config.verify.shards, 2);
  const padded = await ingest('padded/kiln.json');
  t.is(padded.outcome, 'rejected');
  if (padded.outcome === 'rejected') {
    const error = store.records.get(padded.buildId)?.error;
    t.is(error?.code, 'E_BAD_ARGUMENT');
    t.regex(error?.message ?? '', /padded\/kiln\.json is larger than 256 KiB/);
  }
  t.true(io.bytes() <= 23 + MAX_CONFIG_BYTES + 1, `${io.bytes()} bytes read`);
});
