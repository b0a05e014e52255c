import type { IrModel } from '../../ir/model.js';
import { toTflite } from '../../ir/to-tflite.js';
import { WORKER_WORTH_MS } from '../../quantize/calibration-pool.js';
import { writeTflite } from '../../tflite/writer.js';
import type { Tensor } from '../../ir/types.js';
import { openInterpreterRunner, type CaptureRunner, type TensorValue } from '../../quantize/capture.js';
import type { Sample } from '../../data/dataset.js';
import { compareLayers, worstLayers, type LayerError } from '../../quantize/debugger.js';
import { feedInput } from '../../data/feed.js';
import { quantizationState } from '../../quantize/quantize-model.js';
import {
  addClassification,
  addDetections,
  addErrors,
  addSegmentation,
  classMask,
  detectionsOf,
  emptyClassification,
  emptyDetection,
  emptySegmentation,
  emptySums,
  meanIoU,
  snrDb,
  type ErrorSums,
} from './metrics.js';
import {
  addAnchors,
  addEmbedding,
  addKeypointCoords,
  addKeypointHeatmaps,
  emptyAnchors,
  emptyEmbedding,
  emptyKeypoints,
} from './task-metrics.js';
import {
  anchorHeads,
  detectionOutputOrder,
  keypointOutputs,
  taskFacts,
  taskOf,
  type MetricKind,
  type Task,
  type TaskType,
} from './task-type.js';
import { defaultVerifyThreads, runPairsInWorkers } from './verify-pool.js';

export interface AccuracyOptions {
  /** Labels per sample (class index or null), or null for unlabelled data. */
  labels?: (number | null)[] | null;
  /** How many of the samples also go through the per-layer debugger (capturing every tensor). Default 4. */
  debugSamples?: number;
  /** Executor (default: Kiln's interpreter). */
  openRunner?: (m: IrModel) => Promise<CaptureRunner>;
  /** Detections (and raw anchors) below this score are ignored in box matching. Default 0.3. */
  minScore?: number;
  onSample?: (done: number, total: number) => void;
  /** kiln.json `task`: overrides the task type read from the outputs. */
  task?: TaskType;
  /**
   * Worker threads that run both models on the samples past the debugger's: 1 runs them in this thread; n > 1 starts
   * n workers; unset (or 0) starts one per CPU when the work (timed on the first sample here) is worth a worker's
   * start-up. A custom `openRunner` always runs here.
   */
  threads?: number;
  /** The models' .tflite bytes, for the workers (default: written from the IR models). */
  bytes?: { float: Uint8Array; int8: Uint8Array };
}

export interface AccuracyResult {
  /** The metric family (the task's). */
  kind: MetricKind;
  task: Task;
  samples: number;
  labelled: number;
  classification: {
    floatTop1: number | null;
    floatTop5: number | null;
    int8Top1: number | null;
    int8Top5: number | null;
    /** int8 − float top-1 (fraction), null without labels. */
    top1Change: number | null;
    top1Agreement: number;
  } | null;
  segmentation: { pixelAgreement: number; meanIoU: number; classesSeen: number } | null;
  detection: {
    iouThreshold: number;
    minScore: number;
    floatBoxes: number;
    int8Boxes: number;
    matched: number;
    /** Matched float boxes / float boxes. */
    matchRate: number;
    meanMatchedIoU: number;
  } | null;
  /** Raw anchor detector heads: best anchor and top-k anchors of int8 against float. */
  anchors: {
    heads: number;
    minScore: number;
    floatAnchors: number;
    int8Anchors: number;
    matched: number;
    /** Float-confident anchors int8 is also confident about / float-confident anchors. */
    matchRate: number;
    /** Anchors both are confident about / anchors either is confident about (int8's false alarms count too). */
    agreement: number;
    meanBoxError: number;
  } | null;
  /** Pose: share of keypoints int8 places within `tolerance` of float. */
  keypoints: {
    keypoints: number;
    withinTolerance: number;
    meanDistance: number;
    tolerance: number;
    unit: string;
  } | null;
  /** Embeddings: cosine similarity of int8 to float. */
  embedding: { meanCosine: number; minCosine: number } | null;
  outputs: { name: string; snrDb: number; maxAbsError: number; mse: number }[];
  /** Per-tensor float vs int8 error (quantizer's debugger), null when the two models' tensors do not correspond. */
  layers: LayerError[] | null;
  worstLayers: LayerError[];
  debugSamples: number;
  /** Worker threads that ran the samples past the debugger's (0: all ran in this thread). */
  threads: number;
  warnings: string[];
}

