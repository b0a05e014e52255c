import test from 'ava';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ModelBuilder } from '../../shared/toolchain/ir/builder.js';
import { nonFiniteWeights } from '../../shared/toolchain/loaders/finite-weights.js';
import { toTfliteBytes } from '../../shared/toolchain/loaders/convert.js';
import { kiln } from '../helpers/cli.js';

/** input [1,8] → FC (weights with `nan` NaN and `inf` infinite values) → FC (finite) → output. */
function model(nan: number, inf: number): Uint8Array {
  const b = new ModelBuilder();
  const x = b.input('x', [1, 8]);
  const w = Float32Array.from({ length: 32 }, (_v, i) => (i % 7) / 10 - 0.3);
  for (let i = 0; i < nan; i++) w[i] = NaN;
  for (let i = 0; i < inf; i++) w[31 - i] = i % 2 ? -Infinity : Infinity;
  const h = b.fullyConnected(
    x,
    b.constant('dense/kernel', 'float32', [4, 8], w),
    b.constant('dense/bias', 'float32', [4], new Float32Array(4)),
  );
  const y = b.fullyConnected(
    h,
    b.constant(
      'head/kernel',
      'float32',
      [2, 4],
      Float32Array.from({ length: 8 }, (_v, i) => i / 8),
    ),
    null,
  );
  b.output(y);
  return toTfliteBytes(b.build());
}

test('nonFiniteWeights names each float constant with NaN, and weights with NaN or infinite values', (t) => {
  const b = new ModelBuilder();
  const x = b.input('x', [1, 3]);
  const k = b.constant('k', 'float32', [3], Float32Array.of(NaN, Infinity, 1));
  const mask = b.constant('mask', 'float32', [3], Float32Array.of(0, -Infinity, 0));
  const w = b.constant('w', 'float32', [2, 3], Float32Array.of(1, Infinity, NaN, -Infinity, 2, 3));
  b.output(
    b.binary('ADD', x, k),
    b.binary('ADD', x, mask),
    b.binary('MUL', x, b.constant('ok', 'float32', [3], Float32Array.of(1, 2, 3))),
    b.fullyConnected(x, w, null),
  );
  t.deepEqual(nonFiniteWeights(b.build().graph), [
    { tensor: 'k', nan: 1, infinite: 0, size: 3 },
    { tensor: 'w', nan: 1, infinite: 2, size: 6 },
  ]);
});

test('kiln convert and kiln build refuse NaN weights at convert time, naming the tensor and the count (exit 2)', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'kiln-nan-'));
  const file = join(dir, 'nan_model.tflite');
  writeFileSync(file, model(5, 2));
  const conv = kiln(['convert', file, '-o', join(dir, 'out.tflite')]);
  t.is(conv.status, 2, conv.stderr);
  t.regex(conv.stderr, /weights are not finite/);
  t.regex(conv.stderr, /dense\/kernel \(5 NaN, 2 infinite of 32 values\)/);
  t.notRegex(conv.stderr, /head\/kernel|calibration/);
  const build = kiln(['build', dir, '-o', join(dir, 'build')]);
  t.is(build.status, 2, build.stderr);
  t.regex(build.stderr, /convert/);
  t.regex(build.stderr, /dense\/kernel \(5 NaN, 2 infinite of 32 values\)/);
  t.notRegex(build.stderr, /Check the calibration data/);
});

test('a model with finite weights still converts', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'kiln-nan-'));
  const file = join(dir, 'ok.tflite');
  writeFileSync(file, model(0, 0));
  const conv = kiln(['convert', file, '-o', join(dir, 'out.tflite')]);
  t.is(conv.status, 0, conv.stderr);
});
