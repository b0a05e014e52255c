import { fromTflite } from '../ir/from-tflite.js';
import { EDGETPU_CUSTOM_CODE, type TfliteModel } from '../tflite/model.js';
import type { ModelResult, OperationEntry } from './compile-model.js';
import type { ParsedLog, ParsedModelBlock, ParsedRow } from './log-parser.js';
import type { Defect } from './report.js';
import { STATUS } from './strings.js';

/** What the real compiler produced for one model. */
export interface RealModel {
  block: ParsedModelBlock | null;
  log: ParsedLog | null;
  compiled: TfliteModel | null;
}

/** Ops of a compiled file outside edgetpu-custom-op (CPU ops, in order) and the number of custom ops. */
export function compiledSummary(m: TfliteModel): {
  cpuOps: string[];
  cpuOutputNames: string[];
  numEdgeTpuSubgraphs: number;
} {
  const g = fromTflite(m).graph;
  const cpu = g.ops.filter((op) => !(op.type === 'CUSTOM' && op.customCode === EDGETPU_CUSTOM_CODE));
  return {
    cpuOps: cpu.map((op) => (op.type === 'CUSTOM' ? `CUSTOM:${op.customCode ?? ''}` : op.type)),
    cpuOutputNames: cpu.map((op) => g.tensor(op.outputs[0]!).name),
    numEdgeTpuSubgraphs: g.ops.length - cpu.length,
  };
}

const rowKey = (r: ParsedRow) => `${r.opcode}\t${r.status}`;

function rowMap(rows: readonly ParsedRow[]): Map<string, number> {
  const m = new Map<string, number>();
  for (const r of rows) m.set(rowKey(r), (m.get(rowKey(r)) ?? 0) + r.count);
  return m;
}

/** Every difference between Kiln's prediction and the real compiler for one model. */
export function diffModel(pred: ModelResult, real: RealModel): Defect[] {
  const d: Defect[] = [];
  const model = pred.inputPath;
  const add = (field: string, predicted: unknown, actual: unknown) => {
    if (JSON.stringify(predicted) !== JSON.stringify(actual)) d.push({ model, field, predicted, actual });
  };
  const predictedOk = pred.failure === null;
  const realOk = real.block !== null;
  add('compiled', predictedOk, realOk);
  if (!predictedOk || !realOk) return d;
  if (real.log) {
    const p = rowMap(pred.rows);
    const r = rowMap(real.log.rows);
    for (const k of new Set([...p.keys(), ...r.keys()]))
      add(`operationTable[${k.replace('\t', ' / ')}]`, p.get(k) ?? 0, r.get(k) ?? 0);
  }
  const b = real.block!;
  if (b.numEdgeTpuSubgraphs !== null) add('numEdgeTpuSubgraphs', pred.numEdgeTpuSubgraphs, b.numEdgeTpuSubgraphs);
  if (b.totalOps !== null) add('totalOperations', pred.totalOps, b.totalOps);
  if (b.onChipUsedBytes !== null)
    add('memory.onChipUsed', formatKey(pred.memory.onChipUsedBytes), formatKey(b.onChipUsedBytes));
  if (b.offChipStreamedBytes !== null)
    add('memory.offChipStreamed', formatKey(pred.memory.offChipStreamedBytes), formatKey(b.offChipStreamedBytes));
  if (real.compiled) {
    const s = compiledSummary(real.compiled);
    add(
      'cpuOps',
      pred.operations.filter((o) => !o.onEdgeTpu).map((o) => o.opcode),
      s.cpuOps,
    );
    add('compiledFile.numEdgeTpuSubgraphs', pred.numEdgeTpuSubgraphs, s.numEdgeTpuSubgraphs);
  }
  return d;
}

/** Memory figures compare at the precision the compiler prints (2 decimals of B/KiB/MiB). */
function formatKey(bytes: number): number {
  const unit = bytes < 1024 ? 1 : bytes < 1024 * 1024 ? 1024 : 1024 * 1024;
  return Math.round((bytes / unit) * 100) / 100;
}

/**
 * Kiln's per-op entries corrected by what the real compiler did: an op is on the Edge TPU unless the compiled file
 * still has it (matched by its first output tensor name); a CPU op's status comes from the real log's rows for its
 * opcode (Kiln's predicted status when the log has it, else the log's first non-mapped status for that opcode).
 */
export function realOperations(
  pred: readonly OperationEntry[],
  real: RealModel,
  outputNames: readonly string[],
): OperationEntry[] {
  if (!real.compiled) return [...pred];
  const s = compiledSummary(real.compiled);
  const cpuNames = new Set(s.cpuOutputNames);
  const rows = real.log?.rows ?? [];
  return pred.map((op, i) => {
    const onCpu = cpuNames.has(outputNames[i] ?? '');
    if (!onCpu) return { ...op, onEdgeTpu: true, status: STATUS.mapped, fix: null, subgraph: op.subgraph ?? 0 };
    const name = op.opcode.startsWith('CUSTOM') ? 'CUSTOM' : op.opcode;
    const statuses = rows.filter((r) => r.opcode === name && r.status !== STATUS.mapped).map((r) => r.status);
    const status = (statuses.includes(op.status) ? op.status : (statuses[0] ?? op.status)) as OperationEntry['status'];
    return { ...op, onEdgeTpu: false, status, subgraph: null, fix: op.fix ?? 'see the real compiler log' };
  });
}
