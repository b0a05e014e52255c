import type { IrModel } from '../../ir/model.js';
import { MOBILENET_V1_BLOCKS } from './mobilenet-v1.js';
import { QNet } from './qnet.js';

/**
 * PoseNet / BodyPix on MobileNet v1 (the networks behind Coral's project-posenet and project-bodypix, which ship them
 * compiled for the Edge TPU at 721×1281, 1280×720, 1024×768 and smaller inputs): the MobileNet v1 body with a depth
 * multiplier, output stride 16 (the last stride-2 block runs at stride 1 with dilation 2), and 1×1 heads.
 *
 * decoder:
 *  - 'none': the heads are the model outputs;
 *  - 'posenet': Coral's PosenetDecoderOp custom op after the heads (runs on the CPU, after the Edge TPU part);
 *  - 'bodypix': a segmentation head, RESIZE_BILINEAR back to the input resolution and ARG_MAX (CPU-type tail).
 */
export interface PosenetOptions {
  multiplier?: number;
  decoder?: 'none' | 'posenet' | 'bodypix';
}

export function posenetMobilenetV1(height: number, width: number, o: PosenetOptions = {}): IrModel {
  const alpha = o.multiplier ?? 0.75;
  const ch = (c: number) => Math.round(c * alpha);
  const net = new QNet(`posenet_mobilenet_v1_${Math.round(alpha * 100)}_${height}_${width}`);
  let y = net.conv(net.input([1, height, width, 3]), ch(32), 3, { stride: 2, activation: 'RELU6' });
  let rate = 1;
  let stride = 2;
  for (const [cout, s] of MOBILENET_V1_BLOCKS) {
    // output stride 16: once the net has reached stride 16, further stride-2 blocks become dilated stride-1 blocks
    const atrous = s === 2 && stride >= 16;
    if (s === 2 && !atrous) stride *= 2;
    y = net.dw(y, 3, { stride: atrous ? 1 : s, dilation: rate });
    if (atrous) rate *= 2;
    y = net.conv(y, ch(cout), 1, { activation: 'RELU6' });
  }
  const heatmaps = net.conv(y, 17, 1, { activation: 'NONE' });
  const offsets = net.conv(y, 34, 1, { activation: 'NONE' });
  const fwd = net.conv(y, 32, 1, { activation: 'NONE' });
  const bwd = net.conv(y, 32, 1, { activation: 'NONE' });
  const decoder = o.decoder ?? 'none';
  if (decoder === 'bodypix') {
    net.output(heatmaps);
    const seg = net.logistic(net.conv(y, 24, 1, { activation: 'NONE' }));
    const b = net.b;
    const size = b.constant(`${net.name}/size`, 'int32', [2], [height, width]);
    const up = b.op(
      'RESIZE_BILINEAR',
      [seg, size],
      {},
      {
        outputs: [
          { name: `${net.name}/resize`, dtype: 'int8', shape: [1, height, width, 24], quant: b.g.tensor(seg).quant! },
        ],
      },
    )[0]!;
    const axis = b.constant(`${net.name}/axis`, 'int32', [1], [3]);
    const parts = b.op(
      'ARG_MAX',
      [up, axis],
      { outputType: 2 },
      { outputs: [{ name: `${net.name}/parts`, dtype: 'int32', shape: [1, height, width] }] },
    )[0]!;
    b.output(parts);
    return net.build();
  }
  const outs = [net.logistic(heatmaps), offsets, fwd, bwd].map((t) => net.output(t));
  if (decoder === 'posenet') {
    const b = net.b;
    const [poses, kpScores, poseScores, count] = b.op(
      'CUSTOM',
      outs,
      {},
      {
        customCode: 'PosenetDecoderOp',
        outputs: [
          { name: 'poses', dtype: 'float32', shape: [1, 10, 17, 2] },
          { name: 'poses:1', dtype: 'float32', shape: [1, 10, 17] },
          { name: 'poses:2', dtype: 'float32', shape: [1, 10] },
          { name: 'poses:3', dtype: 'float32', shape: [] },
        ],
      },
    );
    b.g.outputs.length = 0;
    b.output(poses!, kpScores!, poseScores!, count!);
  }
  return net.build();
}
