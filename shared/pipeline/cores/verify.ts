import type { CompileReport } from '../../toolchain/edgetpu/report.js';
import { KilnError } from '../../common/errors.js';
import { fromTflite } from '../../toolchain/ir/from-tflite.js';
import { parseQuantizeConfig } from '../../toolchain/quantize/config.js';
import { readTflite } from '../../toolchain/tflite/reader.js';
import { loadValidationSet } from '../../toolchain/verify/accuracy/validation.js';
import { renderReportHtml } from '../../toolchain/verify/report/html.js';
import { DEFAULT_MAX_SAMPLES, sampleCap, verifyModel } from '../../toolchain/verify/verify-model.js';
import { parseTrainingRecord, scoreTrainingRecord } from '../../toolchain/train/trained-data.js';
import {
  artifactMatches,
  CALIBRATION_DATA,
  COMPILE_REPORT,
  dataFolder,
  FLOAT_MODEL,
  INT8_MODEL,
  REPORT_HTML,
  REPORT_JSON,
  TRAINING_REPORT,
  VALIDATION_DATA,
  VALIDATION_LABEL_FILES,
} from '../artifacts.js';
import type { StageCore } from '../core.js';
import { filesIn, withTempFolder } from '../upload-data.js';
import type { Tensor } from '../../toolchain/ir/types.js';
import type { CalibrationConfig } from '../../toolchain/data/input-config.js';

/** The first compile target's report: `compile-report.json` (one target) or `<target>/compile-report.json`. */
function compileReportOf(artifacts: ReadonlyMap<string, Uint8Array>): { name: string; bytes: Uint8Array } | null {
  const names = [...artifacts.keys()].filter((n) => artifactMatches(COMPILE_REPORT, n));
  const name = names.sort()[0];
  return name ? { name, bytes: artifacts.get(name)! } : null;
}

/**
 * verify: `model.float.tflite` + `model.int8.tflite` + the compile report → `report.json` + `report.html`. Validation
 * data: the upload's `validation/` folder (labelled by class folders or a labels file: top-1/top-5), else the
 * calibration images the quantizer did not use (held back: agreement), else synthetic inputs (the report says so).
 * kiln.json `verify.maxSamples` / `verify.debugSamples` cap the work. With shards > 1 each shard scores its slice.
 */
