import { KilnError } from '../../common/errors.js';
import type { Graph } from '../ir/graph.js';
import type { IrModel } from '../ir/model.js';
import { toTflite } from '../ir/to-tflite.js';
import type { TfliteModel } from '../tflite/model.js';
import { writeTflite } from '../tflite/writer.js';
import { classifyGraph, type Verdict } from './classify.js';
import { packagesOf, parameterBytes } from '../tflite/dwn1.js';
import { assessActivations, type ActivationRule, type ActivationVerdict } from './activations.js';
import { cacheLayers, DEFAULT_CACHE_CAPACITY, layerParams, peakActivationPerTile } from './memory.js';
import { OP_BY_NAME } from './op-table.js';
import { downstreamOf, partition, type Exclusion, type Partition } from './partition.js';
import { checkPrepare, checkQuantized, parseForCompiler, type CompileFailure } from './precheck.js';
import { extractSegment, splitByParameters } from './segments.js';
import { DEFAULT_MIN_RUNTIME, DEFAULT_TIMEOUT_SEC, ERRORS, LOWEST_RUNTIME, STATUS, type Status } from './strings.js';

/** Options of `edgetpu_compiler` that Kiln models (docs/specs/edgetpu-compiler.md §1.3, §4.3–4.7). */
export interface CompileOptions {
  /** `-o`: output directory as given (paths are echoed joined with it). */
  outDir?: string;
  /** `-m`: minimum Edge TPU runtime version. */
  minRuntime?: number;
  /** `-a` */
  multipleSubgraphs?: boolean;
  /** `-n` */
  numSegments?: number;
  /** `-i` */
  intermediateTensors?: string[];
  /** `-d` */
  searchDelegate?: boolean;
  /** `-k` */
  delegateSearchStep?: number;
  /** `-s` */
  showOperations?: boolean;
  /** `-t` seconds */
  timeoutSec?: number;
  /** On-chip parameter cache per Edge TPU (see memory.ts). */
  cacheCapacityBytes?: number;
}

export interface ModelInput {
  path: string;
  bytes: Uint8Array;
}

export interface OperationEntry {
  index: number;
  opcode: string;
  version: number;
  status: Status;
  onEdgeTpu: boolean;
  reason: string;
  fix: string | null;
  /** Edge TPU subgraph (custom op) the op is in, or null. */
  subgraph: number | null;
  /** `-n` segment the op went to. */
  segment?: number;
}

export interface TableRow {
  opcode: string;
  count: number;
  status: Status;
}

export interface Attempt {
  ops: number;
  intermediateTensors: string[];
  failure: CompileFailure | null;
}

export interface MemoryFigures {
  onChipUsedBytes: number;
  onChipRemainingBytes: number;
  offChipStreamedBytes: number;
  rawParameterBytes: number;
  paddedParameterBytes: number;
  cacheCapacityBytes: number;
  peakActivationBytesPerTile: number;
  /**
   * Kiln's activation-memory verdict for the Edge TPU part (activations.ts): the rule that applied, how sure Kiln is
   * ('low' where the evidence does not decide), and why. null when the model stopped before mapping.
   */
  activations: ActivationSummary | null;
  /** 'kiln-model' = Kiln's rule (memory.ts); 'dwn1-package' = read from an already compiled input; 'edgetpu_compiler' = the real compiler's console. */
  source: 'kiln-model' | 'dwn1-package' | 'edgetpu_compiler';
}

export interface ActivationSummary {
  rule: ActivationRule;
  confidence: 'high' | 'low';
  reason: string;
  /** Largest minimal resident set (one row band, or the whole tensors of a layout-changing op) over the chip. */
  peakBandBytes: number;
}

function summary(v: ActivationVerdict): ActivationSummary {
  return { rule: v.rule, confidence: v.confidence, reason: v.reason, peakBandBytes: v.peakBandBytes };
}

