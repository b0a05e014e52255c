import { readFileSync } from 'node:fs';
import { compileModel, type ModelResult } from '../edgetpu/compile-model.js';
import { buildReport, type CompileReport } from '../edgetpu/report.js';
import { KilnError } from '../../common/errors.js';
import { fromTflite } from '../ir/from-tflite.js';
import type { Graph } from '../ir/graph.js';
import type { IrModel } from '../ir/model.js';
import { Interpreter } from '../interpreter/index.js';
import type { CaptureRunner } from '../quantize/capture.js';
import type { Sample } from '../data/dataset.js';
import { readTflite } from '../tflite/reader.js';
import { evaluateAccuracy, quantizeInput } from './accuracy/evaluate.js';
import type { TaskType } from './accuracy/task-type.js';
import { DEVICE_IDS, DEVICES } from './latency/devices.js';
import { estimateLatency } from './latency/estimate.js';
import { latencyPlan } from './latency/plan.js';
import { REPORT_SCHEMA, VerifyReportSchema, type LatencyEntry, type VerifyReport } from './report/schema.js';
import { verdictOf } from './report/verdict.js';

export interface VerifyInput {
  float: { name: string; bytes: Uint8Array };
  int8: { name: string; bytes: Uint8Array };
  /** compile-report.json of the int8 model (Kiln's or the real compiler's); without it Kiln's compiler model runs. */
  compileReport?: CompileReport;
  /** Validation samples (float32, one array per input) with labels, as loadValidationSet returns them. */
  validation: {
    samples: Sample[];
    labels: (number | null)[] | null;
    source: string;
    warnings: string[];
    /** Samples the data had before the loader stopped at the cap (default: samples.length). */
    available?: number | null;
  };
  /** Cap on samples run through both models. Default DEFAULT_MAX_SAMPLES. */
  maxSamples?: number;
  /** Worker threads for the accuracy runs (evaluateAccuracy's `threads`; default: one per CPU when worth it). */
  threads?: number;
  /** Samples also run through the per-layer debugger. Default 4. */
  debugSamples?: number;
  openRunner?: (m: IrModel) => Promise<CaptureRunner>;
  /** kiln.json `task`: overrides the task type read from the model's outputs. */
  task?: TaskType;
  onProgress?: (phase: string, done: number, total: number) => void;
  now?: () => Date;
}

/**
 * Validation samples verify scores by default: every one up to this many. Both models run on worker threads, one per
 * CPU (bench/build.bench.ts measures a 4M-parameter model with 1,000 validation images end to end).
 */
export const DEFAULT_MAX_SAMPLES = 2000;

/** Memory the loaded validation samples may take (float32 inputs): a cap for large inputs, below the stage's memory. */
export const VALIDATION_BYTES = 1 << 30;

/**
 * The sample cap for a model with these inputs: `max`, or fewer when that many float32 samples would not fit in
 * VALIDATION_BYTES (a 224×224×3 input: 1,783). Pure.
 */
export function sampleCap(inputs: { shape: number[] }[], max: number): { max: number; reason: string } {
  const bytes = inputs.reduce((a, t) => a + 4 * t.shape.reduce((x, y) => x * Math.max(1, y), 1), 0);
  const fit = Math.max(1, Math.floor(VALIDATION_BYTES / Math.max(1, bytes)));
  if (fit < max)
    return {
      max: fit,
      reason: `at most ${fit} samples: that many ${bytes}-byte inputs fill the ${VALIDATION_BYTES >> 20} MiB verify keeps samples in`,
    };
  return { max, reason: `at most ${max} samples (the cap: --max-samples, or verify.maxSamples in kiln.json)` };
}

function kilnVersion(): string {
  try {
    const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as {
      version: string;
    };
    return pkg.version;
  } catch {
    return 'unknown';
  }
}

function parseModel(bytes: Uint8Array, what: string): IrModel {
  try {
    return fromTflite(readTflite(bytes));
  } catch (e) {
    if (e instanceof KilnError) throw new KilnError(e.code, `${what}: ${e.message}`, { hint: e.hint });
    throw e;
  }
}