/** Float input → the int8 model's input dtype (as the quantizer's debugger does it). */
export const quantizeInput = feedInput;

/** An output value as floats (dequantized when the tensor is quantized). */
export function dequantized(t: Tensor, v: TensorValue): Float64Array {
  const out = new Float64Array(v.data.length);
  const q = t.quant && (v.dtype === 'int8' || v.dtype === 'uint8' || v.dtype === 'int16') ? t.quant : null;
  for (let i = 0; i < out.length; i++) {
    const x = Number(v.data[i]!);
    out[i] = q ? q.scale[0]! * (x - q.zeroPoint[0]!) : x;
  }
  return out;
}

/**
 * Share of the float model's activation tensors that have the same id and name in the int8 model: the debugger pairs
 * tensors by id, which is only meaningful for an int8 model made from this float model by Kiln's quantizer.
 */
export function tensorCorrespondence(floatModel: IrModel, int8Model: IrModel): number {
  const fg = floatModel.graph;
  const qg = int8Model.graph;
  const acts = fg.tensors.filter((t) => !fg.isConstant(t.id));
  if (acts.length === 0) return 0;
  return acts.filter((t) => qg.tensors[t.id]?.name === t.name).length / acts.length;
}

/** Runs both models on every sample (the first `debugSamples` with tensor capture for the debugger) and scores them. */
export async function evaluateAccuracy(
  floatModel: IrModel,
  int8Model: IrModel,
  samples: Sample[],
  o: AccuracyOptions = {},
): Promise<AccuracyResult> {
  const open = o.openRunner ?? openInterpreterRunner;
  const facts = taskFacts(floatModel);
  const task = taskOf(facts, o.task);
  const kind = task.metrics;
  const warnings: string[] = [];
  const outputsF: TensorValue[][] = [];
  const outputsQ: TensorValue[][] = [];
  // An upload that was already quantized passes through the quantizer unchanged: its "float" reference is the int8
  // model itself, which takes quantized inputs and has no float tensors to compare layer by layer.
  // (A float model may have integer inputs — token ids, int32 pixels — so the test is the tensors' quantization.)
  const referenceQuantized = quantizationState(floatModel) === 'quantized';
  const corresponds = !referenceQuantized && tensorCorrespondence(floatModel, int8Model) >= 0.5;
  if (referenceQuantized)
    warnings.push(
      'the uploaded model was already quantized, so there is no float model to compare with: the accuracy figures compare the model with itself and do not measure quantization loss',
    );
  else if (!corresponds)
    warnings.push(
      "per-layer error not available: the int8 model's tensors do not correspond to the float model's (it was not made from this float model by Kiln's quantizer)",
    );
  const nDebug = corresponds ? Math.min(samples.length, o.debugSamples ?? 4) : 0;
  let done = 0;
  const recording = async (m: IrModel): Promise<CaptureRunner> => {
    const r = await open(m);
    const sink = m === floatModel ? outputsF : outputsQ;
    return {
      inputs: r.inputs,
      outputs: r.outputs,
      run: async (inputs, opts) => {
        const res = await r.run(inputs, opts);
        // Copy: an executor may reuse its output buffers on the next run.
        sink.push(res.outputs.map((v) => ({ ...v, data: v.data.slice() })));
        if (m !== floatModel) o.onSample?.(++done, samples.length);
        return res;
      },
      close: () => r.close?.(),
    };
  };
  const layers = nDebug > 0 ? await compareLayers(floatModel, int8Model, samples.slice(0, nDebug), recording) : null;
  let threads = 0;
  if (samples.length > nDebug) {
    const rest = samples.slice(nDebug);
    const fr = await recording(floatModel);
    const qr = await recording(int8Model);
    let next = 0;
    const runHere = async (): Promise<void> => {
      const s = rest[next++]!;
      await fr.run(fr.inputs.map((t, i) => quantizeInput(t, s[i]!)));
      await qr.run(qr.inputs.map((t, i) => quantizeInput(t, s[i]!)));
    };
    try {
      let wanted = o.openRunner ? 1 : (o.threads ?? 0);
      if (wanted <= 0) {
        const t0 = performance.now();
        await runHere();
        const leftMs = (performance.now() - t0) * (rest.length - next);
        wanted = leftMs >= WORKER_WORTH_MS ? defaultVerifyThreads() : 1;
      }
      if (wanted > 1 && next < rest.length) {
        const bytes = o.bytes ?? {
          float: writeTflite(toTflite(floatModel)),
          int8: writeTflite(toTflite(int8Model)),
        };
        const base = done;
        const res = await runPairsInWorkers(bytes, rest.slice(next), {
          threads: wanted,
          onSample: (d) => o.onSample?.((done = base + d), samples.length),
        });
        outputsF.push(...res.float);
        outputsQ.push(...res.int8);
        threads = res.threads;
      } else while (next < rest.length) await runHere();
    } finally {
      fr.close?.();
      qr.close?.();
    }
  }
  const fOut = floatModel.graph.outputs.map((id) => floatModel.graph.tensor(id));
  const qOut = int8Model.graph.outputs.map((id) => int8Model.graph.tensor(id));
  const sums: ErrorSums[] = fOut.map(() => emptySums());
  const cls = emptyClassification();
  const seg = emptySegmentation();
  const det = emptyDetection();
  const anc = emptyAnchors();
  const kp = emptyKeypoints();
  const emb = emptyEmbedding();
  const heads = kind === 'anchors' ? anchorHeads(facts.outputs) : [];
  const kpOut = kind === 'keypoints' ? keypointOutputs(facts.outputs) : null;
  const minScore = o.minScore ?? 0.3;
  // Boxes, classes, scores, count where the op's outputs sit among the graph outputs; an int8 model whose outputs are
  // not the op's own (e.g. behind QUANTIZE) keeps the float model's output positions.
  const floatOrder = kind === 'detection' ? detectionOutputOrder(floatModel) : null;
  const int8Order = floatOrder ? (detectionOutputOrder(int8Model) ?? floatOrder) : null;
  for (let s = 0; s < samples.length; s++) {
    const f = fOut.map((t, i) => dequantized(t, outputsF[s]![i]!));
    const q = qOut.map((t, i) => dequantized(t, outputsQ[s]![i]!));
    f.forEach((v, i) => addErrors(sums[i]!, v, q[i]!));
    if (kind === 'classification') addClassification(cls, f[0]!, q[0]!, o.labels?.[s] ?? null);
    else if (kind === 'segmentation') {
      const shape = fOut[0]!.shape;
      const channels = shape.length === 4 ? shape[3]! : 1;
      addSegmentation(seg, classMask(f[0]!, channels), classMask(q[0]!, channels));
    } else if (kind === 'detection') {
      const dets = (v: Float64Array[], [b, c, sc, n]: number[]) =>
        detectionsOf(v[b]!, v[c]!, v[sc]!, v[n]![0]!, minScore);
      addDetections(det, dets(f, floatOrder!), dets(q, int8Order!), 0.5);
    } else if (kind === 'anchors') {
      for (const h of heads)
        addAnchors(
          anc,
          { scores: f[h.scores]!, boxes: f[h.boxes]! },
          { scores: q[h.scores]!, boxes: q[h.boxes]! },
          fOut[h.scores]!.shape[1]!,
          minScore,
        );
    } else if (kind === 'keypoints' && kpOut) {
      if (kpOut.coords !== null) {
        const shape = fOut[kpOut.coords]!.shape;
        addKeypointCoords(kp, f[kpOut.coords]!, q[kpOut.coords]!, shape[shape.length - 1]!);
      } else {
        const shape = fOut[kpOut.heatmaps!]!.shape;
        addKeypointHeatmaps(kp, f[kpOut.heatmaps!]!, q[kpOut.heatmaps!]!, shape[2]!, shape[3]!);
      }
    } else if (kind === 'embedding') addEmbedding(emb, f[0]!, q[0]!);
  }
  if (kind === 'anchors' && samples.length > 0 && anc.reference + anc.predicted === 0)
    warnings.push(
      `neither model is confident (score ≥ ${minScore}) about any anchor on the ${samples.length} samples: the anchor agreement (1 by convention) measures nothing; validate with images that show objects`,
    );
  if (kind === 'detection' && samples.length > 0 && det.reference === 0)
    warnings.push(
      `the float model detected nothing with score ≥ ${minScore} on the ${samples.length} samples: the box match rate (1 by convention) measures nothing; validate with images that show objects`,
    );
  const frac = (a: number, b: number): number | null => (b > 0 ? a / b : null);
  const labelled = cls.labelled;
  return {
    kind,
    task,
    samples: samples.length,
    labelled,
    classification:
      kind === 'classification'
        ? {
            floatTop1: frac(cls.floatTop1, labelled),
            floatTop5: frac(cls.floatTop5, labelled),
            int8Top1: frac(cls.int8Top1, labelled),
            int8Top5: frac(cls.int8Top5, labelled),
            top1Change: labelled > 0 ? (cls.int8Top1 - cls.floatTop1) / labelled : null,
            top1Agreement: cls.agreeTop1 / Math.max(1, cls.samples),
          }
        : null,
    segmentation:
      kind === 'segmentation'
        ? { pixelAgreement: seg.agree / Math.max(1, seg.pixels), meanIoU: meanIoU(seg), classesSeen: seg.perClass.size }
        : null,
    detection:
      kind === 'detection'
        ? {
            iouThreshold: 0.5,
            minScore,
            floatBoxes: det.reference,
            int8Boxes: det.predicted,
            matched: det.matched,
            matchRate: det.reference > 0 ? det.matched / det.reference : 1,
            meanMatchedIoU: det.matched > 0 ? det.sumIoU / det.matched : 0,
          }
        : null,
    anchors:
      kind === 'anchors'
        ? {
            heads: heads.length,
            minScore,
            floatAnchors: anc.reference,
            int8Anchors: anc.predicted,
            matched: anc.matched,
            matchRate: anc.reference > 0 ? anc.matched / anc.reference : 1,
            agreement:
              anc.reference + anc.predicted > 0 ? anc.matched / (anc.reference + anc.predicted - anc.matched) : 1,
            meanBoxError: anc.matched > 0 ? anc.sumBoxError / anc.matched : 0,
          }
        : null,
    keypoints:
      kind === 'keypoints' && kp.keypoints > 0
        ? {
            keypoints: kp.keypoints,
            withinTolerance: kp.within / kp.keypoints,
            meanDistance: kp.sumDistance / kp.keypoints,
            tolerance: kp.tolerance,
            unit: kp.unit,
          }
        : null,
    embedding:
      kind === 'embedding' && emb.samples > 0
        ? { meanCosine: emb.sumCosine / emb.samples, minCosine: emb.minCosine }
        : null,
    outputs: fOut.map((t, i) => ({
      name: t.name,
      snrDb: snrDb(sums[i]!),
      maxAbsError: sums[i]!.maxAbs,
      mse: sums[i]!.n > 0 ? sums[i]!.sumSqErr / sums[i]!.n : 0,
    })),
    layers,
    worstLayers: layers ? worstLayers(layers, 3) : [],
    debugSamples: nDebug,
    threads,
    warnings,
  };
}
