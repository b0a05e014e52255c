import test from 'ava';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { IrModel } from '../../shared/toolchain/ir/model.js';
import { TfliteRuntime } from '../../shared/toolchain/runtime/tflite-runtime.js';
import { CalibrationConfigSchema } from '../../shared/toolchain/data/input-config.js';
import { loadCalibrationSet } from '../../shared/toolchain/data/dataset.js';
import { loadPixels, normalizePixels } from '../../shared/toolchain/data/images.js';
import { precheckModel } from '../../shared/toolchain/quantize/precheck.js';
import { quantizeModel } from '../../shared/toolchain/quantize/quantize-model.js';
import { haveModels, modelPath } from '../helpers/models.js';
import { dequantizeToFloat, readBmpRgb, writeAugmentedCrops } from './fixtures.js';
import { decodeOutput, encodeInput, loadIr, toBytes } from './helpers.js';

const argmax = (a: ArrayLike<number>): number => {
  let b = 0;
  for (let i = 1; i < a.length; i++) if (a[i]! > a[b]!) b = i;
  return b;
};

async function top1(model: IrModel, inputs: Float32Array[]): Promise<number[]> {
  const rt = await TfliteRuntime.load(toBytes(model));
  const g = model.graph;
  try {
    const out: number[] = [];
    for (const x of inputs)
      out.push(
        argmax(
          decodeOutput(g.tensor(g.outputs[0]!), (await rt.run([encodeInput(g.tensor(g.inputs[0]!), x)]))[0]!.bytes),
        ),
      );
    return out;
  } finally {
    rt.close();
  }
}

/**
 * MobileNet v1 0.25/128: the float network is rebuilt with the IR builder from the dequantized weights of Google's
 * quantization-aware-trained uint8 model (a real trained network). Calibration: 64 augmented crops of cat.bmp
 * (PNG files through the image loader); held back: 100 other crops/augmentations (other seed).
 */
(haveModels ? test : test.skip)(
  'MobileNet from 64 images: runs in the TFLite runtime, top-1 agrees with the float model, per-layer SNR reported',
  async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'kiln-q-mnet-'));
    try {
      const google = loadIr(modelPath('mobilenet_v1_0.25_128_quant.tflite'));
      const float = dequantizeToFloat(google, 'MobileNet v1 float, dequantized from the QAT model');
      const cat = readBmpRgb(modelPath('cat.bmp'));
      const { mkdirSync } = await import('node:fs');
      mkdirSync(join(dir, 'cal'));
      mkdirSync(join(dir, 'eval'));
      await writeAugmentedCrops(cat, join(dir, 'cal'), 64, 1, 160, 0.6);
      const held = await writeAugmentedCrops(cat, join(dir, 'eval'), 100, 2, 160, 0.6);
      const cfg = CalibrationConfigSchema.parse({ normalization: { mean: [128], std: [128] } });
      const input = float.graph.tensor(float.graph.inputs[0]!);
      const set = await loadCalibrationSet(join(dir, 'cal'), [input], cfg, 1000);
      t.is(set.samples.length, 64);
      t.is(set.source, 'images');

      const { model, report } = await quantizeModel(float, {
        samples: set.samples,
        sampleSource: set.source,
        method: 'mse',
        debugSamples: 8,
      });
      t.deepEqual(precheckModel(model), []);
      t.false(model.graph.tensors.some((x) => x.dtype === 'float32'));

      const xs: Float32Array[] = [];
      for (const f of held)
        xs.push(
          normalizePixels(await loadPixels(readFileSync(f), f, { height: 128, width: 128, channels: 3 }, cfg), 3, cfg),
        );
      const ref = await top1(float, xs);
      const agree = (got: number[]) => got.filter((c, i) => c === ref[i]).length / ref.length;
      const kiln = agree(await top1(model, xs));
      const qat = agree(await top1(google, xs));
      t.log(
        `top-1 agreement with the float model on ${xs.length} held-back images: Kiln ${(kiln * 100).toFixed(1)} %, Google's QAT uint8 model ${(qat * 100).toFixed(1)} %`,
      );
      t.log(`worst layers: ${report.worstLayers.map((l) => `${l.op} ${l.snrDb.toFixed(1)} dB`).join(', ')}`);
      t.log(`per-layer SNR (dB): ${report.layers.map((l) => l.snrDb.toFixed(1)).join(' ')}`);
      t.is(report.layers.length, float.graph.tensors.filter((x) => !x.data).length);
      // The held-back crops of one cat are often near-ties between cat classes: Google's own quantized model is the
      // yardstick for what any int8 version of this network reaches on them.
      t.true(kiln >= 0.9, `agreement ${kiln}`);
      t.true(kiln >= qat - 0.02, `Kiln ${kiln} vs Google QAT ${qat}`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
);
