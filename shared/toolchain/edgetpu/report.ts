import type { CompileResult, MemoryFigures, ModelResult, OperationEntry } from './compile-model.js';
import { COMPILER_VERSION } from './strings.js';

/** A difference between Kiln's prediction and what the real compiler did: a defect of Kiln's model, never hidden. */
export interface Defect {
  model: string;
  field: string;
  predicted: unknown;
  actual: unknown;
}

export interface ModelReport {
  input: string;
  output: string;
  log: string;
  segment: { index: number; count: number; source: string } | null;
  status: 'ok' | 'failed';
  error: {
    code: string;
    message: string;
    hint: string;
    compilerLines: string[];
    /** Kiln's confidence in a predicted failure ('low': the evidence does not decide; see memory.activations). */
    confidence?: 'high' | 'low';
  } | null;
  requiredRuntimeVersion: number;
  numEdgeTpuSubgraphs: number;
  totalOperations: number;
  edgeTpuOperations: number;
  cpuOperations: number;
  intermediateTensors: string[];
  memory: MemoryFigures;
  operations: OperationEntry[];
}

export interface CompileReport {
  schema: 'kiln.compile-report/1';
  compiler: { kind: 'kiln-model' | 'edgetpu_compiler'; version: string };
  status: 'ok' | 'failed';
  /** Effective `-m`: the runtime the output targets. */
  minRuntimeVersion: number;
  options: Record<string, unknown>;
  edgeTpuBinary: { producedBy: 'edgetpu_compiler'; paths: string[]; note: string };
  artifacts: { int8Models: string[]; logs: string[]; report: string | null; compiledModels: string[] };
  /** The input model's figures (the sum over segments with -n; the first model when several are co-compiled). */
  numEdgeTpuSubgraphs: number;
  totalOperations: number;
  edgeTpuOperations: number;
  cpuOperations: number;
  memory: MemoryFigures;
  operations: OperationEntry[];
  models: ModelReport[];
  /** Set when the real compiler ran: Kiln's prediction and every mismatch with the real result. */
  prediction: { compiler: { kind: 'kiln-model'; version: string }; defects: Defect[] } | null;
}

export function modelReport(r: ModelResult): ModelReport {
  return {
    input: r.inputPath,
    output: r.outputPath,
    log: r.logPath,
    segment: r.segment ?? null,
    status: r.failure ? 'failed' : 'ok',
    error: r.failure
      ? {
          code: r.failure.code,
          message: r.failure.message,
          hint: r.failure.hint,
          compilerLines: r.failure.lines,
          ...(r.failure.confidence ? { confidence: r.failure.confidence } : {}),
        }
      : null,
    requiredRuntimeVersion: r.requiredRuntimeVersion,
    numEdgeTpuSubgraphs: r.numEdgeTpuSubgraphs,
    totalOperations: r.totalOps,
    edgeTpuOperations: r.tpuOps,
    cpuOperations: r.cpuOps,
    intermediateTensors: r.intermediateTensors,
    memory: r.memory,
    operations: r.operations,
  };
}

function sumMemory(ms: readonly MemoryFigures[]): MemoryFigures {
  const first = ms[0]!;
  const sum = (k: keyof MemoryFigures) => ms.reduce((s, m) => s + (m[k] as number), 0);
  return {
    ...first,
    onChipUsedBytes: sum('onChipUsedBytes'),
    onChipRemainingBytes: sum('onChipRemainingBytes'),
    offChipStreamedBytes: sum('offChipStreamedBytes'),
    rawParameterBytes: sum('rawParameterBytes'),
    paddedParameterBytes: sum('paddedParameterBytes'),
    cacheCapacityBytes: sum('cacheCapacityBytes'),
    peakActivationBytesPerTile: Math.max(...ms.map((m) => m.peakActivationBytesPerTile)),
  };
}

/** compile-report.json for Kiln's prediction. `reportPath` is where it will be written (null when not written). */
export function buildReport(res: CompileResult, reportPath: string | null): CompileReport {
  const models = res.models.map(modelReport);
  const segmented = res.models.some((r) => r.segment);
  const main = segmented ? models : models.slice(0, 1);
  const ok = res.ok;
  const { cacheCapacityBytes, ...shown } = res.options;
  return {
    schema: 'kiln.compile-report/1',
    compiler: { kind: 'kiln-model', version: COMPILER_VERSION },
    status: ok ? 'ok' : 'failed',
    minRuntimeVersion: res.minRuntime,
    options: { ...shown, cacheCapacityBytes },
    edgeTpuBinary: {
      producedBy: 'edgetpu_compiler',
      paths: [],
      note: 'Kiln predicts the compile; the Edge TPU binary (edgetpu-custom-op) is produced only by the real edgetpu_compiler (install it or set KILN_EDGETPU_COMPILER). The artifacts here are the int8 model, the predicted log and this report.',
    },
    artifacts: {
      int8Models: res.models.map((r) => r.inputPath),
      logs: res.models.filter((r) => !r.failure).map((r) => r.logPath),
      report: reportPath,
      compiledModels: [],
    },
    numEdgeTpuSubgraphs: main.reduce((s, m) => s + m.numEdgeTpuSubgraphs, 0),
    totalOperations: main.reduce((s, m) => s + m.totalOperations, 0),
    edgeTpuOperations: main.reduce((s, m) => s + m.edgeTpuOperations, 0),
    cpuOperations: main.reduce((s, m) => s + m.cpuOperations, 0),
    memory: sumMemory(main.map((m) => m.memory)),
    operations: main.flatMap((m) => m.operations.map((op) => (m.segment ? { ...op, segment: m.segment.index } : op))),
    models,
    prediction: null,
  };
}
