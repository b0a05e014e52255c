import test, { type ExecutionContext } from 'ava';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { compileModel } from '../../shared/toolchain/edgetpu/compile-model.js';
import { buildReport, type CompileReport } from '../../shared/toolchain/edgetpu/report.js';
import { ALL_STATUSES, STATUS } from '../../shared/toolchain/edgetpu/strings.js';
import { convertModel, toTfliteBytes } from '../../shared/toolchain/loaders/convert.js';
import { CalibrationConfigSchema, type CalibrationConfig } from '../../shared/toolchain/data/input-config.js';
import { loadCalibrationSet } from '../../shared/toolchain/data/dataset.js';
import { precheckModel } from '../../shared/toolchain/quantize/precheck.js';
import { quantizeModel } from '../../shared/toolchain/quantize/quantize-model.js';
import { FRONTENDS_DIR, haveModels, modelPath } from '../helpers/models.js';
import { readBmpRgb, writeAugmentedCrops } from '../quantize/fixtures.js';

/**
 * Issue 6 acceptance: the converted nsfwjs MobileNetV2 and the Keras mini-Xception go through quantize and compile; the
 * compile report says which ops map and why the others don't. Calibration: 32 augmented crops of cat.bmp (random crop
 * 50–100 % of the short side, flip, brightness/saturation/hue jitter) resized to the model input by the image loader
 * (mini-Xception: 64×64 grayscale).
 */
interface Case {
  path: string;
  size: number;
  /** The preprocessing the model was trained with. */
  calibration: CalibrationConfig;
}

const CASES: Case[] = [
  {
    // nsfwjs feeds pixels / 255.
    path: 'tfjs_layers/nsfwjs_mobilenet_v2',
    size: 224,
    calibration: CalibrationConfigSchema.parse({ normalization: { scale: 1 / 255, offset: 0 } }),
  },
  {
    // oarriaga/face_classification preprocess_input: (pixels / 255 − 0.5) × 2.
    path: 'keras_h5/oarriaga/fer2013_mini_XCEPTION.102-0.66.hdf5',
    size: 64,
    calibration: CalibrationConfigSchema.parse({ normalization: { mean: [127.5], std: [127.5] } }),
  },
];

const maybe = haveModels ? test : test.skip;

/** Every op has a known status; mapped ops say so, every op left on the CPU has a reason and a fix. */
function checkOps(t: ExecutionContext, report: CompileReport): void {
  t.is(report.operations.length, report.totalOperations);
  t.is(report.edgeTpuOperations + report.cpuOperations, report.totalOperations);
  for (const op of report.operations) {
    t.true(ALL_STATUSES.includes(op.status), `op ${op.index} ${op.opcode}: status ${op.status}`);
    if (op.onEdgeTpu) {
      t.is(op.status, STATUS.mapped);
      continue;
    }
    t.not(op.status, STATUS.mapped);
    t.true(op.reason.length > 0, `op ${op.index} ${op.opcode} runs on the CPU without a reason`);
    t.true((op.fix ?? '').length > 0, `op ${op.index} ${op.opcode} runs on the CPU without a fix`);
  }
}

for (const c of CASES) {
  maybe(`${c.path}: converts, quantizes from 32 images and compiles; the report explains every op`, async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'kiln-lqc-'));
    try {
      const conv = convertModel(join(FRONTENDS_DIR, c.path));
      const input = conv.model.graph.tensor(conv.model.graph.inputs[0]!);
      mkdirSync(join(dir, 'cal'));
      await writeAugmentedCrops(readBmpRgb(modelPath('cat.bmp')), join(dir, 'cal'), 32, 1, c.size, 0.5);
      const set = await loadCalibrationSet(join(dir, 'cal'), [input], c.calibration, 1000);
      t.is(set.samples.length, 32);
      t.is(
        set.samples[0]![0]!.length,
        input.shape.reduce((a, b) => a * b, 1),
      );

      const { model, report: q } = await quantizeModel(conv.model, {
        samples: set.samples,
        sampleSource: set.source,
        debugSamples: 0,
      });
      t.is(q.status, 'quantized');
      t.deepEqual(precheckModel(model), []);

      const bytes = toTfliteBytes(model);
      const path = `${c.path.split('/').pop()}.tflite`;
      const report = buildReport(compileModel([{ path, bytes }]), null);
      t.is(report.status, 'ok', report.models[0]?.error?.message);
      checkOps(t, report);
      t.true(report.edgeTpuOperations > 0);
      t.log(`${report.totalOperations} ops: ${report.edgeTpuOperations} Edge TPU, ${report.cpuOperations} CPU`);
      for (const o of report.operations.filter((x) => !x.onEdgeTpu))
        t.log(`  CPU: ${o.index} ${o.opcode} — ${o.status}: ${o.reason} → ${o.fix}`);

      // Ending the Edge TPU part before the global pooling (-i) leaves the head on the CPU: each such op says why.
      const g = model.graph;
      const pool = g.ops.find((o) => o.type === 'MEAN' || o.type === 'AVERAGE_POOL_2D')!;
      const cut = g.tensor(pool.inputs[0]!).name;
      const split = buildReport(compileModel([{ path, bytes }], { intermediateTensors: [cut] }), null);
      t.is(split.status, 'ok');
      checkOps(t, split);
      t.true(split.cpuOperations > 0);
      t.true(split.operations.filter((o) => !o.onEdgeTpu).every((o) => o.reason.includes(cut)));
      t.log(`with -i ${cut}: ${split.edgeTpuOperations} Edge TPU, ${split.cpuOperations} CPU`);
      const first = split.operations.find((o) => !o.onEdgeTpu)!;
      t.log(`  e.g. CPU: ${first.index} ${first.opcode} — ${first.status}: ${first.reason} → ${first.fix}`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
}
