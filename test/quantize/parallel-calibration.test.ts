import test from 'ava';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { runQuantize } from '../../shared/cli/commands/quantize.js';
import { KilnError } from '../../shared/common/errors.js';
import { ModelBuilder } from '../../shared/toolchain/ir/builder.js';
import type { IrModel } from '../../shared/toolchain/ir/model.js';
import { Interpreter } from '../../shared/toolchain/interpreter/index.js';
import { loadConfig } from '../../shared/pipeline/config.js';
import { parseBuildConfig } from '../../shared/pipeline/build-config.js';
import { quantizeCoreWith } from '../../shared/pipeline/cores/quantize.js';
import { calibrateWithWorkers } from '../../shared/toolchain/quantize/calibration-pool.js';
import type { Sample } from '../../shared/toolchain/data/dataset.js';
import { Histogram } from '../../shared/toolchain/quantize/histogram.js';
import { quantizeModel } from '../../shared/toolchain/quantize/quantize-model.js';
import { calibratedTensors } from '../../shared/toolchain/quantize/stats.js';
import { TensorStats } from '../../shared/toolchain/quantize/tensor-stats.js';
import { tinyCnnTflite } from '../../shared/toolchain/samples/tiny-cnn.js';
import { rng } from '../helpers/models.js';
import { toBytes } from './helpers.js';

/**
 * Batches whose ranges grow (width doublings, also in the middle of a part), shift below zero, jump to outliers, and
 * hold NaN and ±Infinity — and a first batch that is all NaN, so that the second one sets the width (sometimes a batch
 * of zeros).
 */
function batches(seed: number): Float32Array[] {
  const r = rng(seed);
  const out: Float32Array[] = [Float32Array.of(NaN, NaN)];
  // Every third data set starts with zeros only: the smallest width, far from the values that follow.
  if (seed % 3 === 0) out.push(Float32Array.of(0, -0, 0));
  for (let k = 0; k < 40; k++) {
    const span = 2 ** Math.floor(r() * 12 - 4);
    const offset = r() < 0.3 ? -span * r() * 3 : 0;
    const v = Float32Array.from({ length: 1 + Math.floor(r() * 300) }, () => {
      const u = r();
      if (u < 0.01) return NaN;
      if (u < 0.015) return u < 0.0125 ? Infinity : -Infinity;
      if (u < 0.2) return 0;
      return offset + (r() - 0.3) * span;
    });
    out.push(v);
  }
  out.push(Float32Array.of(1e6, -3e5));
  return out;
}

/** Random cut points [0, c1, …, len], every ci ≥ 2 (the first part holds batches 0 and 1). */
function cuts(r: () => number, len: number, parts: number): number[] {
  const inner = new Set<number>();
  while (inner.size < Math.min(parts - 1, len - 2)) inner.add(2 + Math.floor(r() * (len - 2)));
  return [0, ...[...inner].sort((a, b) => a - b), len];
}

function shuffled<T>(r: () => number, xs: T[]): T[] {
  const a = [...xs];
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(r() * (i + 1));
    [a[i], a[j]] = [a[j]!, a[i]!];
  }
  return a;
}

test('histogram merge: parts seeded with the first part’s width merge, in any order, into the sequential histogram', (t) => {
  for (let trial = 0; trial < 60; trial++) {
    const data = batches(100 + trial);
    const whole = new Histogram();
    for (const b of data) whole.observe(b);
    const r = rng(trial);
    const at = cuts(r, data.length, 2 + Math.floor(r() * 6));
    // The first part holds the first batch with a finite value (batch 1): its width after that batch seeds the others.
    const first = new Histogram();
    first.observe(data[0]!);
    first.observe(data[1]!);
    const seed = first.width;
    const parts = at.slice(1).map((end, p) => {
      const h = p === 0 ? first : Histogram.withWidth(seed);
      for (let i = Math.max(at[p]!, p === 0 ? 2 : 0); i < end; i++) h.observe(data[i]!);
      return h;
    });
    // Merge in a random order, sometimes pairwise first: merging is order-free.
    const order = shuffled(r, parts);
    while (order.length > 1) {
      const a = order.shift()!;
      const b = order.splice(Math.floor(r() * order.length), 1)[0]!;
      a.merge(b);
      order.push(a);
    }
    t.deepEqual(order[0]!.toJSON(), whole.toJSON(), `trial ${trial}, cuts ${at.join(',')}`);
    t.is(order[0]!.total, whole.total);
  }
});

