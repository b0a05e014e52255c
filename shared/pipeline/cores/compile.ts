import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { KilnError } from '../../common/errors.js';
import { compileFiles } from '../../toolchain/edgetpu/artifacts.js';
import { compileModel, type CompileOptions } from '../../toolchain/edgetpu/compile-model.js';
import { renderLog } from '../../toolchain/edgetpu/render.js';
import { buildReport, type CompileReport } from '../../toolchain/edgetpu/report.js';
import { findCompiler } from '../../toolchain/edgetpu/runner.js';
import {
  COMPILE_LOG,
  COMPILE_REPORT,
  COMPILER_LOG_OF_INT8,
  COMPILER_LOG_SUFFIX,
  COMPILER_MODEL_SUFFIX,
  INT8_MODEL,
  segmentModel,
} from '../artifacts.js';
import type { CompileTarget } from '../build-config.js';
import type { StageCore, StageOutput } from '../core.js';

/**
 * compile: one unit per compile target. `model.int8.tflite` → `compile.log` + `compile-report.json`. Kiln's model of
 * edgetpu_compiler 16 always runs (shared/edgetpu `compileModel`, pure analysis: it never writes an `_edgetpu.tflite`).
 * Where the real `edgetpu_compiler` is installed (the production compile image, or `KILN_EDGETPU_COMPILER`), it runs
 * too: its `model.int8_edgetpu.tflite` and log become the artifacts, the report comes from its output, and every
 * difference from Kiln's prediction is recorded in the report as a defect. A model the compiler rejects fails the build
 * with the compiler's reason.
 */
export const compileCore: StageCore = async ({ artifacts, unit }) => {
  const int8 = artifacts.get(INT8_MODEL);
  if (!int8)
    throw new KilnError('E_INTERNAL', `compile needs ${INT8_MODEL} from quantize`, { hint: 'Rerun the build' });
  const target = unit.params['target'] as CompileTarget | undefined;
  const options: CompileOptions = {
    ...(target?.minRuntimeVersion !== undefined ? { minRuntime: target.minRuntimeVersion } : {}),
    ...(target?.numSegments !== undefined ? { numSegments: target.numSegments } : {}),
    ...(target?.multipleSubgraphs ? { multipleSubgraphs: true } : {}),
  };
  const enc = new TextEncoder();
  const out: Record<string, Uint8Array> = {};
  let report: CompileReport;
  if (findCompiler(process.env)) {
    const dir = await mkdtemp(join(tmpdir(), 'kiln-compile-'));
    try {
      const input = join(dir, INT8_MODEL);
      await writeFile(input, int8);
      const res = await compileFiles([input], { ...options, outDir: join(dir, 'out') });
      if (res.failure)
        throw new KilnError(res.failure.code, `the Edge TPU compiler rejected the model: ${res.failure.message}`, {
          hint: res.failure.hint,
        });
      report = res.report;
      for (const name of await readdir(join(dir, 'out'))) {
        const bytes = new Uint8Array(await readFile(join(dir, 'out', name)));
        if (name.endsWith(COMPILER_MODEL_SUFFIX)) out[basename(name)] = bytes;
        else if (name.endsWith(COMPILER_LOG_SUFFIX)) out[name === COMPILER_LOG_OF_INT8 ? COMPILE_LOG : name] = bytes;
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  } else {
    const result = compileModel([{ path: INT8_MODEL, bytes: int8 }], options);
    const failure = result.models.find((m) => m.failure)?.failure;
    if (failure)
      throw new KilnError(failure.code, `the Edge TPU compiler would reject the model: ${failure.message}`, {
        hint: failure.hint,
      });
    report = buildReport(result, COMPILE_REPORT);
    out[COMPILE_LOG] = enc.encode(result.models.map((m) => renderLog(m)).join('\n'));
    result.models.forEach((m, i) => {
      if (m.segmentBytes) out[segmentModel(i)] = m.segmentBytes;
    });
  }
  out[COMPILE_REPORT] = enc.encode(`${JSON.stringify(report, null, 2)}\n`);
  return { artifacts: out, summary: summaryOf(report, target) };
};

function summaryOf(report: CompileReport, target: CompileTarget | undefined): StageOutput['summary'] {
  return {
    target: target?.name ?? 'default',
    minRuntimeVersion: report.minRuntimeVersion,
    opsOnEdgeTpu: report.edgeTpuOperations,
    totalOps: report.totalOperations,
    cpuOps: report.cpuOperations,
    edgeTpuSubgraphs: report.numEdgeTpuSubgraphs,
    onChipMemoryBytes: report.memory.onChipUsedBytes,
    offChipMemoryBytes: report.memory.offChipStreamedBytes,
    compiler: report.compiler,
    ...(report.prediction?.defects.length ? { predictionDefects: report.prediction.defects.length } : {}),
  };
}
