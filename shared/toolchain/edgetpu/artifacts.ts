import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { KilnError } from '../../common/errors.js';
import { readTflite } from '../tflite/reader.js';
import { compileModel, joinOut, type CompileOptions, type CompileResult, type ModelInput } from './compile-model.js';
import { diffModel, realOperations, type RealModel } from './diff.js';
import { fromTflite } from '../ir/from-tflite.js';
import { parseConsole, parseLog, type ParsedConsole } from './log-parser.js';
import type { CompileFailure } from './precheck.js';
import { renderConsole, renderLog } from './render.js';
import { buildReport, type CompileReport, type Defect } from './report.js';
import { findCompiler, runCompiler } from './runner.js';
import { COMPILER_VERSION, ERRORS } from './strings.js';

export interface CompileFilesOptions extends CompileOptions {
  /** 'auto' (default): run the real compiler when found; 'never': Kiln's prediction only. */
  real?: 'auto' | 'never';
  env?: NodeJS.ProcessEnv;
  /** Kill the real compiler after this long (default: its -t plus 60 s per compile child). */
  processTimeoutMs?: number;
}

export interface CompileFilesResult {
  console: string;
  report: CompileReport;
  reportPath: string;
  prediction: CompileResult;
  /** The first failure (Kiln's predicted or the real compiler's), for the CLI's exit status. */
  failure: Pick<CompileFailure, 'code' | 'message' | 'hint'> | null;
  defects: Defect[];
}

function readInputs(paths: readonly string[]): ModelInput[] {
  return paths.map((path) => {
    if (!existsSync(path))
      throw new KilnError('E_FILE_NOT_FOUND', `model file not found: ${path}`, {
        hint: 'Check the path of the .tflite file',
      });
    return { path, bytes: new Uint8Array(readFileSync(path)) };
  });
}

function tryRead(path: string | null): Uint8Array | null {
  return path && existsSync(path) ? new Uint8Array(readFileSync(path)) : null;
}

/**
 * The compile stage with files: predicts with compileModel, runs the real compiler when available, writes
 * `<name>_edgetpu.log` (predicted only when the real compiler did not run) and `DIR/compile-report.json`.
 * Kiln never writes an `_edgetpu.tflite`: only the real compiler does.
 */
export async function compileFiles(paths: readonly string[], o: CompileFilesOptions = {}): Promise<CompileFilesResult> {
  const inputs = readInputs(paths);
  const prediction = compileModel(inputs, o);
  const outDir = o.outDir && o.outDir.length > 0 ? o.outDir : '.';
  mkdirSync(outDir, { recursive: true });
  const reportPath = joinOut(outDir, 'compile-report.json');
  const exe = o.real === 'never' ? null : findCompiler(o.env ?? process.env);
  let result: CompileFilesResult;
  if (exe) {
    result = await withRealCompiler(exe, paths, o, prediction, reportPath);
  } else {
    for (const m of prediction.models) {
      if (m.segmentBytes) writeFileSync(m.inputPath, m.segmentBytes);
      if (!m.failure) writeFileSync(m.logPath, renderLog(m));
    }
    const failed = prediction.models.find((m) => m.failure)?.failure ?? null;
    result = {
      console: renderConsole(prediction),
      report: buildReport(prediction, reportPath),
      reportPath,
      prediction,
      failure: failed,
      defects: [],
    };
  }
  writeFileSync(reportPath, `${JSON.stringify(result.report, null, 2)}\n`);
  return result;
}

