import test from 'ava';
import { ModelBuilder } from '../../shared/toolchain/ir/builder.js';
import type { IrModel } from '../../shared/toolchain/ir/model.js';
import { toTfliteBytes } from '../../shared/toolchain/loaders/convert.js';
import { openInterpreterRunner } from '../../shared/toolchain/quantize/capture.js';
import { precheckModel } from '../../shared/toolchain/quantize/precheck.js';
import { quantizationState, quantizeModel } from '../../shared/toolchain/quantize/quantize-model.js';
import { addAnchors, emptyAnchors } from '../../shared/toolchain/verify/accuracy/task-metrics.js';
import {
  taskOf,
  taskOfModel,
  type OutputFacts,
  type TaskFacts,
} from '../../shared/toolchain/verify/accuracy/task-type.js';
import { verdictLine, verdictOf } from '../../shared/toolchain/verify/report/verdict.js';
import { verifyModel } from '../../shared/toolchain/verify/verify-model.js';
import { rng, uniformSamples } from '../helpers/models.js';

const out = (shape: number[], producer: string | null = null, name = 'y'): OutputFacts => ({ name, shape, producer });
const facts = (outputs: OutputFacts[], detection: TaskFacts['detection'] = null): TaskFacts => ({ outputs, detection });

test('task rules: each output layout gets its task and metric family', (t) => {
  const cases: [string, TaskFacts, string, string][] = [
    ['Coral SSD', facts([out([]), out([]), out([]), out([])], [0, 1, 2, 3]), 'detector', 'detection'],
    // traffic_model: the four post-processing outputs and two LSTM state outputs
    [
      'SSD + LSTM state',
      facts([out([]), out([]), out([]), out([]), out([1, 8, 8, 320]), out([1, 8, 8, 320])], [0, 1, 2, 3]),
      'detector',
      'detection',
    ],
    // BlazeFace (TF.js): [1,384,16] boxes+keypoints, [1,512,1] scores, … in any order
    [
      'BlazeFace',
      facts([out([1, 384, 16]), out([1, 512, 1]), out([1, 384, 1]), out([1, 512, 16])]),
      'detector',
      'anchors',
    ],
    ['DeepLab ARG_MAX', facts([out([1, 513, 513], 'ARG_MAX')]), 'segmenter', 'segmentation'],
    ['class scores per pixel', facts([out([1, 64, 64, 21], 'RESIZE_BILINEAR')]), 'segmenter', 'segmentation'],
    ['MoveNet', facts([out([1, 1, 17, 3])]), 'pose', 'keypoints'],
    [
      'PoseNet',
      facts([out([1, 9, 9, 17]), out([1, 9, 9, 34]), out([1, 9, 9, 32]), out([1, 9, 9, 32])]),
      'pose',
      'keypoints',
    ],
    ['FaceNet', facts([out([1, 128], 'L2_NORMALIZATION')]), 'embedding', 'embedding'],
    ['named embedding', facts([out([1, 512], 'FULLY_CONNECTED', 'embeddings')]), 'embedding', 'embedding'],
    ['MobileNet', facts([out([1, 1001], 'SOFTMAX')]), 'classifier', 'classification'],
    ['4-D logits', facts([out([1, 1, 1, 10])]), 'classifier', 'classification'],
    ['hello_world', facts([out([1, 1], 'FULLY_CONNECTED')]), 'regression', 'tensor'],
    // a single [1,384,16] list is not a picture: no rule but "other"
    ['anchor list alone', facts([out([1, 384, 16])]), 'other', 'tensor'],
  ];
  for (const [what, f, type, metrics] of cases) t.like(taskOf(f), { type, metrics, source: 'model' }, what);
});

test('kiln.json "task" overrides the rules; a task the outputs cannot be scored as falls back to output SNR', (t) => {
  const f = facts([out([1, 1, 1, 10])]);
  t.like(taskOf(f, 'embedding'), { type: 'embedding', metrics: 'embedding', source: 'kiln.json' });
  const d = taskOf(f, 'detector');
  t.like(d, { type: 'detector', metrics: 'tensor', source: 'kiln.json' });
  t.regex(d.why, /no detector shape/);
});

