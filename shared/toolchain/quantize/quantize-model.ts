import { KilnError } from '../../common/errors.js';
import { Graph } from '../ir/graph.js';
import { IrModel } from '../ir/model.js';
import { calibrate } from './calibrate.js';
import { calibrationSizeWarning } from './calibration-size.js';
import { openRunner, type CaptureRunner } from './capture.js';
import { CalibrationConfigSchema, type CalibrationConfig } from '../data/input-config.js';
import { loadCalibrationSet, SYNTHETIC_WARNING, type Sample } from '../data/dataset.js';
import { compareLayers, worstLayers, type LayerError } from './debugger.js';
import { runPasses } from './driver.js';
import { detectionPostprocessTensors, precheckModel, type PrecheckProblem } from './precheck.js';
import { DEFAULT_PERCENTILE, type RangeMethod } from './ranges.js';
import { statsById, type StatsFile } from './stats.js';

export interface QuantizeOptions {
  /** Calibration samples (float32, one array per model input). Without samples or stats: synthetic, with a warning. */
  samples?: Sample[];
  /** Where the samples came from ('images', 'npy', …) and what loading them warned about. */
  sampleSource?: string;
  sampleWarnings?: string[];
  /** A saved stats.json: quantize from it without calibrating. */
  stats?: StatsFile;
  method?: RangeMethod;
  percentile?: number;
  io?: 'uint8' | 'int8';
  allowFloatFallback?: boolean;
  /** Samples the per-layer debugger uses (0 = off). Default 16. */
  debugSamples?: number;
  /** For synthetic inputs: the normalization images would get. */
  calibration?: CalibrationConfig;
  onProgress?: (phase: 'calibrate' | 'debug', done: number, total: number) => void;
  /**
   * Executor with tensor capture (default: openRunner from capture.ts). Given, calibration runs in this thread with
   * it (no worker threads).
   */
  openRunner?: (model: IrModel) => Promise<CaptureRunner>;
  /**
   * Calibration threads, this one and worker threads each running Kiln's interpreter on a share of the samples
   * (default: one per available CPU; 1: this thread only). The statistics, and so the model, are the same for any count.
   */
  threads?: number;
}

export interface QuantizeReport {
  status: 'quantized' | 'passthrough';
  method: RangeMethod;
  io: 'uint8' | 'int8';
  calibration: { source: string; samples: number; synthetic: boolean; fromStats: boolean };
  ops: { total: number; float: string[] };
  /** Problems the compile stage's pre-checks would raise (empty for every model Kiln quantizes). */
  precheck: PrecheckProblem[];
  /** Per-tensor float vs dequantized error (empty when no samples were available for the debugger). */
  layers: LayerError[];
  worstLayers: LayerError[];
  debugSamples: number;
  warnings: string[];
}

export interface QuantizeResult {
  model: IrModel;
  /** The statistics used (null for a passthrough). */
  stats: StatsFile | null;
  report: QuantizeReport;
}

/** Whether a model is float, already quantized, or a mix Kiln cannot take. */
export function quantizationState(model: IrModel): 'float' | 'quantized' | 'mixed' {
  let float = 0;
  let quant = 0;
  for (const g of model.subgraphs) {
    // Float detection post-processing (TFLite_Detection_PostProcess, its inputs and outputs) is part of a full-integer
    // Edge TPU model, as in every compiled Coral SSD.
    const postprocess = detectionPostprocessTensors(g);
    for (const t of g.tensors) {
      if ((t.dtype === 'float32' || t.dtype === 'float16') && !postprocess.has(t.id)) float++;
      else if ((t.dtype === 'int8' || t.dtype === 'uint8') && t.quant) quant++;
    }
  }
  return float === 0 && quant > 0 ? 'quantized' : quant === 0 ? 'float' : 'mixed';
}

function cloneGraph(g: Graph): Graph {
  const c = new Graph();
  c.name = g.name;
  for (const t of g.tensors) {
    const { id: _id, ...spec } = t;
    c.addTensor({
      ...spec,
      shape: [...t.shape],
      ...(t.shapeSignature ? { shapeSignature: [...t.shapeSignature] } : {}),
      ...(t.quant ? { quant: structuredClone(t.quant) } : {}),
    });
  }
  for (const op of g.ops) {
    const { id: _id, ...spec } = op;
    c.addOp(spec);
  }
  c.inputs = [...g.inputs];
  c.outputs = [...g.outputs];
  return c;
}

/**
 * Float model → full-integer int8 model (TFLite int8 spec), ready for the Edge TPU compiler. Calibrates on the
 * samples (or re-applies `options.stats`), runs the quantization passes, checks the result against the compile
 * stage's pre-checks, and measures per-layer error. Already-quantized models pass through after a check.
 */
