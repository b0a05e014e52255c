import { ModelBuilder } from '../../ir/builder.js';
import type { IrModel } from '../../ir/model.js';
import { mobilenetV1Body } from './mobilenet-v1.js';
import { QNet, weightBytes } from './qnet.js';

/**
 * SSD MobileNet v1 (TF object detection API, ssd_mobilenet_v1_coco quantized with postprocessing): MobileNet v1
 * features at blocks 11 and 13, four extra 1×1 → 3×3/2 layers, 1×1 box and class predictors (3 anchors on the
 * first map, 6 on the others), and the TFLite_Detection_PostProcess custom op, which runs on the CPU.
 */
const EXTRAS: readonly [number, number][] = [
  [256, 512],
  [128, 256],
  [128, 256],
  [64, 128],
];
const CLASSES = 91;
const MAX_DETECTIONS = 10;

export function ssdMobilenetV1(size = 224): IrModel {
  const net = new QNet('ssd_mobilenet_v1');
  const { c11, c13 } = mobilenetV1Body(net, net.input([1, size, size, 3]));
  const maps = [c11, c13];
  let y = c13;
  for (const [a, b] of EXTRAS) {
    y = net.conv(net.conv(y, a, 1, { activation: 'RELU6' }), b, 3, { stride: 2, activation: 'RELU6' });
    maps.push(y);
  }
  const boxes: number[] = [];
  const scores: number[] = [];
  let anchors = 0;
  maps.forEach((m, i) => {
    const k = i === 0 ? 3 : 6;
    const [, h, w] = net.shape(m);
    const n = h! * w! * k;
    anchors += n;
    boxes.push(net.reshape(net.conv(m, k * 4, 1, { activation: 'NONE' }), [1, n, 4]));
    scores.push(net.reshape(net.conv(m, k * CLASSES, 1, { activation: 'NONE' }), [1, n, CLASSES]));
  });
  const box = net.concat(boxes, 1);
  const cls = net.logistic(net.concat(scores, 1));
  const anchorT = net.b.constant(
    'anchors',
    'int8',
    [anchors, 4],
    weightBytes(anchors * 4, 1),
    ModelBuilder.quant(1 / 128, 0),
  );
  const outs = net.b.op(
    'CUSTOM',
    [box, cls, anchorT],
    {},
    {
      customCode: 'TFLite_Detection_PostProcess',
      outputs: [
        { name: 'detection_boxes', dtype: 'float32', shape: [1, MAX_DETECTIONS, 4] },
        { name: 'detection_classes', dtype: 'float32', shape: [1, MAX_DETECTIONS] },
        { name: 'detection_scores', dtype: 'float32', shape: [1, MAX_DETECTIONS] },
        { name: 'num_detections', dtype: 'float32', shape: [1] },
      ],
    },
  );
  net.b.output(...outs);
  return net.build();
}