/** A raw detector head like BlazeFace: conv → per-anchor boxes [1,64,4] and per-anchor logits [1,64,1]. */
function rawDetector(): IrModel {
  const r = rng(11);
  const rand = (n: number, s = 1) => Float32Array.from({ length: n }, () => (r() * 2 - 1) * s);
  const b = new ModelBuilder();
  const x = b.input('image', [1, 8, 8, 3]);
  const feat = b.conv2d(
    x,
    b.constant('f/w', 'float32', [8, 3, 3, 3], rand(216, 0.5)),
    b.constant('f/b', 'float32', [8], rand(8, 0.1)),
    { activation: 'RELU6' },
  );
  const box = b.conv2d(
    feat,
    b.constant('box/w', 'float32', [4, 1, 1, 8], rand(32, 0.5)),
    b.constant('box/b', 'float32', [4], rand(4, 0.1)),
  );
  const score = b.conv2d(
    feat,
    b.constant('score/w', 'float32', [1, 1, 1, 8], rand(8, 0.8)),
    b.constant('score/b', 'float32', [1], [0.5]),
  );
  b.output(b.reshape(box, [1, 64, 4], { name: 'boxes' }), b.reshape(score, [1, 64, 1], { name: 'scores' }));
  return b.build();
}

test('a raw detector head (fixture) is a detector scored on confident anchors; its verdict line names the task', async (t) => {
  const float = rawDetector();
  t.like(taskOfModel(float), { type: 'detector', metrics: 'anchors' });
  const q = await quantizeModel(float, {
    samples: uniformSamples(24, 8 * 8 * 3, 3),
    debugSamples: 0,
    openRunner: openInterpreterRunner,
  });
  const report = await verifyModel({
    float: { name: 'float.tflite', bytes: toTfliteBytes(float) },
    int8: { name: 'int8.tflite', bytes: toTfliteBytes(q.model) },
    validation: { samples: uniformSamples(6, 8 * 8 * 3, 9), labels: null, source: 'synthetic', warnings: [] },
    debugSamples: 0,
  });
  t.is(report.task.type, 'detector');
  t.is(report.accuracy.kind, 'anchors');
  t.is(report.accuracy.segmentation, null);
  const a = report.accuracy.anchors!;
  t.true(a.floatAnchors > 0, 'bias 0.5 makes many anchors confident');
  t.true(a.matched <= a.floatAnchors);
  t.is(a.matchRate, a.matched / a.floatAnchors);
  t.is(a.agreement, a.matched / (a.floatAnchors + a.int8Anchors - a.matched));
  t.is(report.verdict.ready, report.verdict.level !== 'bad');
  t.is(report.verdict.line, verdictLine(report.verdict, 'detector'));
  t.true(report.verdict.line.startsWith(`${report.verdict.headline} (detector): ${report.verdict.reasons[0]}`));
});

test('verdict: anchors below 70% are "not ready", and the worst reason comes first in the line', (t) => {
  const base = {
    edgeTpu: {
      totalOps: 10,
      edgeTpuOps: 9,
      cpuOps: 1,
      share: 0.9,
      subgraphs: 1,
      compileStatus: 'ok' as const,
      compileError: null,
    },
    task: { type: 'detector' as const, source: 'model' as const, why: '' },
  };
  const accuracy = {
    kind: 'anchors' as const,
    source: 'synthetic',
    samples: 4,
    labelled: 0,
    cap: { used: 4, available: 4, reason: '' },
    executor: '',
    classification: null,
    segmentation: null,
    detection: null,
    anchors: {
      heads: 2,
      minScore: 0.3,
      floatAnchors: 10,
      int8Anchors: 6,
      matched: 6,
      matchRate: 1,
      agreement: 0.6,
      meanBoxError: 0.1,
    },
    keypoints: null,
    embedding: null,
    outputs: [{ name: 'boxes', snrDb: 30, maxAbsError: 0.1, mse: 0.01 }],
  };
  const v = verdictOf({ ...base, accuracy });
  t.is(v.level, 'bad');
  t.false(v.ready);
  t.is(v.headline, 'Not ready for the Edge TPU');
  t.regex(v.line, /^Not ready for the Edge TPU \(detector\): int8 and float agree on 60\.0% .* \(\+1 more\)$/);
  const ok = verdictOf({ ...base, accuracy: { ...accuracy, anchors: { ...accuracy.anchors, agreement: 0.95 } } });
  t.is(ok.level, 'warn');
  t.true(ok.ready);
});

