import type { CompileResult, ModelResult, TableRow } from './compile-model.js';
import { COMPILER_VERSION, formatSize, LINES, tableRow } from './strings.js';

const lines = (xs: string[]): string => xs.map((l) => `${l}\n`).join('');

function table(rows: readonly TableRow[]): string[] {
  return [LINES.tableHeader, '', ...rows.map((r) => tableRow(r.opcode, r.count, r.status))];
}

/** First line of a predicted log: whose prediction, of which compiler version (in place of the compiler's banner). */
export const PREDICTION_MARKER = (version: string): string =>
  `Kiln's prediction of Edge TPU Compiler version ${version} (the real edgetpu_compiler did not run)`;
/** Output line of a predicted log: a prediction writes no compiled model, so it names none. */
export const PREDICTED_OUTPUT = 'none (a prediction writes no compiled model; run edgetpu_compiler for one)';

/**
 * `<name>_edgetpu.log` (docs/specs/edgetpu-compiler.md §6.4). Kiln renders it only as a prediction, so by default the compiler's banner is
 * replaced by PREDICTION_MARKER and the output line names no file (none was written); the body (input line, table) is
 * the compiler's text. `asCompiler` gives the compiler's exact text, for comparing the layout with real logs.
 */
export function renderLog(r: ModelResult, version = COMPILER_VERSION, o: { asCompiler?: boolean } = {}): string {
  return lines([
    o.asCompiler ? LINES.version(version) : PREDICTION_MARKER(version),
    `${LINES.logInput}${r.inputPath}`,
    `${LINES.logOutput}${o.asCompiler ? r.outputPath : PREDICTED_OUTPUT}`,
    '',
    ...table(r.rows),
  ]);
}

/** One model's block from `Input model:` to the table or the "See the operation log" line (docs/specs/edgetpu-compiler.md §6.1). */
function block(r: ModelResult, show: boolean): string[] {
  const out = [
    `${LINES.inputModel}${r.inputPath}`,
    `${LINES.inputSize}${formatSize(r.inputSize)}`,
    `${LINES.outputModel}${r.outputPath}`,
    `${LINES.outputSize}${formatSize(r.outputSizeEstimate)}`,
    `${LINES.onChipUsed}${formatSize(r.memory.onChipUsedBytes)}`,
    `${LINES.onChipRemaining}${formatSize(r.memory.onChipRemainingBytes)}`,
    `${LINES.offChip}${formatSize(r.memory.offChipStreamedBytes)}`,
    `${LINES.subgraphs}${r.numEdgeTpuSubgraphs}`,
    `${LINES.totalOps}${r.totalOps}`,
    `${LINES.opLog}${r.logPath}`,
  ];
  if (r.cpuOps > 0) out.push('', LINES.notAll, `${LINES.tpuOps}${r.tpuOps}`, `${LINES.cpuOps}${r.cpuOps}`);
  if (show) out.push('', ...table(r.rows));
  else out.push(LINES.seeLog);
  return out;
}

/** The lines one compile child prints for a model: -d search lines, timer, and a failure or nothing. */
function attemptLines(
  r: ModelResult,
  timeoutSec: number,
  step: number | null,
): { pre: string[]; failedTail: string[] } {
  const pre: string[] = [];
  if (step !== null) {
    pre.push(LINES.searching(step));
    r.attempts.forEach((a, i) => {
      pre.push(LINES.trySegment(a.ops));
      if (i > 0) pre.push(LINES.intermediate(a.intermediateTensors));
      pre.push(LINES.timer(timeoutSec));
      if (a.failure) pre.push(...a.failure.lines, LINES.childDone, LINES.failed);
    });
    return { pre, failedTail: [] };
  }
  return {
    pre: [LINES.timer(timeoutSec)],
    failedTail: r.failure ? [...r.failure.lines, LINES.childDone, LINES.failed] : [],
  };
}

/**
 * The console text of compiler 16 (docs/specs/edgetpu-compiler.md §6.1): version line; per compile child the timer (and -d lines); then the
 * success block(s) or the failure lines; `-n` repeats the child part per segment. `elapsedMs` is Kiln's own time.
 */
export function renderConsole(res: CompileResult, elapsedMs = res.elapsedMs, version = COMPILER_VERSION): string {
  const o = res.options;
  const show = o.showOperations ?? false;
  const step = o.searchDelegate ? (o.delegateSearchStep ?? 1) : null;
  const out: string[] = [LINES.version(version)];
  const early = res.models.filter((r) => r.failure && !r.failure.inChild);
  if (early.length > 0) {
    for (const r of early) out.push(...r.failure!.lines);
    return lines(out);
  }
  const segmented = res.models.some((r) => r.segment);
  const groups: ModelResult[][] = segmented ? res.models.map((r) => [r]) : [res.models];
  for (const group of groups) {
    const failed = group.find((r) => r.failure);
    if (failed) {
      const { pre, failedTail } = attemptLines(failed, o.timeoutSec, step);
      out.push(...pre, ...failedTail);
      return lines(out);
    }
    for (const r of group) if (step !== null) out.push(...attemptLines(r, o.timeoutSec, step).pre);
    if (step === null) out.push(LINES.timer(o.timeoutSec));
    out.push('', group.length > 1 ? LINES.compiledMany(elapsedMs) : LINES.compiledOne(elapsedMs), '');
    group.forEach((r, i) => {
      if (i > 0) out.push('');
      out.push(...block(r, show));
    });
    out.push(LINES.childDone, LINES.succeeded);
  }
  return lines(out);
}
