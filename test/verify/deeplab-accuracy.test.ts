import test from 'ava';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { IrModel } from '../../shared/toolchain/ir/model.js';
import {
  openInterpreterRunner,
  type CaptureRunner,
  type TensorValue,
} from '../../shared/toolchain/quantize/capture.js';
import { CalibrationConfigSchema } from '../../shared/toolchain/data/input-config.js';
import { loadCalibrationSet } from '../../shared/toolchain/data/dataset.js';
import { quantizeModel } from '../../shared/toolchain/quantize/quantize-model.js';
import { evaluateAccuracy } from '../../shared/toolchain/verify/accuracy/evaluate.js';
import { haveModels, modelPath } from '../helpers/models.js';
import { dequantizeToFloat, readBmpRgb, writeAugmentedCrops } from '../quantize/fixtures.js';
import { loadIr } from '../quantize/helpers.js';

const CAT = 8; // line 9 of pascal_voc_segmentation_labels.txt (0 = background)

/** Kiln's interpreter (verify's default executor), keeping a copy of every output each model returns, in run order. */
function recording(sink: Map<IrModel, TensorValue[]>): (m: IrModel) => Promise<CaptureRunner> {
  return async (m) => {
    const r = await openInterpreterRunner(m);
    const list = sink.get(m) ?? [];
    sink.set(m, list);
    return {
      inputs: r.inputs,
      outputs: r.outputs,
      run: async (inputs, o) => {
        const res = await r.run(inputs, o);
        list.push({ ...res.outputs[0]!, data: res.outputs[0]!.data.slice() });
        return res;
      },
      close: () => r.close?.(),
    };
  };
}

/** Pixel agreement and mean IoU from a confusion matrix of two sets of ARG_MAX masks (written apart from metrics.ts). */
function maskFigures(ref: TensorValue[], got: TensorValue[], classes: number): { agreement: number; meanIoU: number } {
  const confusion = new Float64Array(classes * classes);
  let pixels = 0;
  ref.forEach((r, s) => {
    const a = r.data as BigInt64Array;
    const b = got[s]!.data as BigInt64Array;
    for (let i = 0; i < a.length; i++) confusion[Number(a[i]!) * classes + Number(b[i]!)]!++;
    pixels += a.length;
  });
  let diagonal = 0;
  const ious: number[] = [];
  for (let c = 0; c < classes; c++) {
    const tp = confusion[c * classes + c]!;
    let row = 0;
    let col = 0;
    for (let k = 0; k < classes; k++) {
      row += confusion[c * classes + k]!;
      col += confusion[k * classes + c]!;
    }
    diagonal += tp;
    if (row + col > 0) ious.push(tp / (row + col - tp));
  }
  return { agreement: diagonal / pixels, meanIoU: ious.reduce((x, y) => x + y, 0) / ious.length };
}

/**
 * DeepLab v3 (MobileNetV2 0.5, PASCAL VOC, 513×513): the float network is rebuilt from the dequantized weights of
 * Google's QAT uint8 model; Kiln quantizes it from 8 augmented crops of cat.bmp (one float inference on Kiln's
 * interpreter takes ≈ 1.3 s at 513×513, so calibration is kept small), then verify's accuracy evaluation scores Kiln's
 * int8 model and Google's own uint8 model against the float model on 4 held-back crops (another seed).
 */
