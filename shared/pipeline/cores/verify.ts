import type { CompileReport } from '../../edgetpu/report.js';
import { KilnError } from '../../errors.js';
import { fromTflite } from '../../ir/from-tflite.js';
import { parseQuantizeConfig } from '../../quantize/config.js';
import { readTflite } from '../../tflite/reader.js';
import { loadValidationSet } from '../../verify/accuracy/validation.js';
import { renderReportHtml } from '../../verify/report/html.js';
import { verifyModel } from '../../verify/verify-model.js';
import type { StageCore } from '../core.js';

/** The first compile target's report: `compile-report.json` (one target) or `<target>/compile-report.json`. */
function compileReportOf(artifacts: ReadonlyMap<string, Uint8Array>): { name: string; bytes: Uint8Array } | null {
  const names = [...artifacts.keys()].filter((n) => n === 'compile-report.json' || n.endsWith('/compile-report.json'));
  const name = names.sort()[0];
  return name ? { name, bytes: artifacts.get(name)! } : null;
}

/**
 * verify: `model.float.tflite` + `model.int8.tflite` + the compile report → `report.json` + `report.html`. The upload
 * carries no validation images yet, so accuracy is float vs int8 agreement on synthetic inputs (the report says so).
 * kiln.json `verify.maxSamples` / `verify.debugSamples` cap the work. With shards > 1 each shard scores its slice.
 */
export const verifyCore: StageCore = async ({ artifacts, config, unit }) => {
  const float = artifacts.get('model.float.tflite');
  const int8 = artifacts.get('model.int8.tflite');
  if (!float || !int8)
    throw new KilnError('E_INTERNAL', 'verify needs model.float.tflite and model.int8.tflite', {
      hint: 'Rerun the build',
    });
  const v = config.verify as { maxSamples?: unknown; debugSamples?: unknown };
  const maxSamples = typeof v.maxSamples === 'number' && v.maxSamples > 0 ? Math.floor(v.maxSamples) : 8;
  const debugSamples = typeof v.debugSamples === 'number' && v.debugSamples >= 0 ? Math.floor(v.debugSamples) : 2;
  const shard = Number(unit.params['shard'] ?? 0);
  const shards = Number(unit.params['shards'] ?? 1);
  const cal = parseQuantizeConfig({ quantize: config.quantize }).calibration;
  const floatIr = fromTflite(readTflite(float));
  const set = await loadValidationSet(
    undefined,
    undefined,
    floatIr.graph.inputs.map((t) => floatIr.graph.tensor(t)),
    cal,
    maxSamples * shards,
  );
  const validation = { ...set, samples: set.samples.filter((_, i) => i % shards === shard) };
  const cr = compileReportOf(artifacts);
  const report = await verifyModel({
    float: { name: 'model.float.tflite', bytes: float },
    int8: { name: 'model.int8.tflite', bytes: int8 },
    ...(cr ? { compileReport: JSON.parse(new TextDecoder().decode(cr.bytes)) as CompileReport } : {}),
    validation,
    maxSamples,
    debugSamples,
  });
  const enc = new TextEncoder();
  const c = report.accuracy.classification;
  return {
    artifacts: {
      'report.json': enc.encode(`${JSON.stringify(report, null, 2)}\n`),
      'report.html': enc.encode(renderReportHtml(report)),
    },
    summary: {
      verdict: report.verdict.level,
      headline: report.verdict.headline,
      opsOnEdgeTpu: report.edgeTpu.edgeTpuOps,
      totalOps: report.edgeTpu.totalOps,
      latencyMs: Object.fromEntries(Object.entries(report.latency).map(([d, l]) => [d, l.estimatedMs])),
      latencyEstimate: true,
      accuracy: {
        kind: report.accuracy.kind,
        samples: report.accuracy.samples,
        ...(c ? { top1Agreement: c.top1Agreement, top1Change: c.top1Change } : {}),
        outputSnrDb: report.accuracy.outputs.map((o) => o.snrDb),
      },
      worstLayers: report.layers.worst.map((l) => ({ tensor: l.tensor, snrDb: l.snrDb })),
      compileReport: cr?.name ?? null,
      warnings: report.warnings,
    },
  };
};
