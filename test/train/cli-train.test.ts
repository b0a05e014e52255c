import test from 'ava';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stripesModel } from '../../shared/toolchain/samples/stripes.js';
import { VerifyReportSchema } from '../../shared/toolchain/verify/report/schema.js';
import { kiln } from '../helpers/cli.js';
import { shapeFiles, writeFiles } from '../helpers/image-sets.js';

/**
 * `kiln train` end to end through the real executable, on a dataset made here: 3 classes of generated images and a
 * base classifier Kiln builds itself (the float stripes sample; its embedding is the 4 edge energies before its FC).
 */
async function dataset(t: { teardown: (f: () => Promise<void>) => void }, train: object, perClass = 12) {
  const dir = await mkdtemp(join(tmpdir(), 'kiln-train-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  await writeFiles(join(dir, 'set'), await shapeFiles(perClass, 48));
  await writeFile(join(dir, 'set', 'base.tflite'), stripesModel());
  await writeFile(join(dir, 'set', 'kiln.json'), JSON.stringify({ train }));
  return { set: join(dir, 'set'), out: join(dir, 'out') };
}

test('kiln train writes the build artifacts and report.json with the training block; report.html shows it', async (t) => {
  const { set, out } = await dataset(t, { base: 'base.tflite', epochs: 25, seed: 3 });
  const r = kiln(['train', set, '-o', out, '--json'], { env: { KILN_PROGRESS: '0' }, timeoutMs: 300_000 });
  t.is(r.status, 0, r.stderr);
  const json = JSON.parse(r.stdout) as {
    status: string;
    training: { route: string; classes: string[]; samples: { train: number; validation: number; test: number } };
  };
  t.is(json.status, 'succeeded');
  t.is(json.training.route, 'transfer');
  t.deepEqual(json.training.classes, ['disc', 'hstripes', 'vstripes']);
  t.deepEqual(json.training.samples, { train: 30, validation: 3, test: 3 });

  const report = VerifyReportSchema.parse(JSON.parse(await readFile(join(out, 'report.json'), 'utf8')));
  const tr = report.training!;
  t.truthy(tr);
  t.is(tr.base, 'base.tflite');
  t.is(tr.cut?.opType, 'FULLY_CONNECTED');
  t.is(tr.cut?.embeddingSize, 4);
  t.is(tr.epochs, 25);
  t.is(tr.history.length, 25);
  t.true(tr.trainSeconds >= 0);
  t.is(
    tr.confusion.flat().reduce((a, b) => a + b, 0),
    3,
    'every test image is in the confusion matrix',
  );
  t.deepEqual(
    tr.perClass.map((c) => c.test),
    [1, 1, 1],
  );
  t.true(tr.testAccuracy.float !== null && tr.testAccuracy.int8 !== null);
  for (const phase of ['decode images', 'embeddings', 'train head', 'quantize', 'compile', 'verify'])
    t.true(phase in tr.phasesMs, phase);
  // verify scored the test split (labelled by class folder), which the quantizer never calibrated on.
  t.is(report.accuracy.labelled, 3);
  const calibration = Object.keys(JSON.parse(r.stdout).artifacts as object).filter((n) => n.startsWith('calibration/'));
  const validation = Object.keys(JSON.parse(r.stdout).artifacts as object).filter(
    (n) => n.startsWith('validation/') && n.endsWith('.png'),
  );
  t.is(calibration.length, 30);
  t.is(validation.length, 3);
  // Names are `<index>-<class>-<file>`: no test image is among the calibration images.
  const stem = (n: string) => n.split('/').pop()!.slice(6);
  t.true(validation.every((v) => /^(disc|hstripes|vstripes)-img-\d+\.png$/.test(stem(v))));
  t.false(validation.some((v) => calibration.some((c) => stem(c) === stem(v))));
  t.is(await readFile(join(out, 'labels.txt'), 'utf8'), 'disc\nhstripes\nvstripes\n');
  const html = await readFile(join(out, 'report.html'), 'utf8');
  for (const id of [
    'training',
    'training-curves',
    'confusion',
    'per-class',
    'misclassified',
    'phases',
    'test-accuracy',
  ])
    t.true(html.includes(`id="${id}"`), id);
  t.regex(html, /<polyline points="[\d., ]+"/);
});

test('kiln build on a dataset folder trains too; a bad dataset and a missing base exit 2 with the reason', async (t) => {
  const one = await dataset(t, { base: 'base.tflite' });
  await rm(join(one.set, 'hstripes'), { recursive: true });
  await rm(join(one.set, 'vstripes'), { recursive: true });
  const r1 = kiln(['build', one.set, '-o', one.out], { env: { KILN_PROGRESS: '0' } });
  t.is(r1.status, 2, r1.stderr);
  t.regex(r1.stderr, /only one class \(disc\)/);

  const nobase = await dataset(t, {});
  const r3 = kiln(['train', nobase.set, '-o', nobase.out], { env: { KILN_PROGRESS: '0' } });
  t.is(r3.status, 2, r3.stderr);
  t.regex(r3.stderr, /transfer learning needs a base model/);

  const outside = await dataset(t, { base: '../base.tflite' });
  const r4 = kiln(['train', outside.set, '-o', outside.out], { env: { KILN_PROGRESS: '0' } });
  t.is(r4.status, 2, r4.stderr);
  t.regex(r4.stderr, /train.base \.\.\/base.tflite contains "\.\."/);
});

test('kiln train --route automl trains a CNN from scratch that maps wholly to the Edge TPU', async (t) => {
  const { set, out } = await dataset(t, { route: 'automl', epochs: 3, inputSize: 24, seed: 5 });
  const r = kiln(['train', set, '-o', out, '--json'], { env: { KILN_PROGRESS: '0' }, timeoutMs: 600_000 });
  t.is(r.status, 0, r.stderr);
  const json = JSON.parse(r.stdout) as { status: string; summary: Record<string, unknown> };
  t.is(json.status, 'succeeded');
  const report = VerifyReportSchema.parse(JSON.parse(await readFile(join(out, 'report.json'), 'utf8')));
  const tr = report.training!;
  t.is(tr.route, 'automl');
  t.is(tr.base, undefined);
  t.true(tr.epochs >= 1 && tr.epochs <= 3);
  t.is(tr.history.length, tr.epochs);
  t.not(tr.testAccuracy.int8, null);
  const compile = JSON.parse(await readFile(join(out, 'compile-report.json'), 'utf8')) as {
    models: { totalOperations: number; cpuOperations: number }[];
  };
  t.true(compile.models[0]!.totalOperations > 0);
  t.is(compile.models[0]!.cpuOperations, 0);
});
