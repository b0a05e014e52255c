import { z } from 'zod';
import { TASK_TYPES } from '../accuracy/task-type.js';
import { TrainingReportSchema } from './training.js';

/**
 * report.json, the verify stage's source of truth (report.html is rendered from it alone). Versioned by `schema`;
 * every estimated figure carries `estimate: true` and says what it is based on.
 */
export const REPORT_SCHEMA = 'kiln.verify-report/1' as const;

const LayerErrorSchema = z.object({
  tensor: z.string(),
  op: z.string(),
  mse: z.number(),
  maxAbs: z.number(),
  snrDb: z.number(),
});

export const LatencyEntrySchema = z.object({
  estimate: z.literal(true),
  device: z.string(),
  label: z.string(),
  estimatedMs: z.number(),
  basis: z.string(),
  breakdown: z.record(z.string(), z.number()),
});

const OperationSchema = z.object({
  index: z.number().int(),
  opcode: z.string(),
  /** Name of the op's first output tensor (what people recognise the layer by). */
  name: z.string(),
  status: z.string(),
  onEdgeTpu: z.boolean(),
  reason: z.string(),
  fix: z.string().nullable(),
});

export const VerifyReportSchema = z.object({
  schema: z.literal(REPORT_SCHEMA),
  createdAt: z.string(),
  model: z.object({ float: z.string(), int8: z.string() }),
  /** What the model does (from its outputs, or kiln.json `task`); decides the metrics and verdict rules. */
  task: z.object({ type: z.enum(TASK_TYPES), source: z.enum(['model', 'kiln.json']), why: z.string() }),
  verdict: z.object({
    level: z.enum(['good', 'warn', 'bad']),
    /** level !== 'bad': the model can be deployed (with caveats when 'warn'). */
    ready: z.boolean(),
    headline: z.string(),
    reasons: z.array(z.string()),
    /** One line for every place that shows the verdict (CLI, events, results page): headline, task and first reason. */
    line: z.string(),
  }),
  edgeTpu: z.object({
    totalOps: z.number().int(),
    edgeTpuOps: z.number().int(),
    cpuOps: z.number().int(),
    /** edgeTpuOps / totalOps. */
    share: z.number(),
    subgraphs: z.number().int(),
    compileStatus: z.enum(['ok', 'failed']),
    compileError: z.string().nullable(),
  }),
  latency: z.record(z.string(), LatencyEntrySchema),
  accuracy: z.object({
    /** Metric family of the task (`anchors`: raw detector heads without TFLite_Detection_PostProcess). */
    kind: z.enum(['classification', 'segmentation', 'detection', 'anchors', 'keypoints', 'embedding', 'tensor']),
    source: z.string(),
    samples: z.number().int(),
    labelled: z.number().int(),
    /** Samples run through both models out of those available (float models are slow on Kiln's interpreter). */
    cap: z.object({
      used: z.number().int(),
      available: z.number().int().nullable(),
      /** The cap itself (kiln verify --max-samples, kiln.json verify.maxSamples, or the default). */
      max: z.number().int().optional(),
      reason: z.string(),
    }),
    executor: z.string(),
    /** Wall time of running both models over the samples, and the worker threads that ran them (0: this thread). */
    run: z.object({ ms: z.number(), threads: z.number().int() }).optional(),
    classification: z
      .object({
        floatTop1: z.number().nullable(),
        floatTop5: z.number().nullable(),
        int8Top1: z.number().nullable(),
        int8Top5: z.number().nullable(),
        top1Change: z.number().nullable(),
        top1Agreement: z.number(),
      })
      .nullable(),
    segmentation: z.object({ pixelAgreement: z.number(), meanIoU: z.number(), classesSeen: z.number() }).nullable(),
    detection: z
      .object({
        iouThreshold: z.number(),
        minScore: z.number(),
        floatBoxes: z.number(),
        int8Boxes: z.number(),
        matched: z.number(),
        matchRate: z.number(),
        meanMatchedIoU: z.number(),
      })
      .nullable(),
    anchors: z
      .object({
        heads: z.number(),
        minScore: z.number(),
        floatAnchors: z.number(),
        int8Anchors: z.number(),
        matched: z.number(),
        matchRate: z.number(),
        agreement: z.number(),
        meanBoxError: z.number(),
      })
      .nullable(),
    keypoints: z
      .object({
        keypoints: z.number(),
        withinTolerance: z.number(),
        meanDistance: z.number(),
        tolerance: z.number(),
        unit: z.string(),
      })
      .nullable(),
    embedding: z.object({ meanCosine: z.number(), minCosine: z.number() }).nullable(),
    outputs: z.array(z.object({ name: z.string(), snrDb: z.number(), maxAbsError: z.number(), mse: z.number() })),
  }),
  layers: z.object({
    debugSamples: z.number().int(),
    available: z.boolean(),
    all: z.array(LayerErrorSchema),
    worst: z.array(LayerErrorSchema),
  }),
  memory: z.object({
    onChipUsedBytes: z.number(),
    onChipRemainingBytes: z.number(),
    offChipStreamedBytes: z.number(),
    cacheCapacityBytes: z.number(),
    source: z.string(),
    estimate: z.boolean(),
  }),
  operations: z.array(OperationSchema),
  graph: z.object({
    nodes: z.array(z.object({ index: z.number().int(), opcode: z.string(), name: z.string(), onEdgeTpu: z.boolean() })),
    /** [producer op index, consumer op index]. */
    edges: z.array(z.tuple([z.number().int(), z.number().int()])),
    inputs: z.array(z.string()),
    outputs: z.array(z.string()),
  }),
  versions: z.object({
    kiln: z.string(),
    compiler: z.object({ kind: z.string(), version: z.string() }),
    minRuntimeVersion: z.number(),
    node: z.string(),
  }),
  warnings: z.array(z.string()),
  /** Models Kiln trained from a labelled image set: the training block (training.ts). */
  training: TrainingReportSchema.optional(),
});

export type VerifyReport = z.infer<typeof VerifyReportSchema>;
export type LatencyEntry = z.infer<typeof LatencyEntrySchema>;
