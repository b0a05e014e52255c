import { ALL_STATUSES, LINES, parseSize, type Status } from './strings.js';

/** A real (or predicted) operation-table row. */
export interface ParsedRow {
  opcode: string;
  count: number;
  status: string;
}

export interface ParsedLog {
  version: string | null;
  input: string | null;
  output: string | null;
  rows: ParsedRow[];
}

export interface ParsedModelBlock {
  inputPath: string;
  inputSize: number | null;
  outputPath: string | null;
  outputSize: number | null;
  onChipUsedBytes: number | null;
  onChipRemainingBytes: number | null;
  offChipStreamedBytes: number | null;
  numEdgeTpuSubgraphs: number | null;
  totalOps: number | null;
  logPath: string | null;
  tpuOps: number | null;
  cpuOps: number | null;
  rows: ParsedRow[];
}

export interface ParsedConsole {
  version: string | null;
  succeeded: boolean;
  /** Error lines of the compiler (docs/specs/edgetpu-compiler.md §7.3), in order. */
  errors: string[];
  models: ParsedModelBlock[];
  attempts: { ops: number; intermediateTensors: string[] }[];
}

const ROW = /^(\S+)\s+(\d+)\s+(\S.*)$/;

/** A table row at columns 0/31/42; tolerant of longer names that push the columns. */
export function parseRow(line: string): ParsedRow | null {
  const m = ROW.exec(line);
  if (!m || line.startsWith('Operator ')) return null;
  return { opcode: m[1]!, count: Number(m[2]), status: m[3]!.trimEnd() };
}

export function isKnownStatus(s: string): s is Status {
  return (ALL_STATUSES as readonly string[]).includes(s);
}

/** `<name>_edgetpu.log` (docs/specs/edgetpu-compiler.md §6.4). */
export function parseLog(text: string): ParsedLog {
  const lines = text.split('\n');
  const out: ParsedLog = { version: null, input: null, output: null, rows: [] };
  let inTable = false;
  for (const line of lines) {
    const banner = /^(?:Kiln's prediction of )?Edge TPU Compiler version (\S+)/.exec(line);
    if (banner) out.version = banner[1]!;
    else if (line.startsWith(LINES.logInput)) out.input = line.slice(LINES.logInput.length);
    else if (line.startsWith(LINES.logOutput)) out.output = line.slice(LINES.logOutput.length);
    else if (line === LINES.tableHeader) inTable = true;
    else if (inTable) {
      const row = parseRow(line);
      if (row) out.rows.push(row);
    }
  }
  return out;
}

const ERROR_PREFIXES = [
  'ERROR:',
  'Compilation failed',
  'Invalid model:',
  'Model not quantized',
  'Model could not be parsed',
  'Compilation timeout',
  'libc++abi:',
  'Internal compiler error',
];

function num(s: string): number | null {
  const n = Number(s.trim());
  return Number.isFinite(n) ? n : null;
}

/** The compiler's console output (docs/specs/edgetpu-compiler.md §6.1), any of the forms Kiln renders and older compilers print. */
export function parseConsole(text: string): ParsedConsole {
  const out: ParsedConsole = { version: null, succeeded: false, errors: [], models: [], attempts: [] };
  let cur: ParsedModelBlock | null = null;
  let inTable = false;
  let compiledLine = false;
  for (const raw of text.split('\n')) {
    const line = raw.replace(/\r$/, '');
    const field = (prefix: string): string | null => (line.startsWith(prefix) ? line.slice(prefix.length) : null);
    let v: string | null;
    if ((v = field('Edge TPU Compiler version ')) !== null) out.version = v.trim();
    else if ((v = field('Try to compile segment with ')) !== null)
      out.attempts.push({ ops: Number.parseInt(v, 10), intermediateTensors: [] });
    else if ((v = field('Intermediate tensors: ')) !== null && out.attempts.length)
      out.attempts[out.attempts.length - 1]!.intermediateTensors = v.split(',').filter(Boolean);
    else if (/^Models? compiled successfully in \d+ ms\.$/.test(line)) compiledLine = true;
    else if (line.startsWith('Compilation succeeded!')) out.succeeded = true;
    else if ((v = field(LINES.inputModel)) !== null) {
      cur = {
        inputPath: v,
        inputSize: null,
        outputPath: null,
        outputSize: null,
        onChipUsedBytes: null,
        onChipRemainingBytes: null,
        offChipStreamedBytes: null,
        numEdgeTpuSubgraphs: null,
        totalOps: null,
        logPath: null,
        tpuOps: null,
        cpuOps: null,
        rows: [],
      };
      out.models.push(cur);
      inTable = false;
    } else if (ERROR_PREFIXES.some((p) => line.startsWith(p))) out.errors.push(line.trimEnd());
    else if (cur) {
      if ((v = field(LINES.inputSize)) !== null) cur.inputSize = parseSize(v);
      else if ((v = field(LINES.outputModel)) !== null) cur.outputPath = v;
      else if ((v = field(LINES.outputSize)) !== null) cur.outputSize = parseSize(v);
      else if ((v = field(LINES.onChipUsed)) !== null) cur.onChipUsedBytes = parseSize(v);
      else if ((v = field(LINES.onChipRemaining)) !== null) cur.onChipRemainingBytes = parseSize(v);
      else if ((v = field(LINES.offChip)) !== null) cur.offChipStreamedBytes = parseSize(v);
      else if ((v = field(LINES.subgraphs)) !== null) cur.numEdgeTpuSubgraphs = num(v);
      else if ((v = field(LINES.totalOps)) !== null) cur.totalOps = num(v);
      else if ((v = field(LINES.opLog)) !== null) cur.logPath = v;
      else if ((v = field(LINES.tpuOps)) !== null) cur.tpuOps = num(v);
      else if ((v = field(LINES.cpuOps)) !== null) cur.cpuOps = num(v);
      else if (line === LINES.tableHeader) inTable = true;
      else if (inTable) {
        const row = parseRow(line);
        if (row) cur.rows.push(row);
      }
    }
  }
  // compilers ≤ 15 print no "Compilation succeeded!": success is the "compiled successfully" line without errors
  if (!out.succeeded && compiledLine && out.errors.length === 0 && out.version && !out.version.startsWith('16.'))
    out.succeeded = true;
  return out;
}
