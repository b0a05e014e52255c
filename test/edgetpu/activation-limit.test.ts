import test from 'ava';
import {
  assessActivations,
  CHIP_NARROW_BYTES,
  LARGEST_KNOWN_COMPILED_PER_TILE,
} from '../../shared/toolchain/edgetpu/activations.js';
import { compileModel } from '../../shared/toolchain/edgetpu/compile-model.js';
import { NARROW_BYTES_PER_TILE, peakActivationPerTile } from '../../shared/toolchain/edgetpu/memory.js';
import { buildReport } from '../../shared/toolchain/edgetpu/report.js';
import { ERRORS } from '../../shared/toolchain/edgetpu/strings.js';
import { ModelBuilder } from '../../shared/toolchain/ir/builder.js';
import { ARCHITECTURES } from '../../shared/toolchain/verify/architectures/index.js';
import { posenetMobilenetV1 } from '../../shared/toolchain/verify/architectures/posenet.js';
import { bytesOf, conv, input } from './helpers.js';

const allOps = (m: { graph: { ops: { id: number }[] } }) => m.graph.ops.map((o) => o.id);

/** Every published architecture compiles with the real compiler (Coral publishes its latency): none may be refused. */
for (const a of ARCHITECTURES) {
  test(`${a.model} ${a.size}×${a.size} is not refused for large activations`, (t) => {
    const model = a.build();
    const v = assessActivations(model.graph, allOps(model));
    t.log(`${v.rule} (${v.confidence}): ${v.reason}`);
    t.true(v.compiles);
    const r = compileModel([{ path: `${a.model}.tflite`, bytes: bytesOf(model) }]);
    t.not(r.models[0]!.failure?.stage, 'activations', r.models[0]!.failure?.message);
  });
}

test('VGG16 conv1_2 needs more than twice the narrow memory per tile: streamed, with high confidence', (t) => {
  const vgg = ARCHITECTURES.find((a) => a.model === 'VGG16')!.build();
  const v = assessActivations(vgg.graph, allOps(vgg));
  t.is(v.peakWorkingSetPerTile, 401_408);
  t.true(v.peakWorkingSetPerTile > 2 * NARROW_BYTES_PER_TILE);
  t.is(v.rule, 'streamed');
  t.is(v.confidence, 'high');
});

test('LARGEST_KNOWN_COMPILED_PER_TILE is the working set of the PoseNet MobileNet v1 0.75 721×1281 rebuild (Coral ships it compiled)', (t) => {
  const m = posenetMobilenetV1(721, 1281);
  t.is(peakActivationPerTile(m.graph, allOps(m)).bytes, LARGEST_KNOWN_COMPILED_PER_TILE);
});

/** Coral's PoseNet/BodyPix models, compiled by Google into one Edge TPU subgraph (google-coral/project-posenet, project-bodypix). */
const HIGH_RES: [number, number][] = [
  [720, 1280],
  [1280, 720],
  [721, 1281],
  [768, 1024],
];
for (const [h, w] of HIGH_RES) {
  for (const decoder of ['none', 'posenet', 'bodypix'] as const) {
    test(`MobileNet v1 0.75 PoseNet ${h}×${w}, OS16, decoder ${decoder}: one Edge TPU subgraph, CPU only after it`, (t) => {
      const m = posenetMobilenetV1(h, w, { decoder });
      const r = compileModel([{ path: 'posenet.tflite', bytes: bytesOf(m) }]);
      const res = r.models[0]!;
      t.true(r.ok, res.failure?.message);
      t.is(res.numEdgeTpuSubgraphs, 1);
      t.true(res.memory.peakActivationBytesPerTile > 4 * NARROW_BYTES_PER_TILE);
      t.is(res.memory.activations?.rule, 'streamed');
      t.is(res.memory.activations?.confidence, 'high');
      const cpu = res.operations.filter((o) => !o.onEdgeTpu).map((o) => o.opcode);
      const expected = { none: [], posenet: ['CUSTOM:PosenetDecoderOp'], bodypix: ['RESIZE_BILINEAR', 'ARG_MAX'] }[
        decoder
      ];
      t.deepEqual(cpu, expected);
      // every CPU op comes after the Edge TPU part
      const lastTpu = Math.max(...res.operations.filter((o) => o.onEdgeTpu).map((o) => o.index));
      t.true(res.operations.filter((o) => !o.onEdgeTpu).every((o) => o.index > lastTpu));
    });
  }
}

