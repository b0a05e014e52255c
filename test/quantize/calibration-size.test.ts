import test from 'ava';
import { ModelBuilder } from '../../shared/toolchain/ir/builder.js';
import {
  calibrationSizeWarning,
  MIN_CALIBRATION_SAMPLES,
  outOfRangeBound,
} from '../../shared/toolchain/quantize/calibration-size.js';
import { quantizeModel } from '../../shared/toolchain/quantize/quantize-model.js';
import { rng, uniformSamples } from '../helpers/models.js';

function fixture() {
  const r = rng(2);
  const b = new ModelBuilder();
  const x = b.input('x', [1, 4, 4, 2]);
  const c = b.conv2d(
    x,
    b.constant(
      'w',
      'float32',
      [3, 3, 3, 2],
      Float32Array.from({ length: 54 }, () => r() - 0.5),
    ),
    b.constant('b', 'float32', [3], Float32Array.of(0.1, -0.2, 0)),
    { activation: 'RELU' },
  );
  b.output(b.reshape(c, [1, 48]));
  return b.build();
}

test('the out-of-range bound is 2/(n+1) and the threshold keeps it near 6%', (t) => {
  t.is(outOfRangeBound(1), 1);
  t.is(outOfRangeBound(9), 0.2);
  t.true(outOfRangeBound(MIN_CALIBRATION_SAMPLES) <= 0.061);
  t.true(outOfRangeBound(MIN_CALIBRATION_SAMPLES - 1) > 0.0624);
  t.is(calibrationSizeWarning(MIN_CALIBRATION_SAMPLES), null);
  t.regex(calibrationSizeWarning(31)!, /31 samples\b.*2\/\(n\+1\) = 6%; add at least 1 more representative input \(/);
});

test('calibrating on one image warns with the count and what to add; a big enough set does not', async (t) => {
  const float = fixture();
  const one = await quantizeModel(float, {
    samples: uniformSamples(1, 32, 1),
    sampleSource: 'images',
    debugSamples: 1,
    threads: 1,
  });
  const w = one.report.warnings.filter((x) => x.startsWith('TOO FEW CALIBRATION SAMPLES'));
  t.is(w.length, 1, one.report.warnings.join('\n'));
  t.regex(w[0]!, /^TOO FEW CALIBRATION SAMPLES: 1 sample\. /);
  t.regex(w[0]!, /probability up to 2\/\(n\+1\) = 100%/);
  t.regex(w[0]!, /add at least 31 more representative inputs \(32 in all: ≤ 6%\), ideally 100–500/);
  t.is(one.report.calibration.samples, 1);

  const enough = await quantizeModel(float, {
    samples: uniformSamples(MIN_CALIBRATION_SAMPLES, 32, 1),
    sampleSource: 'images',
    debugSamples: 1,
    threads: 1,
  });
  t.false(
    enough.report.warnings.some((x) => x.startsWith('TOO FEW')),
    enough.report.warnings.join('\n'),
  );
  // Synthetic inputs already carry their own warning; the size rule is for real data.
  const synthetic = await quantizeModel(float, { debugSamples: 1, threads: 1 });
  t.false(synthetic.report.warnings.some((x) => x.startsWith('TOO FEW')));
});

test('re-applying saved statistics of a small set warns too', async (t) => {
  const float = fixture();
  const first = await quantizeModel(float, { samples: uniformSamples(3, 32, 4), sampleSource: 'npy', threads: 1 });
  const again = await quantizeModel(float, { stats: first.stats!, debugSamples: 0 });
  t.true(again.report.warnings.some((x) => x.startsWith('TOO FEW CALIBRATION SAMPLES: 3 samples.')));
});