export interface ModelResult {
  inputPath: string;
  outputPath: string;
  logPath: string;
  inputSize: number;
  /** Predicted size of the compiled file: input − raw mapped parameters + padded parameters (instructions unknown). */
  outputSizeEstimate: number;
  segment?: { index: number; count: number; source: string };
  /** Bytes of the uncompiled segment file to write (only for `-n`). */
  segmentBytes?: Uint8Array;
  failure: CompileFailure | null;
  attempts: Attempt[];
  /** Tensor names that end the Edge TPU part (`-i`, or chosen by `-d`). */
  intermediateTensors: string[];
  operations: OperationEntry[];
  rows: TableRow[];
  totalOps: number;
  tpuOps: number;
  cpuOps: number;
  numEdgeTpuSubgraphs: number;
  memory: MemoryFigures;
  /** Runtime the mapped ops need (max of the table's minimum runtimes; 12 with int8 tensors) [I]. */
  requiredRuntimeVersion: number;
  alreadyCompiled: boolean;
}

export interface CompileResult {
  minRuntime: number;
  options: Required<Pick<CompileOptions, 'timeoutSec' | 'cacheCapacityBytes'>> & CompileOptions;
  models: ModelResult[];
  ok: boolean;
  elapsedMs: number;
}

export function joinOut(outDir: string | undefined, file: string): string {
  if (outDir === undefined || outDir === '') return file;
  return outDir.endsWith('/') ? `${outDir}${file}` : `${outDir}/${file}`;
}

export function baseName(path: string): string {
  const file = path.split('/').pop() ?? path;
  return file.endsWith('.tflite') ? file.slice(0, -'.tflite'.length) : file;
}

function validate(inputs: readonly ModelInput[], o: CompileOptions): number {
  const m = o.minRuntime ?? DEFAULT_MIN_RUNTIME;
  const bad = (msg: string, hint: string) => new KilnError('E_BAD_ARGUMENT', msg, { hint });
  if (inputs.length === 0) throw bad('no model given', 'Pass one or more .tflite files');
  if (!Number.isInteger(m) || m < LOWEST_RUNTIME || m > DEFAULT_MIN_RUNTIME) {
    throw bad(
      `-m ${m} is not a runtime version compiler 16 targets`,
      `Use a value from ${LOWEST_RUNTIME} to ${DEFAULT_MIN_RUNTIME}`,
    );
  }
  if (o.numSegments !== undefined && inputs.length > 1)
    throw bad('-n cannot be used with several models', 'Compile one model with -n');
  if (o.numSegments !== undefined && o.intermediateTensors?.length)
    throw bad('-n cannot be combined with -i', 'Use either -n or -i');
  if (o.delegateSearchStep !== undefined && !o.searchDelegate) throw bad('-k needs -d', 'Add -d (search delegate)');
  if (o.delegateSearchStep !== undefined && (!Number.isInteger(o.delegateSearchStep) || o.delegateSearchStep < 1)) {
    throw bad(`-k must be an integer ≥ 1, got ${o.delegateSearchStep}`, 'Use e.g. -k 10');
  }
  return m;
}

/** The compiler's operation table: one row per distinct (opcode, status), in first-occurrence order. */
export function tableRows(ops: readonly OperationEntry[]): TableRow[] {
  const rows: TableRow[] = [];
  for (const op of ops) {
    const name = op.opcode.startsWith('CUSTOM') ? 'CUSTOM' : op.opcode;
    const row = rows.find((r) => r.opcode === name && r.status === op.status);
    if (row) row.count++;
    else rows.push({ opcode: name, count: 1, status: op.status });
  }
  return rows;
}

function opcodeOf(g: Graph, id: number): string {
  const op = g.ops[id]!;
  return op.type === 'CUSTOM' ? `CUSTOM:${op.customCode ?? ''}` : op.type;
}

function exclusionText(g: Graph, ex: Exclusion): { reason: string; fix: string } {
  if (ex.kind === 'subgraph') {
    const b = g.ops[ex.blocker];
    const layer = b ? g.tensor(b.outputs[0]!).name : '?';
    return {
      reason: `it could run on the Edge TPU, but it depends on op ${ex.blocker} (${b ? opcodeOf(g, ex.blocker) : '?'}, "${layer}"), which runs on the CPU after the Edge TPU part; the compiler makes only one Edge TPU subgraph`,
      fix: `make op ${ex.blocker} ("${layer}") Edge TPU compatible (see its own fix) or move it to the end of the model; or compile with -a to allow several Edge TPU subgraphs`,
    };
  }
  if (ex.kind === 'intermediate') {
    return {
      reason: `it consumes (directly or indirectly) intermediate tensor "${ex.tensor}", where -i ends the Edge TPU part`,
      fix: `remove "${ex.tensor}" from -i (or name a later tensor) to map this op`,
    };
  }
  return {
    reason: `-d limited the Edge TPU part to the first ${ex.ops} ops so that the compile succeeds`,
    fix: 'reduce activation sizes (smaller input resolution or fewer channels) so more of the model fits on the Edge TPU',
  };
}

