import test from 'ava';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeNpy } from '../../shared/toolchain/npy/index.js';
import { dataFilesOf } from '../../shared/pipeline/upload-data.js';
import { STRIPES_CLASSES, STRIPES_SIZE, stripesImage, stripesModel } from '../../shared/toolchain/samples/stripes.js';
import { kiln } from '../helpers/cli.js';

const sample = (kind: (typeof STRIPES_CLASSES)[number], i: number) =>
  writeNpy({
    dtype: 'float32',
    shape: [1, STRIPES_SIZE, STRIPES_SIZE, 3],
    data: stripesImage(kind, 0.5 + (i % 5) * 0.1, 4 + 2 * (i % 3)),
  });

test('data folders are found anywhere in an upload and never escape it', (t) => {
  const files = new Map<string, Uint8Array>([
    ['model.json', new Uint8Array(1)],
    ['calibration/a.png', new Uint8Array(2)],
    ['export/validation/cats/1.jpg', new Uint8Array(3)],
    ['calibration/../../etc/passwd', new Uint8Array(4)],
    ['mycalibration/x.png', new Uint8Array(5)],
  ]);
  t.deepEqual([...dataFilesOf(files).keys()].sort(), ['calibration/a.png', 'validation/cats/1.jpg']);
});

test('a folder upload with calibration/ and labelled validation/ data: the quantizer calibrates on it and verify scores top-1 on it', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'kiln-upload-data-'));
  const up = join(dir, 'stripes');
  mkdirSync(join(up, 'calibration'), { recursive: true });
  writeFileSync(join(up, 'stripes.tflite'), stripesModel());
  writeFileSync(
    join(up, 'kiln.json'),
    JSON.stringify({ quantize: { samples: 12, debugSamples: 2 }, verify: { maxSamples: 9 } }),
  );
  for (let i = 0; i < 12; i++)
    writeFileSync(join(up, 'calibration', `s${String(i).padStart(2, '0')}.npy`), sample(STRIPES_CLASSES[i % 3]!, i));
  for (const kind of STRIPES_CLASSES) {
    mkdirSync(join(up, 'validation', kind), { recursive: true });
    for (let i = 0; i < 3; i++) writeFileSync(join(up, 'validation', kind, `v${i}.npy`), sample(kind, i + 7));
  }
  writeFileSync(join(up, 'validation', 'labels.txt'), `${STRIPES_CLASSES.join('\n')}\n`);
  const out = join(dir, 'out');
  const r = kiln(['build', up, '-o', out, '--json']);
  t.is(r.status, 0, r.stderr);
  const result = JSON.parse(r.stdout) as { status: string; artifacts: Record<string, string> };
  t.is(result.status, 'succeeded');
  t.truthy(result.artifacts['calibration/s00.npy']);
  t.truthy(result.artifacts['validation/vertical/v1.npy']);
  const q = JSON.parse(readFileSync(join(out, 'quantize-report.json'), 'utf8'));
  t.is(q.calibration.samples, 12);
  t.false(q.calibration.synthetic);
  t.regex(q.calibration.source, /upload calibration\//);
  const report = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8'));
  t.is(report.accuracy.source, 'labelled-folders');
  t.is(report.accuracy.labelled, 9);
  // The designed classifier tells the stripes apart, before and after quantization.
  t.is(report.accuracy.classification.floatTop1, 1);
  t.true(report.accuracy.classification.int8Top1 >= 8 / 9, String(report.accuracy.classification.int8Top1));
  t.false(report.warnings.some((w: string) => /NO VALIDATION DATA|NO CALIBRATION DATA/.test(w)));
});