export async function quantizeModel(floatModel: IrModel, options: QuantizeOptions = {}): Promise<QuantizeResult> {
  const method = options.method ?? 'minmax';
  const io = options.io ?? 'uint8';
  const open = options.openRunner ?? openRunner;
  const state = quantizationState(floatModel);
  const baseReport = { method, io, ops: { total: floatModel.graph.ops.length, float: [] as string[] } };
  if (state === 'quantized') {
    const precheck = precheckModel(floatModel);
    const hard = precheck.filter((p) => p.rule !== 'static-shapes');
    if (hard.length > 0) {
      throw new KilnError(
        'E_UNSUPPORTED_TYPE',
        `the model is already quantized but not fully integer: ${hard[0]!.message}${hard.length > 1 ? ` (+${hard.length - 1} more)` : ''}`,
        {
          hint: 'Give Kiln the float model to quantize it from scratch',
        },
      );
    }
    const warnings = ['the model is already quantized: passed through unchanged (no re-quantization)'];
    if (precheck.length > 0)
      warnings.push(`${precheck.length} tensor(s) have dynamic shapes, e.g. ${precheck[0]!.tensor}`);
    return {
      model: floatModel,
      stats: null,
      report: {
        ...baseReport,
        status: 'passthrough',
        calibration: { source: 'none', samples: 0, synthetic: false, fromStats: false },
        precheck,
        layers: [],
        worstLayers: [],
        debugSamples: 0,
        warnings,
      },
    };
  }
  if (state === 'mixed') {
    throw new KilnError('E_UNSUPPORTED_TYPE', 'the model is partly quantized (both float32 and int8/uint8 tensors)', {
      hint: 'Give Kiln the float model (or a fully integer one, which passes through)',
    });
  }
  if (floatModel.subgraphs.length > 1) {
    throw new KilnError(
      'E_UNSUPPORTED_OP',
      `the model has ${floatModel.subgraphs.length} subgraphs (control flow); Kiln quantizes single-graph models`,
    );
  }

  const warnings: string[] = [...(options.sampleWarnings ?? [])];
  let samples = options.samples;
  let source = options.sampleSource ?? 'samples';
  let stats = options.stats;
  if (!stats && (!samples || samples.length === 0)) {
    const set = await loadCalibrationSet(
      undefined,
      floatModel.graph.inputs.map((i) => floatModel.graph.tensor(i)),
      options.calibration ?? CalibrationConfigSchema.parse({}),
      64,
    );
    samples = set.samples;
    source = set.source;
    warnings.push(...set.warnings);
  }
  if (!stats) {
    stats = await calibrate(floatModel, samples!, source, {
      ...(options.threads !== undefined ? { threads: options.threads } : {}),
      ...(options.openRunner ? { openRunner: options.openRunner } : {}),
      onSample: (d, n) => options.onProgress?.('calibrate', d, n),
    });
  }
  const byId = statsById(floatModel.graph, stats);
  if (stats.source === 'synthetic' && !warnings.includes(SYNTHETIC_WARNING)) warnings.push(SYNTHETIC_WARNING);
  const tooFew = stats.source === 'synthetic' ? null : calibrationSizeWarning(stats.samples);
  if (tooFew) warnings.push(tooFew);

  const g = cloneGraph(floatModel.graph);
  warnings.push(
    ...runPasses(g, byId, {
      method,
      percentile: options.percentile ?? DEFAULT_PERCENTILE,
      io,
      allowFloatFallback: options.allowFloatFallback ?? false,
    }),
  );
  const model = new IrModel(
    [g],
    floatModel.description,
    floatModel.metadata,
    floatModel.signatureDefs,
    floatModel.version,
  );

  const precheck = precheckModel(model);
  const floatOps = g.ops
    .filter((op) => op.outputs.some((t) => t >= 0 && g.tensor(t).dtype === 'float32'))
    .map((op) => op.type);
  if (precheck.length > 0 && floatOps.length === 0) {
    throw new KilnError('E_INTERNAL', `the quantized model fails the compile pre-checks: ${precheck[0]!.message}`);
  }

  const nDebug = Math.min(options.debugSamples ?? 16, samples?.length ?? 0);
  const layers =
    nDebug > 0
      ? await compareLayers(floatModel, model, samples!.slice(0, nDebug), open, (d, n) =>
          options.onProgress?.('debug', d, n),
        )
      : [];
  if (nDebug === 0) warnings.push('per-layer debugger skipped: no calibration samples (quantized from stats)');
  return {
    model,
    stats,
    report: {
      ...baseReport,
      ops: { total: g.ops.length, float: floatOps },
      status: 'quantized',
      calibration: {
        source: stats.source,
        samples: stats.samples,
        synthetic: stats.source === 'synthetic',
        fromStats: options.stats !== undefined,
      },
      precheck,
      layers,
      worstLayers: worstLayers(layers),
      debugSamples: nDebug,
      warnings,
    },
  };
}