/** Op nodes (named by their first output) and data edges between ops, for the drawing. */
function graphOf(g: Graph, onTpu: (i: number) => boolean): VerifyReport['graph'] {
  const { producer } = g.index();
  const indexOfId = new Map(g.ops.map((op, i) => [op.id, i]));
  const edges: [number, number][] = [];
  g.ops.forEach((op, i) => {
    const seen = new Set<number>();
    for (const t of op.inputs) {
      const p = t >= 0 ? producer[t]! : -1;
      if (p >= 0 && !seen.has(p)) {
        seen.add(p);
        edges.push([indexOfId.get(g.ops[p]!.id) ?? p, i]);
      }
    }
  });
  return {
    nodes: g.ops.map((op, i) => ({
      index: i,
      opcode: op.type === 'CUSTOM' ? (op.customCode ?? 'CUSTOM') : op.type,
      name: op.outputs[0] !== undefined && op.outputs[0] >= 0 ? g.tensor(op.outputs[0]).name : `op ${i}`,
      onEdgeTpu: onTpu(i),
    })),
    edges,
    inputs: g.inputs.map((t) => g.tensor(t).name),
    outputs: g.outputs.map((t) => g.tensor(t).name),
  };
}

/** The compile facts verify needs: Kiln's compiler model on the int8 model, or the given report. */
function compileFacts(
  int8: VerifyInput['int8'],
  given: CompileReport | undefined,
  warnings: string[],
): { report: CompileReport; plan: ModelResult | null } {
  if (given && given.models.length <= 1) {
    // The latency plan needs the per-op placement and memory only; a report carries both.
    const m = given.models[0];
    const plan =
      given.status === 'ok' && m
        ? ({ failure: null, operations: given.operations, memory: given.memory } as unknown as ModelResult)
        : null;
    return { report: given, plan };
  }
  if (given) warnings.push('the compile report is segmented (-n): verify used Kiln compiler model on the whole model');
  const res = compileModel([{ path: int8.name, bytes: int8.bytes }]);
  const r = res.models[0]!;
  return { report: buildReport(res, null), plan: r.failure ? null : r };
}

/**
 * The verify stage as a plain async function: accuracy of the int8 model against the float model on the validation
 * samples (Kiln's interpreter), per-layer error (the quantizer's debugger), Edge TPU placement, memory and estimated
 * latency per device (Kiln's latency model), a verdict. Returns report.json (validated against its schema).
 */