function entries(g: Graph, verdicts: readonly Verdict[], part: Partition): OperationEntry[] {
  return g.ops.map((op, i) => {
    const v = verdicts[i]!;
    const p = part.placements[i]!;
    const onEdgeTpu = p.subgraph !== null;
    const ex = p.exclusion ? exclusionText(g, p.exclusion) : null;
    return {
      index: i,
      opcode: opcodeOf(g, i),
      version: op.version,
      status: p.status,
      onEdgeTpu,
      reason: ex ? ex.reason : v.reason,
      fix: onEdgeTpu ? null : (ex?.fix ?? v.fix),
      subgraph: p.subgraph,
    };
  });
}

function requiredRuntime(g: Graph, ops: readonly number[]): number {
  let r = LOWEST_RUNTIME;
  for (const id of ops) {
    const op = g.ops[id]!;
    r = Math.max(r, OP_BY_NAME.get(op.type)?.minRuntime ?? LOWEST_RUNTIME);
    if ([...op.inputs, ...op.outputs].some((t) => t >= 0 && !g.isConstant(t) && g.tensor(t).dtype === 'int8'))
      r = Math.max(r, 12);
  }
  return r;
}

function failureResult(
  base: Omit<
    ModelResult,
    | 'failure'
    | 'operations'
    | 'rows'
    | 'totalOps'
    | 'tpuOps'
    | 'cpuOps'
    | 'numEdgeTpuSubgraphs'
    | 'memory'
    | 'requiredRuntimeVersion'
    | 'alreadyCompiled'
    | 'attempts'
    | 'intermediateTensors'
  >,
  failure: CompileFailure,
  capacity: number,
  attempts: Attempt[] = [],
  activations: ActivationSummary | null = null,
): ModelResult {
  return {
    ...base,
    failure,
    attempts,
    intermediateTensors: [],
    operations: [],
    rows: [],
    totalOps: 0,
    tpuOps: 0,
    cpuOps: 0,
    numEdgeTpuSubgraphs: 0,
    memory: {
      onChipUsedBytes: 0,
      onChipRemainingBytes: capacity,
      offChipStreamedBytes: 0,
      rawParameterBytes: 0,
      paddedParameterBytes: 0,
      cacheCapacityBytes: capacity,
      peakActivationBytesPerTile: 0,
      activations,
      source: 'kiln-model',
    },
    requiredRuntimeVersion: LOWEST_RUNTIME,
    alreadyCompiled: false,
  };
}

interface ModelJob {
  path: string;
  bytes: Uint8Array;
  ir?: IrModel;
  segment?: { index: number; count: number; source: string };
  origin?: number[];
}

