import test from 'ava';
import { ModelBuilder } from '../../shared/toolchain/ir/builder.js';
import type { IrModel } from '../../shared/toolchain/ir/model.js';
import type { CaptureRunner, TensorValue } from '../../shared/toolchain/quantize/capture.js';
import { evaluateAccuracy } from '../../shared/toolchain/verify/accuracy/evaluate.js';
import {
  addDetections,
  addSegmentation,
  classMask,
  detectionsOf,
  emptyDetection,
  emptySegmentation,
  meanIoU,
  type Detection,
} from '../../shared/toolchain/verify/accuracy/metrics.js';
import { detectionOutputOrder, outputKind } from '../../shared/toolchain/verify/accuracy/output-kind.js';

test('segmentation: IoU per class over both masks; a class only one mask has counts with IoU 0', (t) => {
  const acc = emptySegmentation();
  // class 0: ∩ 1, ∪ 2; class 1: ∩ 1, ∪ 3; class 2 (int8 only): ∩ 0, ∪ 1.
  addSegmentation(acc, Int32Array.from([0, 0, 1, 1]), Int32Array.from([0, 1, 1, 2]));
  t.is(acc.agree, 2);
  t.is(acc.pixels, 4);
  t.deepEqual(
    [...acc.perClass].sort((a, b) => a[0] - b[0]),
    [
      [0, [1, 2]],
      [1, [1, 3]],
      [2, [0, 1]],
    ],
  );
  t.is(meanIoU(acc), (1 / 2 + 1 / 3 + 0) / 3);
  // Sums run over samples (dataset IoU); a class in neither mask of a sample adds nothing.
  addSegmentation(acc, Int32Array.from([3, 3, 1]), Int32Array.from([3, 3, 1]));
  t.deepEqual(acc.perClass.get(1), [2, 4]);
  t.deepEqual(acc.perClass.get(3), [2, 2]);
  t.is(acc.perClass.size, 4);
  t.is(meanIoU(acc), (1 / 2 + 2 / 4 + 0 + 1) / 4);
  t.is(meanIoU(emptySegmentation()), 1);
});

test('classMask: argmax over the channels, or the values of a mask (ARG_MAX int64 output read as numbers)', (t) => {
  t.deepEqual([...classMask(Float64Array.from([0.1, 0.7, 0.2, 0.5, 0.5, 0.0]), 3)], [1, 0]);
  t.deepEqual([...classMask(Float64Array.from([8, 0, 15]), 1)], [8, 0, 15]);
});

const det = (box: Detection['box'], cls: number, score: number): Detection => ({ box, cls, score });

test('detectionsOf keeps the first `count` slots with score ≥ minScore (slots past count are ignored)', (t) => {
  const boxes = Float64Array.from([0, 0, 0.5, 0.5, 0.5, 0.5, 1, 1, 0, 0, 1, 1]);
  const classes = Float64Array.from([2.0000001, 17, 5]);
  const scores = Float64Array.from([0.9, 0.2, 0.95]);
  t.deepEqual(detectionsOf(boxes, classes, scores, 2, 0.3), [det([0, 0, 0.5, 0.5], 2, 0.9)]);
  t.is(detectionsOf(boxes, classes, scores, 3, 0.1).length, 3);
  t.is(detectionsOf(boxes, classes, scores, 7, 0.1).length, 3);
  t.deepEqual(detectionsOf(boxes, classes, scores, 0, 0), []);
});

test('addDetections: greedy by float score, same class, IoU ≥ threshold, each int8 box used once', (t) => {
  const acc = emptyDetection();
  const ref = [det([0, 0, 1, 1], 1, 0.6), det([0, 0, 1, 1], 1, 0.9), det([0, 0, 0.2, 0.2], 3, 0.8)];
  // One class-1 box shifted by 0.1 (IoU 0.9 / 1.1), one class-3 box of the wrong class at the same place.
  const got = [det([0, 0.1, 1, 1.1], 1, 0.7), det([0, 0, 0.2, 0.2], 4, 0.8)];
  addDetections(acc, ref, got, 0.5);
  t.like(acc, { reference: 3, predicted: 2, matched: 1 });
  t.true(Math.abs(acc.sumIoU - 0.9 / 1.1) < 1e-12);
  const strict = emptyDetection();
  addDetections(strict, [det([0, 0, 1, 1], 1, 0.9)], [det([0, 0.5, 1, 1.5], 1, 0.9)], 0.5);
  t.is(strict.matched, 0, 'IoU 1/3 is below 0.5');
});

