import { KilnError } from '../../common/errors.js';
import { fromTflite } from '../../toolchain/ir/from-tflite.js';
import { toTfliteBytes } from '../../toolchain/loaders/convert.js';
import { parseQuantizeConfig } from '../../toolchain/quantize/config.js';
import { quantizeModel } from '../../toolchain/quantize/quantize-model.js';
import { readTflite } from '../../toolchain/tflite/reader.js';
import { CALIBRATION_DATA, CALIBRATION_STATS, FLOAT_MODEL, INT8_MODEL, QUANTIZE_REPORT } from '../artifacts.js';
import { loadConfig } from '../config.js';
import type { StageCore } from '../core.js';
import { loadCalibrationSet } from '../../toolchain/data/dataset.js';
import { filesIn, withTempFolder } from '../upload-data.js';

/**
 * quantize: `model.float.tflite` → `model.int8.tflite` + `calibration-stats.json` + `quantize-report.json` via
 * shared/quantize, with the `quantize` section of kiln.json. Calibration data is the upload's `calibration/` folder
 * (images or .npy samples, kept by convert as `calibration/…` artifacts); without it the quantizer calibrates on
 * synthetic inputs and its report says so loudly. `calibrationThreads` is read on every build (KILN_CALIBRATION_THREADS;
 * 0: the calibration pool's own choice, sharing this process's CPUs).
 */
export const quantizeCoreWith =
  (calibrationThreads: () => number): StageCore =>
  async ({ artifacts, config }) => {
    const float = artifacts.get(FLOAT_MODEL);
    if (!float)
      throw new KilnError('E_INTERNAL', `quantize needs ${FLOAT_MODEL} from convert`, { hint: 'Rerun the build' });
    const q = parseQuantizeConfig({ quantize: config.quantize });
    const threads = calibrationThreads();
    const floatModel = fromTflite(readTflite(float));
    const calibration = filesIn(artifacts, CALIBRATION_DATA);
    const set = calibration
      ? await withTempFolder(calibration, (dir) =>
          loadCalibrationSet(
            dir,
            floatModel.graph.inputs.map((t) => floatModel.graph.tensor(t)),
            q.calibration,
            q.samples,
          ),
        )
      : null;
    const result = await quantizeModel(floatModel, {
      ...(set
        ? { samples: set.samples, sampleSource: `upload calibration/ (${set.source})`, sampleWarnings: set.warnings }
        : {}),
      method: q.method,
      percentile: q.percentile,
      io: q.io,
      allowFloatFallback: q.allowFloatFallback,
      debugSamples: q.debugSamples,
      calibration: q.calibration,
      ...(threads > 0 ? { threads } : {}),
    });
    const json = (v: unknown) => new TextEncoder().encode(`${JSON.stringify(v, null, 2)}\n`);
    const out: Record<string, Uint8Array> = {
      [INT8_MODEL]: toTfliteBytes(result.model),
      [QUANTIZE_REPORT]: json(result.report),
    };
    if (result.stats) out[CALIBRATION_STATS] = json(result.stats);
    const r = result.report;
    return {
      artifacts: out,
      summary: {
        status: r.status,
        method: r.method,
        io: r.io,
        calibration: r.calibration,
        floatOps: r.ops.float.length,
        totalOps: r.ops.total,
        worstLayers: r.worstLayers.slice(0, 5),
        warnings: r.warnings,
      },
    };
  };

/** The quantize core of the pipeline: calibration threads from KILN_CALIBRATION_THREADS, read on every build. */
export const quantizeCore: StageCore = quantizeCoreWith(() => loadConfig().calibrationThreads);
