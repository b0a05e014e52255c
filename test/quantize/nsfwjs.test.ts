import test from 'ava';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { IrModel } from '../../shared/toolchain/ir/model.js';
import { convertModel } from '../../shared/toolchain/loaders/convert.js';
import { TfliteRuntime } from '../../shared/toolchain/runtime/tflite-runtime.js';
import { CalibrationConfigSchema } from '../../shared/toolchain/data/input-config.js';
import { loadCalibrationSet } from '../../shared/toolchain/data/dataset.js';
import { loadPixels, normalizePixels } from '../../shared/toolchain/data/images.js';
import { precheckModel } from '../../shared/toolchain/quantize/precheck.js';
import { quantizeModel } from '../../shared/toolchain/quantize/quantize-model.js';
import { FRONTENDS_DIR, haveModels, modelPath } from '../helpers/models.js';
import { readBmpRgb, writeAugmentedCrops } from './fixtures.js';
import { decodeOutput, encodeInput, toBytes } from './helpers.js';

const argmax = (a: ArrayLike<number>): number => {
  let b = 0;
  for (let i = 1; i < a.length; i++) if (a[i]! > a[b]!) b = i;
  return b;
};

/** Output probabilities of every input, on the TFLite runtime. */
async function predict(model: IrModel, inputs: Float32Array[]): Promise<Float64Array[]> {
  const rt = await TfliteRuntime.load(toBytes(model));
  const g = model.graph;
  try {
    const out: Float64Array[] = [];
    for (const x of inputs) {
      const [y] = await rt.run([encodeInput(g.tensor(g.inputs[0]!), x)]);
      out.push(decodeOutput(g.tensor(g.outputs[0]!), y!.bytes));
    }
    return out;
  } finally {
    rt.close();
  }
}

/**
 * Issue 4 acceptance on a real MobileNet-class float model: the nsfwjs MobileNetV2 (TF.js layers, converted by the
 * loaders; 224×224×3 in [0, 1] → 5 classes). Calibration: 32 crops of cat.bmp (seed 1: random crop 50–100 % of the
 * short side, random flip, brightness 0.7–1.3, saturation 0.6–1.4, hue ±20°). Held back: 100 other crops (seed 2,
 * crops 30–100 % of the short side, the same kinds of jitter with other draws), never seen by calibration.
 */
(haveModels ? test : test.skip)(
  'nsfwjs MobileNetV2 from 32 images: runs in the TFLite runtime, top-1 agrees with the float model on ≥ 95 % of 100 held-back images',
  async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'kiln-q-nsfw-'));
    try {
      const float = convertModel(join(FRONTENDS_DIR, 'tfjs_layers/nsfwjs_mobilenet_v2')).model;
      const cat = readBmpRgb(modelPath('cat.bmp'));
      mkdirSync(join(dir, 'cal'));
      mkdirSync(join(dir, 'eval'));
      await writeAugmentedCrops(cat, join(dir, 'cal'), 32, 1, 224, 0.5);
      const held = await writeAugmentedCrops(cat, join(dir, 'eval'), 100, 2, 224, 0.3);
      const cfg = CalibrationConfigSchema.parse({ normalization: { scale: 1 / 255, offset: 0 } });
      const input = float.graph.tensor(float.graph.inputs[0]!);
      const set = await loadCalibrationSet(join(dir, 'cal'), [input], cfg, 1000);
      t.is(set.samples.length, 32);

      const { model, report } = await quantizeModel(float, {
        samples: set.samples,
        sampleSource: set.source,
        debugSamples: 4,
      });
      t.deepEqual(precheckModel(model), []);
      t.false(model.graph.tensors.some((x) => x.dtype === 'float32'));

      const xs: Float32Array[] = [];
      for (const f of held)
        xs.push(
          normalizePixels(await loadPixels(readFileSync(f), f, { height: 224, width: 224, channels: 3 }, cfg), 3, cfg),
        );
      const ref = await predict(float, xs);
      const got = await predict(model, xs);
      const refTop = ref.map(argmax);
      const agree = got.filter((p, i) => argmax(p) === refTop[i]).length / xs.length;
      let maxDiff = 0;
      got.forEach((p, i) => p.forEach((v, k) => (maxDiff = Math.max(maxDiff, Math.abs(v - ref[i]![k]!)))));
      const classes = new Map<number, number>();
      for (const c of refTop) classes.set(c, (classes.get(c) ?? 0) + 1);
      t.log(
        `top-1 agreement with the float model on ${xs.length} held-back images: ${(agree * 100).toFixed(1)} % (float top-1 classes ${JSON.stringify([...classes])}); max |Δprobability| ${maxDiff.toFixed(3)}`,
      );
      t.log(
        `worst layers: ${report.worstLayers.map((l) => `${l.tensor} (${l.op}) ${l.snrDb.toFixed(1)} dB`).join(', ')}`,
      );
      t.is(report.layers.length, float.graph.tensors.filter((x) => !float.graph.isConstant(x.id)).length);
      t.true(report.layers.every((l) => Number.isFinite(l.snrDb)));
      t.true(agree >= 0.95, `agreement ${agree}`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
);