test('histogram merge: widths differ by several doublings, empty parts, and a seeded part whose values need doubling', (t) => {
  const r = rng(7);
  const small = Float32Array.from({ length: 500 }, () => r() * 0.01);
  const wide = Float32Array.from({ length: 500 }, () => (r() - 0.5) * 1000);
  const whole = new Histogram();
  whole.observe(small);
  whole.observe(wide);
  const a = new Histogram();
  a.observe(small);
  const b = Histogram.withWidth(a.width);
  b.observe(wide);
  t.true(b.width > a.width * 1000, 'the seeded part doubled its width');
  const empty = Histogram.withWidth(a.width);
  b.merge(empty);
  b.merge(a);
  t.deepEqual(b.toJSON(), whole.toJSON());
  const none = new Histogram();
  none.merge(whole);
  t.deepEqual(none.toJSON(), whole.toJSON());
  t.throws(() => Histogram.withWidth(3), { instanceOf: RangeError });
});

test('histogram merge: a first batch of zeros (the smallest width) and parts far from zero', (t) => {
  for (const far of [5.43, -1e30, 3e-20]) {
    const data = [Float32Array.of(0, 0), Float32Array.of(far), Float32Array.of(far * 1.5, far), Float32Array.of(1)];
    const whole = new Histogram();
    for (const b of data) whole.observe(b);
    const first = new Histogram();
    first.observe(data[0]!);
    const rest = Histogram.withWidth(first.width);
    rest.observe(data[1]!);
    rest.observe(data[2]!);
    const last = Histogram.withWidth(first.width);
    last.observe(data[3]!);
    rest.merge(last);
    rest.merge(first);
    t.deepEqual(rest.toJSON(), whole.toJSON(), `far ${far}`);
  }
});

test('tensor statistics of parts merge into the sequential ones, min/max included', (t) => {
  const ids = [3, 5];
  const names = (id: number) => `t${id}`;
  const data = batches(42);
  const samples = data.map(
    (b, i) => new Map(ids.map((id) => [id, { data: id === 3 ? b : data[(i + 7) % data.length]! }])),
  );
  const whole = new TensorStats(ids);
  for (const s of samples) whole.observe(s, names);
  const first = new TensorStats(ids);
  let i = 0;
  do first.observe(samples[i++]!, names);
  while (first.widths().includes(0));
  const widths = first.widths();
  const second = new TensorStats(ids, widths);
  const third = new TensorStats(ids, widths);
  for (; i < samples.length; i++) (i % 3 === 0 ? second : third).observe(samples[i]!, names);
  third.merge(TensorStats.fromJSON(JSON.parse(JSON.stringify(second.toJSON()))));
  third.merge(first);
  t.deepEqual(third.results(names), whole.results(names));
  t.throws(() => new TensorStats(ids).results(names), { message: /t3 had no finite value/ });
});