function analyze(
  job: ModelJob,
  m: number,
  o: CompileResult['options'],
  capacityLeft: number,
  tflite: TfliteModel | null,
  ir: IrModel,
): ModelResult {
  const g = ir.graph;
  const base = {
    inputPath: job.path,
    outputPath: joinOut(o.outDir, `${baseName(job.path)}_edgetpu.tflite`),
    logPath: joinOut(o.outDir, `${baseName(job.path)}_edgetpu.log`),
    inputSize: job.bytes.length,
    outputSizeEstimate: job.bytes.length,
    ...(job.segment ? { segment: job.segment, segmentBytes: job.bytes } : {}),
  };
  const prep = checkPrepare(ir);
  if (prep) return failureResult(base, prep, capacityLeft);

  const verdicts = classifyGraph(g, m);
  const forcedByI = new Map<number, Exclusion>();
  const names = o.intermediateTensors ?? [];
  const named = names.map((n) => g.tensors.findIndex((t) => t.name === n)).filter((t) => t >= 0);
  for (const [op, t] of downstreamOf(g, named)) forcedByI.set(op, { kind: 'intermediate', tensor: g.tensor(t).name });

  const order = g.topoOrder().map((x) => x.id);
  const step = o.delegateSearchStep ?? 1;
  const attempts: Attempt[] = [];
  let part: Partition | null = null;
  let intermediate = names.filter((n) => g.tensors.some((t) => t.name === n));
  let finalFailure: CompileFailure | null = null;
  let lastVerdict: ActivationVerdict | null = null;
  for (let n = order.length; ; n -= step) {
    const forced = new Map(forcedByI);
    const prefix = new Set(order.slice(0, Math.max(0, n)));
    if (n < order.length)
      for (const id of order) if (!prefix.has(id) && !forced.has(id)) forced.set(id, { kind: 'segment', ops: n });
    const auto = n < order.length ? cutTensors(g, prefix) : [];
    const p = partition(g, verdicts, { multipleSubgraphs: o.multipleSubgraphs ?? false, forced });
    const tpuOps = p.subgraphs.flat().filter((id) => !verdicts[id]!.precompiled);
    const verdict = assessActivations(g, tpuOps);
    lastVerdict = verdict;
    const failure: CompileFailure | null = verdict.compiles
      ? null
      : {
          stage: 'activations',
          inChild: true,
          lines: [ERRORS.restoredPlan, ERRORS.largeActivations],
          code: 'E_SHAPE',
          message: `${verdict.reason} (Kiln's confidence in this refusal: ${verdict.confidence}; see docs/edgetpu-ops.md, "Activation memory")`,
          hint: 'Use a smaller input resolution or fewer channels in that layer, end the Edge TPU part earlier with -i, or let the compiler search with -d',
          confidence: verdict.confidence,
        };
    attempts.push({ ops: Math.max(0, n), intermediateTensors: auto.map((t) => g.tensor(t).name), failure });
    if (!failure) {
      part = p;
      if (n < order.length) intermediate = auto.map((t) => g.tensor(t).name);
      break;
    }
    if (!o.searchDelegate || n - step <= 0) {
      finalFailure = failure;
      break;
    }
  }
  if (!part)
    return failureResult(
      base,
      finalFailure!,
      capacityLeft,
      o.searchDelegate ? attempts : [],
      lastVerdict ? summary(lastVerdict) : null,
    );

  const ops = entries(g, verdicts, part);
  if (job.origin) ops.forEach((e) => (e.index = job.origin![e.index]!));
  const tpuIds = part.subgraphs.flat();
  const newTpu = tpuIds.filter((id) => !verdicts[id]!.precompiled).sort((a, b) => a - b);
  const layers = newTpu.map((id) => layerParams(g, g.ops[id]!));
  const raw = layers.reduce((s, l) => s + l.rawBytes, 0);
  const padded = layers.reduce((s, l) => s + l.paddedBytes, 0);
  const cache = cacheLayers(layers, capacityLeft);
  let memory: MemoryFigures = {
    onChipUsedBytes: cache.cachedBytes,
    onChipRemainingBytes: capacityLeft - cache.cachedBytes,
    offChipStreamedBytes: cache.streamedBytes,
    rawParameterBytes: raw,
    paddedParameterBytes: padded,
    cacheCapacityBytes: o.cacheCapacityBytes,
    peakActivationBytesPerTile: peakActivationPerTile(g, newTpu).bytes,
    activations: summary(assessActivations(g, newTpu)),
    source: 'kiln-model',
  };
  const alreadyCompiled = verdicts.some((v) => v.precompiled);
  if (alreadyCompiled && tflite) {
    const pk = packagesOf(tflite).map(parameterBytes);
    const cached = pk.reduce((s, x) => s + x.cached, 0);
    const streamed = pk.reduce((s, x) => s + x.streamed, 0);
    memory = {
      ...memory,
      onChipUsedBytes: cached,
      onChipRemainingBytes: Math.max(0, capacityLeft - cached),
      offChipStreamedBytes: streamed,
      paddedParameterBytes: cached + streamed,
      source: 'dwn1-package',
    };
  }
  const tpuCount = ops.filter((e) => e.onEdgeTpu).length;
  return {
    ...base,
    outputSizeEstimate: job.bytes.length - raw + padded,
    failure: null,
    attempts: o.searchDelegate ? attempts : [],
    intermediateTensors: intermediate,
    operations: ops,
    rows: tableRows(ops),
    totalOps: g.ops.length,
    tpuOps: tpuCount,
    cpuOps: g.ops.length - tpuCount,
    numEdgeTpuSubgraphs: part.numSubgraphs,
    memory,
    requiredRuntimeVersion: requiredRuntime(g, newTpu),
    alreadyCompiled,
  };
}

