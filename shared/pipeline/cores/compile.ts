import { KilnError } from '../../errors.js';
import { compileModel } from '../../edgetpu/compile-model.js';
import { renderLog } from '../../edgetpu/render.js';
import { buildReport } from '../../edgetpu/report.js';
import type { CompileTarget } from '../build-config.js';
import type { StageCore } from '../core.js';

/**
 * compile: one unit per compile target. `model.int8.tflite` → `compile.log` + `compile-report.json` via Kiln's model of
 * edgetpu_compiler 16 (shared/edgetpu `compileModel`, pure analysis: it never writes an `_edgetpu.tflite`). A model the
 * compiler would reject fails the build with the compiler's reason.
 */
export const compileCore: StageCore = async ({ artifacts, unit }) => {
  const int8 = artifacts.get('model.int8.tflite');
  if (!int8)
    throw new KilnError('E_INTERNAL', 'compile needs model.int8.tflite from quantize', { hint: 'Rerun the build' });
  const target = unit.params['target'] as CompileTarget | undefined;
  const result = compileModel([{ path: 'model.int8.tflite', bytes: int8 }], {
    ...(target?.minRuntimeVersion !== undefined ? { minRuntime: target.minRuntimeVersion } : {}),
    ...(target?.numSegments !== undefined ? { numSegments: target.numSegments } : {}),
    ...(target?.multipleSubgraphs ? { multipleSubgraphs: true } : {}),
  });
  const failure = result.models.find((m) => m.failure)?.failure;
  if (failure)
    throw new KilnError(failure.code, `the Edge TPU compiler would reject the model: ${failure.message}`, {
      hint: failure.hint,
    });
  const report = buildReport(result, 'compile-report.json');
  const enc = new TextEncoder();
  const out: Record<string, Uint8Array> = { 'compile-report.json': enc.encode(`${JSON.stringify(report, null, 2)}\n`) };
  const logs = result.models.map((m) => renderLog(m));
  out['compile.log'] = enc.encode(logs.join('\n'));
  result.models.forEach((m, i) => {
    if (m.segmentBytes) out[`segment-${i}.tflite`] = m.segmentBytes;
  });
  return {
    artifacts: out,
    summary: {
      target: target?.name ?? 'default',
      minRuntimeVersion: report.minRuntimeVersion,
      opsOnEdgeTpu: report.edgeTpuOperations,
      totalOps: report.totalOperations,
      cpuOps: report.cpuOperations,
      edgeTpuSubgraphs: report.numEdgeTpuSubgraphs,
      onChipMemoryBytes: report.memory.onChipUsedBytes,
      offChipMemoryBytes: report.memory.offChipStreamedBytes,
      compiler: report.compiler,
    },
  };
};