/** conv(RELU6) → depthwise(RELU) → add(residual) → avgpool → reshape → FC → softmax, on 16×16×3 inputs. */
function model(): IrModel {
  const r = rng(5);
  const rand = (n: number, s = 1) => Float32Array.from({ length: n }, () => (r() * 2 - 1) * s);
  const b = new ModelBuilder();
  const x = b.input('image', [1, 16, 16, 3]);
  const c = b.conv2d(
    x,
    b.constant('c/w', 'float32', [8, 3, 3, 3], rand(216, 0.5)),
    b.constant('c/b', 'float32', [8], rand(8, 0.1)),
    {
      activation: 'RELU6',
    },
  );
  const d = b.depthwiseConv2d(
    c,
    b.constant('d/w', 'float32', [1, 3, 3, 8], rand(72)),
    b.constant('d/b', 'float32', [8], rand(8, 0.1)),
    {
      activation: 'RELU',
    },
  );
  const p = b.pool('AVERAGE_POOL_2D', b.binary('ADD', c, d), { filter: 16 });
  const logits = b.fullyConnected(
    b.reshape(p, [1, 8]),
    b.constant('fc/w', 'float32', [4, 8], rand(32)),
    b.constant('fc/b', 'float32', [4], rand(4)),
  );
  b.output(b.softmax(logits));
  return b.build();
}

const samples = (n: number): Sample[] => {
  const r = rng(9);
  return Array.from({ length: n }, (_, k) => [
    Float32Array.from({ length: 16 * 16 * 3 }, () => (r() * 2 - 1) * (1 + k / 4)),
  ]);
};

test('quantizeModel: the same stats.json and .tflite bytes on 1, 2 and 3 threads', async (t) => {
  const float = model();
  const set = samples(20);
  const runs = [];
  for (const threads of [1, 2, 3])
    runs.push(await quantizeModel(float, { samples: set, sampleSource: 'npy', threads, debugSamples: 2 }));
  const [one, ...more] = runs;
  for (const r of more) {
    t.is(JSON.stringify(r.stats), JSON.stringify(one!.stats));
    t.deepEqual(toBytes(r.model), toBytes(one!.model));
  }
  t.is(one!.stats!.samples, 20);
});

test('worker threads run their share: the split is the statistics of one sequential pass', async (t) => {
  const float = model();
  const set = samples(12);
  const sequential = await quantizeModel(float, { samples: set, threads: 1, debugSamples: 0 });
  const pooled = await calibrateWithWorkers(float, new Interpreter(float), set, 'samples', { threads: 3 });
  t.is(pooled.samplesPerThread.length, 3);
  t.is(
    pooled.samplesPerThread.reduce((a, b) => a + b, 0),
    12,
  );
  // This thread leaves the last sample of each worker to the workers.
  t.true(pooled.samplesPerThread[1]! + pooled.samplesPerThread[2]! >= 2);
  t.is(JSON.stringify(pooled.stats), JSON.stringify(sequential.stats));
  t.deepEqual(
    calibratedTensors(float.graph),
    pooled.stats.tensors.map((s) => s.id),
  );
});

test('a sample that fails in a worker rejects the calibration with its KilnError', async (t) => {
  const float = model();
  const set = samples(3);
  // Sample 0 runs here; with 2 workers, samples 1 and 2 are theirs.
  set[2] = [new Float32Array(5)];
  const e = await t.throwsAsync(calibrateWithWorkers(float, new Interpreter(float), set, 'samples', { threads: 3 }), {
    instanceOf: KilnError,
  });
  t.is(e.code, 'E_BAD_ARGUMENT');
  t.regex(e.message, /input 0 \(image\) needs 768 float32 values/);
});

test('threads must be a positive integer', async (t) => {
  const e = await t.throwsAsync(quantizeModel(model(), { samples: samples(2), threads: 0 }), { instanceOf: KilnError });
  t.regex(e.message, /threads must be a positive integer/);
});