test('the compile report carries the activation verdict with its confidence and evidence', (t) => {
  const r = compileModel([{ path: 'p.tflite', bytes: bytesOf(posenetMobilenetV1(720, 1280)) }]);
  const rep = buildReport(r, null);
  t.is(rep.status, 'ok');
  t.is(rep.memory.activations?.confidence, 'high');
  t.regex(rep.memory.activations!.reason, /row bands.*DeepLab v3 513/);
});

test('a streamed chain larger than any known to compile: compiles, confidence low', (t) => {
  const m = posenetMobilenetV1(1081, 1921);
  const r = compileModel([{ path: 'p.tflite', bytes: bytesOf(m) }]);
  t.true(r.ok);
  t.is(r.models[0]!.memory.activations?.rule, 'streamed-beyond-known');
  t.is(r.models[0]!.memory.activations?.confidence, 'low');
});

test('a streamed model with a layout-changing RESHAPE on the Edge TPU (the pattern of the reported failures): compiles, confidence low', (t) => {
  const b = new ModelBuilder();
  const x = input(b, 'x', [1, 256, 256, 8]);
  const y = conv(b, x, 8, 64, 'wide'); // 256·256·(8 + 64) / 16 = 294,912 B per tile > 196,608
  const z = conv(b, y, 64, 6, 'head');
  b.output(b.reshape(z, [1, 256 * 256 * 3, 2], { name: 'boxes', quant: ModelBuilder.quant(0.05, 0) }));
  const r = compileModel([{ path: 'det.tflite', bytes: bytesOf(b.build()) }]);
  const m = r.models[0]!;
  t.true(r.ok);
  t.is(m.numEdgeTpuSubgraphs, 1);
  t.is(m.memory.activations?.rule, 'streamed-layout-op');
  t.is(m.memory.activations?.confidence, 'low');
  t.regex(m.memory.activations!.reason, /RESHAPE, "boxes".*439, 449, 512, 608, 653/);
});

test('a working set within a tile: rule fits, confidence high', (t) => {
  const b = new ModelBuilder();
  b.output(conv(b, input(b, 'x', [1, 32, 32, 8]), 8, 8, 'c'));
  const r = compileModel([{ path: 'small.tflite', bytes: bytesOf(b.build()) }]);
  t.is(r.models[0]!.memory.activations?.rule, 'fits');
  t.is(r.models[0]!.memory.activations?.confidence, 'high');
});

test('only a row band larger than all 16 tiles of narrow memory is refused, with the figures and confidence low', (t) => {
  // one output row of the 1×1 conv: 4096 × 800 = 3,276,800 B (+ 4096 × 8 input) > 3,145,728
  const b = new ModelBuilder();
  const x = input(b, 'x', [1, 2, 4096, 8]);
  b.output(conv(b, x, 8, 800, 'wide'));
  const r = compileModel([{ path: 'wide.tflite', bytes: bytesOf(b.build()) }]);
  const m = r.models[0]!;
  const f = m.failure!;
  t.is(f.stage, 'activations');
  t.is(f.confidence, 'low');
  t.deepEqual(f.lines, [ERRORS.restoredPlan, ERRORS.largeActivations]);
  t.regex(f.message, new RegExp(`needs at least 3309568 bytes .* more than the ${CHIP_NARROW_BYTES} bytes`));
  t.is(m.memory.activations?.rule, 'band-too-large');
  t.is(buildReport(r, null).models[0]!.error?.confidence, 'low');
  // 780 channels: one row band is 3,227,648 B... still over; 760 channels: 3,145,728 exactly fits (not refused)
  const ok = new ModelBuilder();
  ok.output(conv(ok, input(ok, 'x', [1, 2, 4096, 8]), 8, 760, 'wide'));
  const r2 = compileModel([{ path: 'ok.tflite', bytes: bytesOf(ok.build()) }]);
  t.true(r2.ok);
  t.is(r2.models[0]!.memory.activations?.peakBandBytes, CHIP_NARROW_BYTES);
});