async function withRealCompiler(
  exe: string,
  paths: readonly string[],
  o: CompileFilesOptions,
  prediction: CompileResult,
  reportPath: string,
): Promise<CompileFilesResult> {
  const run = await runCompiler(exe, paths, o, {
    env: o.env ?? process.env,
    ...(o.processTimeoutMs !== undefined ? { timeoutMs: o.processTimeoutMs } : {}),
  });
  let consoleText = run.stdout + run.stderr;
  if (run.timedOut) consoleText += `${ERRORS.timeout}\n`;
  const parsed: ParsedConsole = parseConsole(consoleText);
  const ok = parsed.succeeded && !run.timedOut && run.exitCode === 0;
  const report = buildReport(prediction, reportPath);
  report.compiler = { kind: 'edgetpu_compiler', version: parsed.version ?? 'unknown' };
  report.status = ok ? 'ok' : 'failed';
  report.prediction = { compiler: { kind: 'kiln-model', version: COMPILER_VERSION }, defects: [] };
  report.edgeTpuBinary = { producedBy: 'edgetpu_compiler', paths: [], note: 'Produced by the real edgetpu_compiler.' };
  report.artifacts.logs = [];
  const defects: Defect[] = [];
  prediction.models.forEach((pm, i) => {
    const block = parsed.models.find((b) => b.inputPath === pm.inputPath) ?? null;
    const logPath = block?.logPath ?? pm.logPath;
    const logBytes = ok ? tryRead(logPath) : null;
    const compiledBytes = ok ? tryRead(block?.outputPath ?? pm.outputPath) : null;
    const real: RealModel = {
      block: ok ? block : null,
      log: logBytes ? parseLog(new TextDecoder().decode(logBytes)) : null,
      compiled: compiledBytes ? readTflite(compiledBytes) : null,
    };
    defects.push(...diffModel(pm, real));
    const mr = report.models[i]!;
    if (logBytes) report.artifacts.logs.push(logPath);
    if (compiledBytes) {
      const out = block?.outputPath ?? pm.outputPath;
      report.edgeTpuBinary.paths.push(out);
      report.artifacts.compiledModels.push(out);
    }
    mr.status = ok && block ? 'ok' : 'failed';
    if (!mr.error && mr.status === 'failed') {
      mr.error = {
        code: 'E_UNSUPPORTED_OP',
        message: parsed.errors.join(' ') || 'the real compiler failed',
        hint: 'See the compiler output',
        compilerLines: parsed.errors,
      };
    }
    if (block) {
      if (block.numEdgeTpuSubgraphs !== null) mr.numEdgeTpuSubgraphs = block.numEdgeTpuSubgraphs;
      if (block.totalOps !== null) mr.totalOperations = block.totalOps;
      mr.cpuOperations = block.cpuOps ?? 0;
      mr.edgeTpuOperations = block.tpuOps ?? mr.totalOperations - mr.cpuOperations;
      mr.memory = {
        ...mr.memory,
        onChipUsedBytes: block.onChipUsedBytes ?? mr.memory.onChipUsedBytes,
        onChipRemainingBytes: block.onChipRemainingBytes ?? mr.memory.onChipRemainingBytes,
        offChipStreamedBytes: block.offChipStreamedBytes ?? mr.memory.offChipStreamedBytes,
        source: 'edgetpu_compiler',
      };
    }
    if (real.compiled && !pm.segment) {
      const g = fromTflite(readTflite(new Uint8Array(readFileSync(pm.inputPath)))).graph;
      mr.operations = realOperations(
        pm.operations,
        real,
        g.ops.map((op) => g.tensor(op.outputs[0]!).name),
      );
    }
  });
  const main = prediction.models.some((m) => m.segment) ? report.models : report.models.slice(0, 1);
  report.numEdgeTpuSubgraphs = main.reduce((s, m) => s + m.numEdgeTpuSubgraphs, 0);
  report.totalOperations = main.reduce((s, m) => s + m.totalOperations, 0);
  report.edgeTpuOperations = main.reduce((s, m) => s + m.edgeTpuOperations, 0);
  report.cpuOperations = main.reduce((s, m) => s + m.cpuOperations, 0);
  if (main[0]) report.memory = main[0].memory;
  report.operations = main.flatMap((m) => m.operations);
  report.prediction.defects = defects;
  const failure = ok
    ? null
    : {
        code: 'E_UNSUPPORTED_OP' as const,
        message: `edgetpu_compiler failed: ${parsed.errors.join(' ') || `exit ${run.exitCode ?? run.signal}`}`,
        hint: 'See the compiler output above and compile-report.json',
      };
  return { console: consoleText, report, reportPath, prediction, failure, defects };
}