/** A uint8 model ending in DEQUANTIZE → TFLite_Detection_PostProcess (float boxes, classes, scores, count). */
function quantizedSsdTail(extraFloat: boolean): IrModel {
  const b = new ModelBuilder();
  const qp = ModelBuilder.quant([0.05], [128]);
  const boxes = b.input('boxes', [1, 2, 4], 'uint8', qp);
  const scores = b.input('scores', [1, 2, 3], 'uint8', qp);
  const fb = b.unary('DEQUANTIZE', boxes, { dtype: 'float32' });
  const fs = b.unary('DEQUANTIZE', scores, { dtype: 'float32' });
  const anchors = b.constant('anchors', 'float32', [2, 4], [0.25, 0.25, 0.5, 0.5, 0.75, 0.75, 0.5, 0.5]);
  const shapes = [[1, 2, 4], [1, 2], [1, 2], [1]];
  const outs = b.op(
    'CUSTOM',
    [fb, fs, anchors],
    {},
    {
      customCode: 'TFLite_Detection_PostProcess',
      outputs: ['boxes', 'classes', 'scores', 'count'].map((name, i) => ({ name, dtype: 'float32', shape: shapes[i] })),
    },
  );
  b.output(...outs);
  if (extraFloat) b.output(b.unary('DEQUANTIZE', b.unary('RELU', boxes), { name: 'float_tail', dtype: 'float32' }));
  return b.build();
}

test('float detection post-processing is full-integer for the Edge TPU; other float tensors are not', async (t) => {
  const ssd = quantizedSsdTail(false);
  t.is(quantizationState(ssd), 'quantized');
  t.deepEqual(
    precheckModel(ssd).filter((p) => p.rule === 'fully-integer'),
    [],
  );
  const res = await quantizeModel(ssd);
  t.is(res.report.status, 'passthrough');
  t.is(taskOfModel(ssd).type, 'detector');
  const mixed = quantizedSsdTail(true);
  t.is(quantizationState(mixed), 'mixed');
  await t.throwsAsync(() => quantizeModel(mixed), { message: /partly quantized/ });
});

test('addAnchors: logits go through a sigmoid; int8 false alarms count against the agreement', (t) => {
  const acc = emptyAnchors();
  // 4 anchors, logits: float confident about anchors 0 and 1; int8 about 1, 2 and 3.
  const boxes = (d: number) => Float32Array.from({ length: 16 }, (_, i) => i + d);
  addAnchors(
    acc,
    { scores: [2, 1, -3, -3], boxes: boxes(0) },
    { scores: [-2, 1.5, 0, 0.5], boxes: boxes(0.5) },
    4,
    0.5,
  );
  t.deepEqual(acc, { reference: 2, predicted: 3, matched: 1, sumBoxError: 0.5 });
  // probabilities stay as they are: 0.4 is below 0.5
  const p = emptyAnchors();
  addAnchors(p, { scores: [0.9, 0.4], boxes: boxes(0) }, { scores: [0.6, 0.45], boxes: boxes(0) }, 2, 0.5);
  t.like(p, { reference: 1, predicted: 1, matched: 1 });
});
