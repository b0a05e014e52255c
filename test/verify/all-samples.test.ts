import test from 'ava';
import { mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeNpy } from '../../shared/toolchain/npy/npy.js';
import { parseBuildConfig } from '../../shared/pipeline/build-config.js';
import { verifyCore } from '../../shared/pipeline/cores/verify.js';
import { VerifyReportSchema, type VerifyReport } from '../../shared/toolchain/verify/report/schema.js';
import { verifyFiles } from '../../shared/toolchain/verify/verify-files.js';
import { DEFAULT_MAX_SAMPLES, sampleCap } from '../../shared/toolchain/verify/verify-model.js';
import { classifierPair, samplesOf } from './fixtures.js';

const CLASSES = ['cat', 'dog', 'eel', 'fox'];
/** More than 1,000 and not a round figure: the report must count the samples, not repeat a constant. */
const N = 1_037;

/** N validation samples as `<class>/<k>.npy` (class k mod 4), name → bytes. */
function validationFiles(): Map<string, Uint8Array> {
  const samples = samplesOf(N, 77);
  return new Map(
    samples.map((s, k) => [
      `${CLASSES[k % 4]}/${String(k).padStart(5, '0')}.npy`,
      writeNpy({ dtype: 'float32', shape: [1, 8, 8, 3], data: s[0]! }),
    ]),
  );
}

async function verifyFolder(threads: number): Promise<{ report: VerifyReport; html: string }> {
  const { float, int8 } = await classifierPair();
  const dir = await mkdtemp(join(tmpdir(), 'kiln-verify-all-'));
  await writeFile(join(dir, 'float.tflite'), float);
  await writeFile(join(dir, 'int8.tflite'), int8);
  for (const [name, bytes] of validationFiles()) {
    await mkdir(join(dir, 'val', name.split('/')[0]!), { recursive: true });
    await writeFile(join(dir, 'val', name), bytes);
  }
  const { files } = await verifyFiles(join(dir, 'float.tflite'), join(dir, 'int8.tflite'), {
    validation: join(dir, 'val'),
    outDir: join(dir, 'out'),
    debugSamples: 1,
    threads,
  });
  return {
    report: VerifyReportSchema.parse(JSON.parse(await readFile(files[0]!, 'utf8'))),
    html: await readFile(files[1]!, 'utf8'),
  };
}

test('the default cap is in the thousands', (t) => {
  t.true(DEFAULT_MAX_SAMPLES >= 1000);
  // Large inputs are capped by the memory the samples take, and the reason says so.
  const big = sampleCap([{ shape: [1, 224, 224, 3] }], DEFAULT_MAX_SAMPLES);
  t.true(big.max >= 1000 && big.max < DEFAULT_MAX_SAMPLES);
  t.regex(big.reason, /MiB/);
  t.is(sampleCap([{ shape: [1, 8, 8, 3] }], 50).max, 50);
});

test('kiln verify scores every validation sample by default, on worker threads, and reports how many and how long', async (t) => {
  const { report, html } = await verifyFolder(2);
  t.is(report.accuracy.samples, N);
  t.is(report.accuracy.labelled, N);
  t.deepEqual(
    { used: report.accuracy.cap.used, available: report.accuracy.cap.available, max: report.accuracy.cap.max },
    { used: N, available: N, max: DEFAULT_MAX_SAMPLES },
  );
  t.is(report.accuracy.run?.threads, 2);
  t.true(typeof report.accuracy.run?.ms === 'number' && report.accuracy.run.ms >= 0);
  t.regex(report.accuracy.executor, /2 worker threads/);
  t.false(report.warnings.some((w) => / of \d+ validation samples/.test(w)));
  t.true(html.includes(`with ${N} of ${N} validation samples`));
  t.regex(html, / in \d+\.\d s\./);

  // The workers compute what this thread computes: same scores for the same samples.
  const here = (await verifyFolder(1)).report;
  t.is(here.accuracy.run?.threads, 0);
  t.deepEqual(here.accuracy.classification, report.accuracy.classification);
  t.deepEqual(here.accuracy.outputs, report.accuracy.outputs);
});

test('a cap below the sample count scores that many and says how many were left out', async (t) => {
  const { float, int8 } = await classifierPair();
  const artifacts = new Map<string, Uint8Array>([
    ['model.float.tflite', float],
    ['model.int8.tflite', int8],
    ...[...validationFiles()].map(([n, b]): [string, Uint8Array] => [`validation/${n}`, b]),
  ]);
  const run = async (verify: Record<string, unknown>) => {
    const out = await verifyCore({
      artifacts,
      config: parseBuildConfig({ verify }, 8),
      unit: { key: 'main', index: 0, count: 1, params: { shard: 0, shards: 1 } },
      build: { buildId: 'b', modelId: 'm', inputUri: 'gs://u/m.zip', inputKind: 'folder' },
    });
    return VerifyReportSchema.parse(JSON.parse(new TextDecoder().decode(out.artifacts['report.json'])));
  };
  // The stage's default: every sample.
  const all = await run({ debugSamples: 0 });
  t.is(all.accuracy.samples, N);
  t.is(all.accuracy.cap.available, N);
  const some = await run({ maxSamples: 100, debugSamples: 0 });
  t.is(some.accuracy.samples, 100);
  t.deepEqual([some.accuracy.cap.used, some.accuracy.cap.available, some.accuracy.cap.max], [100, N, 100]);
  t.true(some.warnings.some((w) => w.includes(`100 of ${N} validation samples`)));
});
