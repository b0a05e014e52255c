import { KilnError } from '../../errors.js';
import { fromTflite } from '../../ir/from-tflite.js';
import { toTfliteBytes } from '../../loaders/convert.js';
import { parseQuantizeConfig } from '../../quantize/config.js';
import { quantizeModel } from '../../quantize/quantize-model.js';
import { readTflite } from '../../tflite/reader.js';
import type { StageCore } from '../core.js';

/**
 * quantize: `model.float.tflite` → `model.int8.tflite` + `calibration-stats.json` + `quantize-report.json` via
 * shared/quantize, with the `quantize` section of kiln.json. Calibration images in the upload are not read yet: without
 * them the quantizer calibrates on synthetic inputs and its report says so.
 */
export const quantizeCore: StageCore = async ({ artifacts, config }) => {
  const float = artifacts.get('model.float.tflite');
  if (!float)
    throw new KilnError('E_INTERNAL', 'quantize needs model.float.tflite from convert', { hint: 'Rerun the build' });
  const q = parseQuantizeConfig({ quantize: config.quantize });
  const result = await quantizeModel(fromTflite(readTflite(float)), {
    method: q.method,
    percentile: q.percentile,
    io: q.io,
    allowFloatFallback: q.allowFloatFallback,
    debugSamples: q.debugSamples,
    calibration: q.calibration,
  });
  const json = (v: unknown) => new TextEncoder().encode(`${JSON.stringify(v, null, 2)}\n`);
  const out: Record<string, Uint8Array> = {
    'model.int8.tflite': toTfliteBytes(result.model),
    'quantize-report.json': json(result.report),
  };
  if (result.stats) out['calibration-stats.json'] = json(result.stats);
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
