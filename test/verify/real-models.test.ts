import test from 'ava';
import * as bmp from 'bmp-ts';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { compileModel } from '../../shared/toolchain/edgetpu/compile-model.js';
import { buildReport } from '../../shared/toolchain/edgetpu/report.js';
import { imageTargetOf, type Sample } from '../../shared/toolchain/data/dataset.js';
import { normalizePixels } from '../../shared/toolchain/data/images.js';
import { quantizeModel } from '../../shared/toolchain/quantize/quantize-model.js';
import { convertModel, toTfliteBytes } from '../../shared/toolchain/loaders/convert.js';
import type { CalibrationConfig } from '../../shared/toolchain/data/input-config.js';
import { verifyModel } from '../../shared/toolchain/verify/verify-model.js';
import { FRONTENDS_DIR, haveModels, modelPath, rng } from '../helpers/models.js';

const maybe = haveModels ? test : test.skip;

/** Random square crops of cat.bmp, resized to the model input and normalized. */
async function catCrops(
  n: number,
  seed: number,
  target: { height: number; width: number; channels: 1 | 3 },
  cfg: CalibrationConfig,
): Promise<Sample[]> {
  const img = bmp.decode(readFileSync(modelPath('cat.bmp')), { toRGBA: true });
  const rgb = Buffer.alloc(img.width * img.height * 3);
  for (let i = 0, j = 0; j < rgb.length; i += 4, j += 3) {
    rgb[j] = img.data[i]!;
    rgb[j + 1] = img.data[i + 1]!;
    rgb[j + 2] = img.data[i + 2]!;
  }
  const r = rng(seed);
  const out: Sample[] = [];
  for (let k = 0; k < n; k++) {
    const side = Math.floor(Math.min(img.width, img.height) * (0.5 + 0.5 * r()));
    const left = Math.floor(r() * (img.width - side));
    const top = Math.floor(r() * (img.height - side));
    let p = sharp(rgb, { raw: { width: img.width, height: img.height, channels: 3 } })
      .extract({ left, top, width: side, height: side })
      .resize(target.width, target.height, { fit: 'fill' });
    if (target.channels === 1) p = p.grayscale();
    const { data } = await p.raw().toBuffer({ resolveWithObject: true });
    out.push([normalizePixels(new Uint8Array(data), target.channels, cfg)]);
  }
  return out;
}

async function verifyConverted(path: string, cfg: CalibrationConfig, validation: number) {
  const { model } = convertModel(path);
  const target = imageTargetOf(model.graph.tensor(model.graph.inputs[0]!))!;
  const calibration = await catCrops(32, 1, target, cfg);
  const q = await quantizeModel(model, { samples: calibration, debugSamples: 0 });
  const int8 = toTfliteBytes(q.model);
  const compiled = compileModel([{ path: 'model.int8.tflite', bytes: int8 }]);
  const report = await verifyModel({
    float: { name: 'model.float.tflite', bytes: toTfliteBytes(model) },
    int8: { name: 'model.int8.tflite', bytes: int8 },
    compileReport: buildReport(compiled, null),
    validation: {
      samples: await catCrops(validation, 99, target, cfg),
      labels: null,
      source: 'cat.bmp crops',
      warnings: [],
    },
    maxSamples: validation,
    debugSamples: 2,
  });
  return report;
}

maybe('verify on the quantized nsfwjs MobileNetV2 gives agreement figures and names the 3 worst layers', async (t) => {
  const report = await verifyConverted(
    join(FRONTENDS_DIR, 'tfjs_layers/nsfwjs_mobilenet_v2'),
    { fit: 'squash', channelOrder: 'RGB', normalization: { scale: 1 / 255, offset: 0 } },
    4,
  );
  const c = report.accuracy.classification!;
  t.log(`nsfwjs: top-1 agreement ${c.top1Agreement}, output SNR ${report.accuracy.outputs[0]!.snrDb.toFixed(1)} dB`);
  t.log(`worst: ${report.layers.worst.map((l) => `${l.tensor} ${l.op} ${l.snrDb.toFixed(1)} dB`).join('; ')}`);
  t.log(
    `ops on Edge TPU ${report.edgeTpu.edgeTpuOps}/${report.edgeTpu.totalOps}; usb3 ${report.latency['usb3']?.estimatedMs} ms`,
  );
  t.is(report.accuracy.samples, 4);
  t.true(c.top1Agreement >= 0 && c.top1Agreement <= 1);
  t.true(report.accuracy.outputs[0]!.snrDb > 5);
  t.is(report.layers.worst.length, 3);
  t.true(report.layers.all.length > 50);
  t.true(report.layers.worst.every((l) => l.snrDb <= report.layers.all[report.layers.all.length - 1]!.snrDb + 200));
  t.true(report.edgeTpu.share > 0.9);
  t.true(report.latency['usb3']!.estimatedMs > 0);
});

maybe(
  'verify on the quantized mini-Xception (FER2013) gives agreement figures and names the 3 worst layers',
  async (t) => {
    const report = await verifyConverted(
      join(FRONTENDS_DIR, 'keras_h5/oarriaga/fer2013_mini_XCEPTION.102-0.66.hdf5'),
      { fit: 'squash', channelOrder: 'RGB' },
      12,
    );
    const c = report.accuracy.classification!;
    t.log(
      `mini-Xception: top-1 agreement ${c.top1Agreement}, output SNR ${report.accuracy.outputs[0]!.snrDb.toFixed(1)} dB, max abs ${report.accuracy.outputs[0]!.maxAbsError.toFixed(4)}`,
    );
    t.log(`worst: ${report.layers.worst.map((l) => `${l.tensor} ${l.op} ${l.snrDb.toFixed(1)} dB`).join('; ')}`);
    t.log(
      `ops on Edge TPU ${report.edgeTpu.edgeTpuOps}/${report.edgeTpu.totalOps}; usb3 ${report.latency['usb3']?.estimatedMs} ms`,
    );
    t.is(report.accuracy.samples, 12);
    t.is(report.accuracy.kind, 'classification');
    t.true(report.accuracy.outputs[0]!.snrDb > 5);
    t.is(report.layers.worst.length, 3);
    const sorted = [...report.layers.all].sort((a, b) => a.snrDb - b.snrDb);
    t.deepEqual(
      report.layers.worst.map((l) => l.tensor),
      sorted.slice(0, 3).map((l) => l.tensor),
    );
  },
);