export const verifyCore: StageCore = async ({ artifacts, config, unit }) => {
  const float = artifacts.get(FLOAT_MODEL);
  const int8 = artifacts.get(INT8_MODEL);
  if (!float || !int8)
    throw new KilnError('E_INTERNAL', `verify needs ${FLOAT_MODEL} and ${INT8_MODEL}`, {
      hint: 'Rerun the build',
    });
  const v = config.verify as { maxSamples?: unknown; debugSamples?: unknown };
  // A trained model (the dataset route): the training record; verify then scores the whole test split by default.
  const trainingBytes = artifacts.get(TRAINING_REPORT);
  const training = trainingBytes ? parseTrainingRecord(trainingBytes) : null;
  const asked =
    typeof v.maxSamples === 'number' && v.maxSamples > 0
      ? Math.floor(v.maxSamples)
      : training
        ? Math.max(1, training.test.length)
        : DEFAULT_MAX_SAMPLES;
  const debugSamples = typeof v.debugSamples === 'number' && v.debugSamples >= 0 ? Math.floor(v.debugSamples) : 2;
  const shard = Number(unit.params['shard'] ?? 0);
  const shards = Number(unit.params['shards'] ?? 1);
  const cal = parseQuantizeConfig({ quantize: config.quantize }).calibration;
  const floatIr = fromTflite(readTflite(float));
  const inputs = floatIr.graph.inputs.map((t) => floatIr.graph.tensor(t));
  // The loader holds every shard's samples before this shard takes its slice: the memory cap applies to them all.
  const maxSamples = Math.max(1, Math.floor(sampleCap(inputs, asked * shards).max / shards));
  const set = await validationData(
    artifacts,
    inputs,
    cal,
    maxSamples * shards,
    parseQuantizeConfig({ quantize: config.quantize }).samples,
  );
  const mine = (_: unknown, i: number): boolean => i % shards === shard;
  const validation = {
    ...set,
    samples: set.samples.filter(mine),
    labels: set.labels?.filter(mine) ?? null,
    available: set.available === null ? null : Math.ceil((set.available - shard) / shards),
  };
  const cr = compileReportOf(artifacts);
  const report = await verifyModel({
    float: { name: FLOAT_MODEL, bytes: float },
    int8: { name: INT8_MODEL, bytes: int8 },
    ...(cr ? { compileReport: JSON.parse(new TextDecoder().decode(cr.bytes)) as CompileReport } : {}),
    validation,
    maxSamples,
    debugSamples,
    ...(config.task ? { task: config.task } : {}),
  });
  if (training) {
    const validationFiles = new Map([...artifacts].filter(([n]) => n.startsWith(dataFolder(VALIDATION_DATA))));
    report.training = await scoreTrainingRecord(training, validationFiles, fromTflite(readTflite(int8)), cal);
  }
  const enc = new TextEncoder();
  const c = report.accuracy.classification;
  return {
    artifacts: {
      [REPORT_JSON]: enc.encode(`${JSON.stringify(report, null, 2)}\n`),
      [REPORT_HTML]: enc.encode(renderReportHtml(report)),
    },
    summary: {
      verdict: report.verdict.level,
      ready: report.verdict.ready,
      headline: report.verdict.headline,
      line: report.verdict.line,
      task: report.task.type,
      opsOnEdgeTpu: report.edgeTpu.edgeTpuOps,
      totalOps: report.edgeTpu.totalOps,
      latencyMs: Object.fromEntries(Object.entries(report.latency).map(([d, l]) => [d, l.estimatedMs])),
      latencyEstimate: true,
      accuracy: {
        kind: report.accuracy.kind,
        samples: report.accuracy.samples,
        ...(c ? { top1Agreement: c.top1Agreement, top1Change: c.top1Change } : {}),
        ...(report.accuracy.segmentation ? { segmentation: report.accuracy.segmentation } : {}),
        ...(report.accuracy.detection ? { detection: report.accuracy.detection } : {}),
        ...(report.accuracy.anchors ? { anchors: report.accuracy.anchors } : {}),
        ...(report.accuracy.keypoints ? { keypoints: report.accuracy.keypoints } : {}),
        ...(report.accuracy.embedding ? { embedding: report.accuracy.embedding } : {}),
        outputSnrDb: report.accuracy.outputs.map((o) => o.snrDb),
      },
      worstLayers: report.layers.worst.map((l) => ({ tensor: l.tensor, snrDb: l.snrDb })),
      compileReport: cr?.name ?? null,
      ...(report.training ? { training: { testAccuracy: report.training.testAccuracy } } : {}),
      warnings: report.warnings,
    },
  };
};

/** The validation set for this build, from the upload's data folders (see verifyCore). */
async function validationData(
  artifacts: ReadonlyMap<string, Uint8Array>,
  inputs: Tensor[],
  cal: CalibrationConfig,
  max: number,
  calibrationSamples: number,
): ReturnType<typeof loadValidationSet> {
  const validation = filesIn(artifacts, VALIDATION_DATA);
  if (validation) {
    const labels = VALIDATION_LABEL_FILES.find((f) => validation.has(f));
    return withTempFolder(validation, (dir) =>
      loadValidationSet(dir, labels ? `${dir}/${labels}` : undefined, inputs, cal, max),
    );
  }
  const calibration = filesIn(artifacts, CALIBRATION_DATA);
  // The quantizer calibrates on the first `samples` files in name order; the rest are held back for verification.
  const heldBack = calibration
    ? new Map(
        [...calibration]
          .filter(([n]) => !n.includes('/'))
          .sort(([a], [b]) => (a < b ? -1 : 1))
          .slice(calibrationSamples),
      )
    : null;
  if (heldBack && heldBack.size > 0) {
    const set = await withTempFolder(heldBack, (dir) => loadValidationSet(dir, undefined, inputs, cal, max));
    return {
      ...set,
      warnings: [
        ...set.warnings,
        `validation uses ${set.samples.length} calibration files the quantizer did not use (held back, unlabelled: agreement only); add a validation/ folder with labelled images for top-1/top-5`,
      ],
    };
  }
  return loadValidationSet(undefined, undefined, inputs, cal, max);
}