export async function verifyModel(input: VerifyInput): Promise<VerifyReport> {
  const floatModel = parseModel(input.float.bytes, input.float.name);
  const int8Model = parseModel(input.int8.bytes, input.int8.name);
  if (floatModel.graph.inputs.length !== int8Model.graph.inputs.length)
    throw new KilnError('E_BAD_ARGUMENT', `${input.float.name} and ${input.int8.name} have different inputs`, {
      hint: 'Pass the float model and the int8 model made from it',
    });
  const warnings: string[] = [...input.validation.warnings];
  const cap = sampleCap(
    floatModel.graph.inputs.map((t) => floatModel.graph.tensor(t)),
    input.maxSamples ?? DEFAULT_MAX_SAMPLES,
  );
  const max = cap.max;
  const available = Math.max(input.validation.available ?? 0, input.validation.samples.length);
  const used = Math.min(max, input.validation.samples.length);
  const samples = input.validation.samples.slice(0, used);
  if (available > used) warnings.push(`accuracy uses ${used} of ${available} validation samples (${cap.reason})`);
  const t0 = performance.now();
  const acc = await evaluateAccuracy(floatModel, int8Model, samples, {
    labels: input.validation.labels?.slice(0, used) ?? null,
    debugSamples: input.debugSamples ?? 4,
    ...(input.openRunner ? { openRunner: input.openRunner } : {}),
    ...(input.task ? { task: input.task } : {}),
    ...(input.threads !== undefined ? { threads: input.threads } : {}),
    bytes: { float: input.float.bytes, int8: input.int8.bytes },
    onSample: (d, t) => input.onProgress?.('accuracy', d, t),
  });
  const runMs = Math.round(performance.now() - t0);
  warnings.push(...acc.warnings);

  const { report: cr, plan: compiled } = compileFacts(input.int8, input.compileReport, warnings);
  const g = int8Model.graph;
  const latency: Record<string, LatencyEntry> = {};
  if (compiled) {
    const plan = latencyPlan(g, compiled);
    let interpreterMs: Map<number, number> | undefined;
    if (plan.cpuOps.length > 0) {
      // CPU-fallback ops are timed on Kiln's interpreter (one int8 inference) and scaled to each host.
      const it = new Interpreter(int8Model);
      const first = samples[0] ?? g.inputs.map((t) => new Float32Array(g.tensor(t).shape.reduce((a, b) => a * b, 1)));
      const res = it.run(
        it.inputs.map((t, i) => quantizeInput(t, first[i]!)),
        { timings: true },
      );
      const index = new Map(g.ops.map((op, i) => [op.id, i]));
      interpreterMs = new Map((res.timings ?? []).map((t) => [index.get(t.opId) ?? -1, t.ms]));
    }
    for (const d of DEVICE_IDS) {
      const e = estimateLatency(plan, d, interpreterMs ? { interpreterMs } : {});
      latency[d] = {
        estimate: true,
        device: d,
        label: DEVICES[d].label,
        estimatedMs: Math.round(e.estimatedMs * 1000) / 1000,
        basis: e.basis,
        breakdown: e.breakdown,
      };
    }
  } else warnings.push('no latency estimate: the model does not compile for the Edge TPU');
  if (cr.compiler.kind === 'kiln-model')
    warnings.push(
      "op placement and memory come from Kiln's model of edgetpu_compiler 16 (a prediction), not from the real compiler",
    );

  const failed = cr.status === 'failed' ? (cr.models.find((m) => m.error)?.error ?? null) : null;
  const opName = (i: number): string => {
    const t = g.ops[i]?.outputs[0];
    return t !== undefined && t >= 0 ? g.tensor(t).name : `op ${i}`;
  };
  const edgeTpu: VerifyReport['edgeTpu'] = {
    totalOps: cr.totalOperations || g.ops.length,
    edgeTpuOps: cr.edgeTpuOperations,
    cpuOps: cr.cpuOperations,
    share: cr.totalOperations > 0 ? cr.edgeTpuOperations / cr.totalOperations : 0,
    subgraphs: cr.numEdgeTpuSubgraphs,
    compileStatus: cr.status,
    compileError: failed ? failed.message : null,
  };
  const accuracy: VerifyReport['accuracy'] = {
    kind: acc.kind,
    source: input.validation.source,
    samples: acc.samples,
    labelled: acc.labelled,
    cap: { used, available, max, reason: cap.reason },
    executor: input.openRunner
      ? 'custom runner'
      : acc.threads > 0
        ? `Kiln's interpreter on ${acc.threads} worker thread${acc.threads === 1 ? '' : 's'}`
        : "Kiln's interpreter",
    run: { ms: runMs, threads: acc.threads },
    classification: acc.classification,
    segmentation: acc.segmentation,
    detection: acc.detection,
    anchors: acc.anchors,
    keypoints: acc.keypoints,
    embedding: acc.embedding,
    outputs: acc.outputs,
  };
  const task: VerifyReport['task'] = { type: acc.task.type, source: acc.task.source, why: acc.task.why };
  const onTpu = new Map(cr.operations.map((o) => [o.index, o.onEdgeTpu]));
  const report: VerifyReport = {
    schema: REPORT_SCHEMA,
    createdAt: (input.now?.() ?? new Date()).toISOString(),
    model: { float: input.float.name, int8: input.int8.name },
    task,
    verdict: verdictOf({ edgeTpu, accuracy, task }),
    edgeTpu,
    latency,
    accuracy,
    layers: {
      debugSamples: acc.debugSamples,
      available: acc.layers !== null,
      all: acc.layers ?? [],
      worst: acc.worstLayers,
    },
    memory: {
      onChipUsedBytes: cr.memory.onChipUsedBytes,
      onChipRemainingBytes: cr.memory.onChipRemainingBytes,
      offChipStreamedBytes: cr.memory.offChipStreamedBytes,
      cacheCapacityBytes: cr.memory.cacheCapacityBytes,
      source: cr.memory.source,
      estimate: cr.memory.source === 'kiln-model',
    },
    operations: cr.operations.map((o) => ({
      index: o.index,
      opcode: o.opcode,
      name: opName(o.index),
      status: o.status,
      onEdgeTpu: o.onEdgeTpu,
      reason: o.reason,
      fix: o.fix,
    })),
    graph: graphOf(g, (i) => onTpu.get(i) ?? false),
    versions: {
      kiln: kilnVersion(),
      compiler: cr.compiler,
      minRuntimeVersion: cr.minRuntimeVersion,
      node: process.version,
    },
    warnings,
  };
  return VerifyReportSchema.parse(report);
}