/** boxes [1,2,4] + class logits [1,2,3] → TFLite_Detection_PostProcess, graph outputs in the given order of its outputs. */
function detectionModel(order: number[]): IrModel {
  const b = new ModelBuilder();
  const boxes = b.input('boxes', [1, 2, 4]);
  const scores = b.input('scores', [1, 2, 3]);
  const anchors = b.constant('anchors', 'float32', [2, 4], [0.25, 0.25, 0.5, 0.5, 0.75, 0.75, 0.5, 0.5]);
  const shapes = [[1, 2, 4], [1, 2], [1, 2], [1]];
  const outs = b.op(
    'CUSTOM',
    [boxes, scores, anchors],
    {},
    {
      customCode: 'TFLite_Detection_PostProcess',
      outputs: ['boxes', 'classes', 'scores', 'count'].map((name, i) => ({ name, dtype: 'float32', shape: shapes[i] })),
    },
  );
  b.output(...order.map((i) => outs[i]!));
  return b.build();
}

test('detection outputs are read by the op output they are, in whatever order the graph lists them', async (t) => {
  t.deepEqual(detectionOutputOrder(detectionModel([0, 1, 2, 3])), [0, 1, 2, 3]);
  // TF2 Object Detection API exports list scores, boxes, count, classes.
  const order = [2, 0, 3, 1];
  const float = detectionModel(order);
  const int8 = detectionModel(order);
  t.is(outputKind(float), 'detection');
  t.deepEqual(detectionOutputOrder(float), [1, 3, 0, 2]);
  const value = (shape: number[], v: number[]): TensorValue => ({
    dtype: 'float32',
    shape,
    data: Float32Array.from(v),
  });
  const result = (shift: number): TensorValue[] => {
    const byOp = [
      value([1, 2, 4], [0, 0, 0.5, 0.5, 0.5 + shift, 0.5, 1 + shift, 1]),
      value([1, 2], [3, 7]),
      value([1, 2], [0.9, 0.8]),
      value([1], [2]),
    ];
    return order.map((i) => byOp[i]!);
  };
  const outputs = new Map([
    [float, result(0)],
    [int8, result(0.05)],
  ]);
  const runner = async (m: IrModel): Promise<CaptureRunner> => ({
    inputs: m.graph.inputs.map((i) => m.graph.tensor(i)),
    outputs: m.graph.outputs.map((i) => m.graph.tensor(i)),
    run: () => ({ outputs: outputs.get(m)! }),
  });
  const sample = [new Float32Array(8), new Float32Array(6)];
  const r = await evaluateAccuracy(float, int8, [sample], { openRunner: runner, debugSamples: 0 });
  t.is(r.kind, 'detection');
  t.like(r.detection, { floatBoxes: 2, int8Boxes: 2, matched: 2, matchRate: 1 });
  // The second box moved by 0.05 along y: IoU 0.45 / 0.55.
  t.true(Math.abs(r.detection!.meanMatchedIoU - (1 + 0.45 / 0.55) / 2) < 1e-6);
  t.false(r.warnings.some((w) => /detected nothing/.test(w)));

  // No float box above minScore: the match rate is 1 by convention, and a warning says it measures nothing.
  const none = await evaluateAccuracy(float, int8, [sample], { openRunner: runner, debugSamples: 0, minScore: 0.95 });
  t.like(none.detection, { floatBoxes: 0, matched: 0, matchRate: 1 });
  t.true(none.warnings.some((w) => /detected nothing with score ≥ 0.95 on the 1 samples/.test(w)));
});