(haveModels ? test : test.skip)(
  'DeepLab v3: verify scores Kiln int8 vs float as segmentation, pixel agreement as high as Google QAT model',
  async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'kiln-v-deeplab-'));
    try {
      const google = loadIr(modelPath('deeplabv3_mnv2_dm05_pascal_quant.tflite'));
      const float = dequantizeToFloat(google, 'DeepLab v3 MobileNetV2 0.5 float, dequantized from the QAT model');
      const cat = readBmpRgb(modelPath('cat.bmp'));
      mkdirSync(join(dir, 'cal'));
      mkdirSync(join(dir, 'eval'));
      await writeAugmentedCrops(cat, join(dir, 'cal'), 8, 1, 513, 0.6);
      await writeAugmentedCrops(cat, join(dir, 'eval'), 4, 2, 513, 0.6);
      // Google's input is uint8 with scale 1/128, zero point 128: the float network reads (p − 128) / 128.
      const cfg = CalibrationConfigSchema.parse({ normalization: { mean: [128], std: [128] } });
      const input = [float.graph.tensor(float.graph.inputs[0]!)];
      const cal = await loadCalibrationSet(join(dir, 'cal'), input, cfg, 100);
      const held = await loadCalibrationSet(join(dir, 'eval'), input, cfg, 100);
      t.is(cal.samples.length, 8);
      t.is(held.samples.length, 4);

      const { model } = await quantizeModel(float, { samples: cal.samples, sampleSource: cal.source, debugSamples: 0 });
      const g = model.graph;
      t.is(g.tensor(g.outputs[0]!).dtype, 'int64');
      t.is(g.tensor(g.ops.find((o) => o.type === 'ARG_MAX')!.inputs[0]!).dtype, 'int8');

      const masks = new Map<IrModel, TensorValue[]>();
      const kiln = await evaluateAccuracy(float, model, held.samples, {
        openRunner: recording(masks),
        debugSamples: 1,
      });
      const ref = await evaluateAccuracy(float, google, held.samples);
      const k = kiln.segmentation!;
      const q = ref.segmentation!;
      t.log(
        `pixel agreement with float on ${held.samples.length} crops: Kiln ${(k.pixelAgreement * 100).toFixed(2)} %, Google QAT ${(q.pixelAgreement * 100).toFixed(2)} %; mean IoU: Kiln ${k.meanIoU.toFixed(4)}, Google ${q.meanIoU.toFixed(4)} (${k.classesSeen} classes)`,
      );
      t.log(`worst layers: ${kiln.worstLayers.map((l) => `${l.op} ${l.snrDb.toFixed(1)} dB`).join(', ')}`);
      t.is(kiln.kind, 'segmentation');
      t.is(ref.kind, 'segmentation');
      t.is(kiln.samples, 4);
      t.is(kiln.debugSamples, 1);
      t.is(kiln.worstLayers.length, 3);
      for (const s of [k, q]) {
        t.true(s.pixelAgreement >= 0 && s.pixelAgreement <= 1);
        t.true(s.meanIoU >= 0 && s.meanIoU <= 1);
      }

      // The float masks see the cat: background and cat at least.
      const floatMasks = masks.get(float)!;
      t.is(floatMasks.length, 4);
      t.true(floatMasks.some((m) => (m.data as BigInt64Array).includes(BigInt(CAT))));
      t.true(k.classesSeen >= 2);

      // Recomputed from the two sets of ARG_MAX masks evaluateAccuracy scored (confusion matrix, not metrics.ts).
      const own = maskFigures(floatMasks, masks.get(model)!, 21);
      t.is(own.agreement, k.pixelAgreement);
      t.true(Math.abs(own.meanIoU - k.meanIoU) < 1e-12);

      // Bounds. Measured (8 calibration / 4 held-back crops): Kiln 99.58 % / mIoU 0.992, Google 99.58 % / 0.992; with
      // 4 calibration crops on 6 held-back ones Kiln was 0.3 points under Google. Disagreement sits on the cat's
      // outline, where bilinear upsampling of 33×33 logits to 513×513 makes near-ties. 97 % is verify's own threshold
      // for a good segmentation verdict (report/verdict.ts), and Google's QAT model (trained for int8) is the yardstick
      // for what any int8 version of this network reaches: Kiln's post-training quantization may trail it by at most
      // 2 points of pixels, and 0.05 of mean IoU (measured to move about twice as fast as pixel agreement here).
      t.true(k.pixelAgreement >= 0.97, `Kiln pixel agreement ${k.pixelAgreement}`);
      t.true(k.pixelAgreement >= q.pixelAgreement - 0.02, `Kiln ${k.pixelAgreement} vs Google ${q.pixelAgreement}`);
      t.true(k.meanIoU >= q.meanIoU - 0.05, `Kiln mean IoU ${k.meanIoU} vs Google ${q.meanIoU}`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
);
