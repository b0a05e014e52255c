import test from 'ava';
import { compileModel } from '../../shared/edgetpu/compile-model.js';
import {
  ACTIVATION_LIMIT_PER_TILE,
  NARROW_BYTES_PER_TILE,
  peakActivationPerTile,
} from '../../shared/edgetpu/memory.js';
import { ERRORS } from '../../shared/edgetpu/strings.js';
import { ModelBuilder } from '../../shared/ir/builder.js';
import { ARCHITECTURES } from '../../shared/verify/architectures/index.js';
import { bytesOf, conv, input } from './helpers.js';

/** Every published architecture compiles with the real compiler (Coral publishes its latency): none may be refused. */
for (const a of ARCHITECTURES) {
  test(`${a.model} ${a.size}×${a.size} is not refused for large activations`, (t) => {
    const model = a.build();
    const g = model.graph;
    const peak = peakActivationPerTile(
      g,
      g.ops.map((o) => o.id),
    );
    t.log(
      `peak activation working set: ${peak.bytes} B per tile (${(peak.bytes / NARROW_BYTES_PER_TILE).toFixed(2)}× narrow)`,
    );
    t.true(peak.bytes <= ACTIVATION_LIMIT_PER_TILE);
    const r = compileModel([{ path: `${a.model}.tflite`, bytes: bytesOf(model) }]);
    t.not(r.models[0]!.failure?.stage, 'activations', r.models[0]!.failure?.message);
  });
}

test('VGG16 conv1_2 needs more than twice the narrow memory per tile, and the limit still lets it compile', (t) => {
  const vgg = ARCHITECTURES.find((a) => a.model === 'VGG16')!.build();
  const peak = peakActivationPerTile(
    vgg.graph,
    vgg.graph.ops.map((o) => o.id),
  );
  t.is(peak.bytes, 401_408);
  t.true(peak.bytes > 2 * NARROW_BYTES_PER_TILE);
});

test('a working set just over the limit is refused with the large-activation error and the figures', (t) => {
  // 1×1 conv 8 → C channels on 128×128: per tile (128·128·(8 + C)) / 16 bytes; C = 776 gives 802,816 > 786,432.
  const b = new ModelBuilder();
  const x = input(b, 'x', [1, 128, 128, 8]);
  b.output(conv(b, x, 8, 776, 'wide'));
  const r = compileModel([{ path: 'wide.tflite', bytes: bytesOf(b.build()) }]);
  const f = r.models[0]!.failure!;
  t.is(f.stage, 'activations');
  t.deepEqual(f.lines, [ERRORS.restoredPlan, ERRORS.largeActivations]);
  t.regex(f.message, /needs about 802816 bytes .* limit is 786432 \(4 × the 196608-byte narrow memory/);
});
