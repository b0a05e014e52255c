import test from 'ava';
import { mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KilnError } from '../../shared/common/errors.js';
import { writeNpy } from '../../shared/toolchain/npy/npy.js';
import { verifyCore } from '../../shared/pipeline/cores/verify.js';
import { parseBuildConfig } from '../../shared/pipeline/build-config.js';
import { parseLabelsFile } from '../../shared/toolchain/verify/accuracy/validation.js';
import { VerifyReportSchema } from '../../shared/toolchain/verify/report/schema.js';
import { verifyFiles } from '../../shared/toolchain/verify/verify-files.js';
import { classifierPair, samplesOf } from './fixtures.js';

test('kiln verify reads a folder per class, scores top-1/top-5 and writes report.json + report.html', async (t) => {
  const { float, int8 } = await classifierPair();
  const dir = await mkdtemp(join(tmpdir(), 'kiln-verify-'));
  await writeFile(join(dir, 'float.tflite'), float);
  await writeFile(join(dir, 'int8.tflite'), int8);
  const classes = ['cat', 'dog', 'eel', 'fox'];
  const samples = samplesOf(8, 21);
  for (const [i, c] of classes.entries()) {
    await mkdir(join(dir, 'val', c), { recursive: true });
    for (const k of [0, 1])
      await writeFile(
        join(dir, 'val', c, `${k}.npy`),
        writeNpy({ dtype: 'float32', shape: [1, 8, 8, 3], data: samples[2 * i + k]![0]! }),
      );
  }
  await writeFile(join(dir, 'labels.txt'), classes.join('\n'));
  const { report, files } = await verifyFiles(join(dir, 'float.tflite'), join(dir, 'int8.tflite'), {
    validation: join(dir, 'val'),
    labels: join(dir, 'labels.txt'),
    outDir: join(dir, 'out'),
    maxSamples: 6,
    debugSamples: 1,
  });
  t.deepEqual(files, [join(dir, 'out', 'report.json'), join(dir, 'out', 'report.html')]);
  const onDisk = VerifyReportSchema.parse(JSON.parse(await readFile(files[0]!, 'utf8')));
  t.is(onDisk.accuracy.source, 'labelled-folders');
  t.is(onDisk.accuracy.labelled, 6);
  t.true(report.warnings.some((w) => w.includes('6 of 8')));
  const c = onDisk.accuracy.classification!;
  t.true(c.floatTop5! >= c.floatTop1!);
  t.is(c.floatTop5, 1); // 4 classes: the label is always in the top 5
  t.regex(await readFile(files[1]!, 'utf8'), /<svg id="graph"/);
  await t.throwsAsync(verifyFiles(join(dir, 'missing.tflite'), join(dir, 'int8.tflite')), {
    instanceOf: KilnError,
    message: /does not exist/,
  });
});

test('labels files: class names per line, or file,label pairs', (t) => {
  t.deepEqual(parseLabelsFile('cat\ndog\n'), { classes: ['cat', 'dog'], byFile: null });
  const pairs = parseLabelsFile('a.png,1\nb.jpg dog\n');
  t.is(pairs.classes, null);
  t.deepEqual(
    [...pairs.byFile!.entries()],
    [
      ['a.png', '1'],
      ['b.jpg', 'dog'],
    ],
  );
});

test('the verify stage core writes report.json and report.html and summarises them', async (t) => {
  const { float, int8 } = await classifierPair();
  const out = await verifyCore({
    artifacts: new Map([
      ['model.float.tflite', float],
      ['model.int8.tflite', int8],
    ]),
    config: parseBuildConfig({ verify: { maxSamples: 3, debugSamples: 1 } }, 8),
    unit: { key: 'main', index: 0, count: 1, params: { shard: 0, shards: 1 } },
    build: { buildId: 'b', modelId: 'm', inputUri: 'gs://u/m.tflite', inputKind: 'single-file' },
  });
  t.deepEqual(Object.keys(out.artifacts).sort(), ['report.html', 'report.json']);
  const report = VerifyReportSchema.parse(JSON.parse(new TextDecoder().decode(out.artifacts['report.json'])));
  t.is(report.accuracy.samples, 3);
  t.is(report.accuracy.source, 'synthetic');
  t.true(report.warnings.some((w) => w.startsWith('NO VALIDATION DATA')));
  t.is(out.summary['latencyEstimate'], true);
  t.deepEqual(Object.keys(out.summary['latencyMs'] as object).sort(), ['devboard', 'pcie', 'usb2', 'usb3']);
});