test('kiln quantize --threads: same model and stats.json for 1 and 2 threads; a bad count is refused', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'kiln-threads-'));
  try {
    const src = join(dir, 'float.tflite');
    await writeFile(src, toBytes(model()));
    const out = async (threads: string) => {
      const o = join(dir, `int8-${threads}.tflite`);
      const stats = join(dir, `stats-${threads}.json`);
      await runQuantize(src, { output: o, stats, threads, samples: '8', progress: false });
      return [await readFile(o), await readFile(stats, 'utf8')] as const;
    };
    const [m1, s1] = await out('1');
    const [m2, s2] = await out('2');
    t.deepEqual(m2, m1);
    t.is(s2, s1);
    const e = await t.throwsAsync(runQuantize(src, { output: join(dir, 'x.tflite'), threads: '0.5', progress: false }));
    t.regex(e.message, /--threads must be a positive integer, not "0.5"/);
    const bad = await t.throwsAsync(runQuantize(src, { output: join(dir, 'x.tflite'), samples: '0', progress: false }));
    t.regex(bad.message, /--samples must be a positive integer, not "0"/);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('KILN_CALIBRATION_THREADS: 0 (one per CPU) by default, validated by the zod config', (t) => {
  t.is(loadConfig({}).calibrationThreads, 0);
  t.is(loadConfig({ KILN_CALIBRATION_THREADS: '3' }).calibrationThreads, 3);
  t.throws(() => loadConfig({ KILN_CALIBRATION_THREADS: '-1' }), { message: /KILN_CALIBRATION_THREADS/ });
});

test('the quantize stage core reads its thread count on every build; 1 and 2 threads make the same artifacts', async (t) => {
  let threads = 1;
  let reads = 0;
  const core = quantizeCoreWith(() => {
    reads += 1;
    return threads;
  });
  const input = {
    artifacts: new Map([['model.float.tflite', tinyCnnTflite(4)]]),
    config: parseBuildConfig({}, 8),
    unit: { key: 'main', index: 0, count: 1, params: {} },
    build: { buildId: 'b', modelId: 'm', inputUri: 'gs://u/m.tflite', inputKind: 'single-file' as const },
  };
  const one = await core(input);
  threads = 2;
  const two = await core(input);
  t.is(reads, 2);
  t.deepEqual(two.artifacts['model.int8.tflite'], one.artifacts['model.int8.tflite']);
  t.deepEqual(two.artifacts['calibration-stats.json'], one.artifacts['calibration-stats.json']);
  threads = 0.5;
  await t.throwsAsync(core(input), { message: /threads must be a positive integer/ });
});

// Serial: ava runs serial tests before the concurrent ones, so no other calibration in this process holds workers.
test.serial(
  'calibrations without a thread count share the CPUs: never more workers than CPUs besides this thread',
  async (t) => {
    const float = model();
    const set = samples(6);
    const budget = Math.max(0, availableParallelism() - 1);
    const run = () =>
      calibrateWithWorkers(float, new Interpreter(float), set, 'samples', {
        threads: 8,
        shareCpus: true,
        minWorkMs: 0,
      });
    const workers = (r: { samplesPerThread: number[] }) => r.samplesPerThread.length - 1;
    // started together, as two builds in one process are: the first takes what there is, the second the rest
    const [a, b] = await Promise.all([run(), run()]);
    t.is(workers(a), Math.min(5, budget));
    t.is(workers(a) + workers(b), Math.min(budget, 5 + Math.min(5, Math.max(0, budget - 5))));
    t.is(JSON.stringify(a.stats), JSON.stringify(b.stats), 'the same statistics whatever the split');
    // once both have finished, their workers are free again
    t.is(workers(await run()), Math.min(5, budget));
    // a job smaller than a worker's start-up runs in this thread only
    const small = await calibrateWithWorkers(float, new Interpreter(float), set, 'samples', {
      threads: 8,
      shareCpus: true,
      minWorkMs: 3_600_000,
    });
    t.is(workers(small), 0);
    t.is(JSON.stringify(small.stats), JSON.stringify(a.stats));
    // an explicit thread count is what the user asked for
    const explicit = await calibrateWithWorkers(float, new Interpreter(float), set, 'samples', { threads: 3 });
    t.is(workers(explicit), 2);
  },
);