/** Tensors produced inside `prefix` and consumed outside it: the boundary `-d` names as intermediate tensors. */
function cutTensors(g: Graph, prefix: ReadonlySet<number>): number[] {
  const { consumers } = g.index();
  const out: number[] = [];
  for (const id of prefix) {
    for (const t of g.ops[id]!.outputs) {
      if (t >= 0 && consumers[t]!.some((c) => !prefix.has(c)) && !out.includes(t)) out.push(t);
    }
  }
  return out;
}

/**
 * Kiln's model of `edgetpu_compiler` 16: pure analysis of one or more models (no file I/O). Returns, per model (or
 * per `-n` segment), the operation statuses, partition, memory figures and any model-level failure; render.ts turns
 * it into the console text and the `.log`, report.ts into compile-report.json.
 */
export function compileModel(inputs: readonly ModelInput[], options: CompileOptions = {}): CompileResult {
  const started = performance.now();
  const m = validate(inputs, options);
  const o: CompileResult['options'] = {
    ...options,
    timeoutSec: options.timeoutSec ?? DEFAULT_TIMEOUT_SEC,
    cacheCapacityBytes: options.cacheCapacityBytes ?? DEFAULT_CACHE_CAPACITY,
  };
  const models: ModelResult[] = [];
  let capacityLeft = o.cacheCapacityBytes;
  const pending: ModelResult[] = [];
  const allNames = new Set<string>();
  for (const input of inputs) {
    const base = {
      inputPath: input.path,
      outputPath: joinOut(o.outDir, `${baseName(input.path)}_edgetpu.tflite`),
      logPath: joinOut(o.outDir, `${baseName(input.path)}_edgetpu.log`),
      inputSize: input.bytes.length,
      outputSizeEstimate: input.bytes.length,
    };
    const parsed = parseForCompiler(input.path, input.bytes);
    if (!parsed.ok) {
      models.push(failureResult(base, parsed.failure, capacityLeft));
      continue;
    }
    const q = checkQuantized(input.path, parsed.ir);
    if (q) {
      models.push(failureResult(base, q, capacityLeft));
      continue;
    }
    for (const t of parsed.ir.graph.tensors) allNames.add(t.name);
    if (options.numSegments !== undefined) {
      if (parsed.ir.graph.ops.some((op) => op.type === 'CUSTOM' && op.customCode === 'edgetpu-custom-op')) {
        throw new KilnError(
          'E_BAD_ARGUMENT',
          `${input.path} is already compiled for the Edge TPU and cannot be segmented`,
          {
            hint: 'Give the uncompiled (CPU) .tflite model to -n',
          },
        );
      }
      const segs = splitByParameters(parsed.ir.graph, options.numSegments);
      segs.forEach((ids, i) => {
        const { model, origin } = extractSegment(parsed.ir.graph, ids);
        const bytes = writeTflite(toTflite(model));
        const path = joinOut(o.outDir, `${baseName(input.path)}_segment_${i}_of_${segs.length}.tflite`);
        // each segment runs on its own Edge TPU: a fresh cache
        models.push(
          analyze(
            { path, bytes, segment: { index: i, count: segs.length, source: input.path }, origin },
            m,
            o,
            o.cacheCapacityBytes,
            null,
            model,
          ),
        );
      });
      continue;
    }
    const r = analyze({ path: input.path, bytes: input.bytes }, m, o, capacityLeft, parsed.tflite, parsed.ir);
    capacityLeft -= r.memory.onChipUsedBytes;
    models.push(r);
    pending.push(r);
  }
  const missing = (options.intermediateTensors ?? []).filter((n) => !allNames.has(n));
  if (missing.length > 0 && allNames.size > 0) {
    throw new KilnError('E_BAD_ARGUMENT', `-i names tensors that are not in the model: ${missing.join(', ')}`, {
      hint: 'Use tensor names as `kiln inspect` lists them',
    });
  }
  // co-compiled models share one cache: every model reports the same remainder (docs/specs/edgetpu-compiler.md §4.7)
  if (pending.length > 1)
    for (const r of pending) if (r.memory.source === 'kiln-model') r.memory.onChipRemainingBytes = capacityLeft;
  return {
    minRuntime: m,
    options: o,
    models,
    ok: models.every((r) => r.failure === null),
    elapsedMs: Math.round(performance.now() - started),
  };
}

export { STATUS };
