import { z } from 'zod';
import type { IrModel } from '../../ir/model.js';

/** What the model does, which decides the accuracy metrics and verdict rules (docs/report.md). */
export const TASK_TYPES = ['classifier', 'detector', 'segmenter', 'pose', 'embedding', 'regression', 'other'] as const;
export type TaskType = (typeof TASK_TYPES)[number];
/** kiln.json `task` (e.g. `"task": "detector"`), when the outputs do not say what the model does. */
export const TaskSettingSchema = z.enum(TASK_TYPES);

/** The metric family a task is scored with. */
export type MetricKind =
  'classification' | 'segmentation' | 'detection' | 'anchors' | 'keypoints' | 'embedding' | 'tensor';

/** One graph output as the rules see it. */
export interface OutputFacts {
  name: string;
  shape: number[];
  /** Opcode (custom code for CUSTOM ops) of the op that produces it, null for a graph input or constant. */
  producer: string | null;
}

export interface TaskFacts {
  outputs: OutputFacts[];
  /** Graph-output positions of TFLite_Detection_PostProcess's boxes, classes, scores and count, or null. */
  detection: [number, number, number, number] | null;
}

export interface Task {
  type: TaskType;
  metrics: MetricKind;
  /** Where the type came from: the model's outputs, or kiln.json `task`. */
  source: 'model' | 'kiln.json';
  /** Why (the rule that matched, in words). */
  why: string;
}

/** Raw anchor detector heads: per anchor count A, the outputs [1,A,K≥4] (boxes) and [1,A,C<K] (scores). */
export interface AnchorHead {
  boxes: number;
  scores: number;
}

const DETECTION_CODE = 'TFLite_Detection_PostProcess';
const nonUnit = (s: number[]): number[] => s.filter((d) => d !== 1);
const isVector = (s: number[]): boolean => nonUnit(s).length <= 1;
const numel = (s: number[]): number => s.reduce((a, b) => a * b, 1);

/** Pairs of outputs [1,A,K] / [1,A,C] with the same anchor count A > 1, K ≥ 4 and C < K (BlazeFace, raw SSD heads). */
export function anchorHeads(outputs: readonly OutputFacts[]): AnchorHead[] {
  const rank3 = outputs.map((o, i) => ({ i, s: o.shape })).filter(({ s }) => s.length === 3 && s[0] === 1 && s[1]! > 1);
  const heads: AnchorHead[] = [];
  for (const b of rank3) {
    if (b.s[2]! < 4) continue;
    const sc = rank3.find((o) => o.i !== b.i && o.s[1] === b.s[1] && o.s[2]! < b.s[2]!);
    if (sc) heads.push({ boxes: b.i, scores: sc.i });
  }
  return heads;
}

/** Keypoint outputs: coordinates [1,(1,)K,2|3] with K ≥ 4, or heatmaps [1,H,W,K] beside offsets [1,H,W,2K]. */
export function keypointOutputs(outputs: readonly OutputFacts[]): { coords: number | null; heatmaps: number | null } {
  const coords = outputs.findIndex((o) => {
    const s = o.shape;
    const last = s[s.length - 1]!;
    return (
      s.length >= 3 && s[0] === 1 && (last === 2 || last === 3) && s[s.length - 2]! >= 4 && numel(s.slice(1, -2)) === 1
    );
  });
  const heatmaps = outputs.findIndex(
    (o) =>
      o.shape.length === 4 &&
      outputs.some(
        (p) =>
          p.shape.length === 4 &&
          p.shape[1] === o.shape[1] &&
          p.shape[2] === o.shape[2] &&
          p.shape[3] === 2 * o.shape[3]! &&
          o.shape[3]! >= 4,
      ),
  );
  return { coords: coords >= 0 ? coords : null, heatmaps: heatmaps >= 0 ? heatmaps : null };
}

const isSegmentation = (o: OutputFacts): boolean => {
  const [n, h, w] = o.shape;
  if (n !== 1 || !(h! > 1 && w! > 1)) return false;
  if (o.shape.length === 4) return true;
  // [1,H,W]: a mask (ARG_MAX) or an image-shaped map, not a list of anchors.
  return o.shape.length === 3 && (o.producer === 'ARG_MAX' || (h! * w! >= 64 && h! / w! <= 4 && w! / h! <= 4));
};

/**
 * The rules, first match wins. Each names its task, its metrics and why, in words that go into report.json.
 * Detection and pose rules look at every output; the others at the first (the model's main output).
 */
const RULES: { type: TaskType; metrics: MetricKind; why: string; test: (f: TaskFacts) => boolean }[] = [
  {
    type: 'detector',
    metrics: 'detection',
    why: "outputs are TFLite_Detection_PostProcess's boxes, classes, scores and count",
    test: (f) => f.detection !== null,
  },
  {
    type: 'detector',
    metrics: 'anchors',
    why: 'outputs pair per-anchor boxes [1,A,≥4] with per-anchor scores [1,A,C] (raw detector head)',
    test: (f) => anchorHeads(f.outputs).length > 0,
  },
  {
    type: 'pose',
    metrics: 'keypoints',
    why: 'an output is keypoint coordinates [1,K,2|3] or heatmaps [1,H,W,K] with offsets [1,H,W,2K]',
    test: (f) => {
      const k = keypointOutputs(f.outputs);
      return k.coords !== null || k.heatmaps !== null;
    },
  },
  {
    type: 'segmenter',
    metrics: 'segmentation',
    why: 'the first output is a per-pixel map [1,H,W(,C)]',
    test: (f) => isSegmentation(f.outputs[0]!),
  },
  {
    type: 'embedding',
    metrics: 'embedding',
    why: 'the first output is a vector from L2_NORMALIZATION or named as an embedding',
    test: (f) => {
      const o = f.outputs[0]!;
      return isVector(o.shape) && numel(o.shape) >= 2 && (o.producer === 'L2_NORMALIZATION' || /embed/i.test(o.name));
    },
  },
  {
    type: 'classifier',
    metrics: 'classification',
    why: 'the first output is one vector of class scores',
    test: (f) => isVector(f.outputs[0]!.shape) && numel(f.outputs[0]!.shape) >= 2,
  },
  {
    type: 'regression',
    metrics: 'tensor',
    why: 'every output is a single number',
    test: (f) => f.outputs.every((o) => numel(o.shape) === 1),
  },
];

/** Metric family of a task set in kiln.json, given what the outputs allow (a detector without boxes gets tensor metrics). */
const OVERRIDE_METRICS: Record<TaskType, (f: TaskFacts) => MetricKind> = {
  detector: (f) => (f.detection ? 'detection' : anchorHeads(f.outputs).length > 0 ? 'anchors' : 'tensor'),
  classifier: (f) => (isVector(f.outputs[0]!.shape) && numel(f.outputs[0]!.shape) >= 2 ? 'classification' : 'tensor'),
  segmenter: (f) => (isSegmentation(f.outputs[0]!) ? 'segmentation' : 'tensor'),
  pose: (f) => {
    const k = keypointOutputs(f.outputs);
    return k.coords !== null || k.heatmaps !== null ? 'keypoints' : 'tensor';
  },
  embedding: (f) => (isVector(f.outputs[0]!.shape) && numel(f.outputs[0]!.shape) >= 2 ? 'embedding' : 'tensor'),
  regression: () => 'tensor',
  other: () => 'tensor',
};

/** The task of a model from its output facts (pure), or from kiln.json's `task` when set. */
export function taskOf(f: TaskFacts, override?: TaskType): Task {
  if (override) {
    const metrics = OVERRIDE_METRICS[override](f);
    return {
      type: override,
      metrics,
      source: 'kiln.json',
      why:
        metrics === 'tensor' && override !== 'regression' && override !== 'other'
          ? `set by kiln.json "task"; the outputs have no ${override} shape Kiln can score, so only output SNR is measured`
          : 'set by kiln.json "task"',
    };
  }
  const rule = RULES.find((r) => r.test(f));
  return rule
    ? { type: rule.type, metrics: rule.metrics, source: 'model', why: rule.why }
    : {
        type: 'other',
        metrics: 'tensor',
        source: 'model',
        why: 'no rule matched the outputs: only output SNR is measured',
      };
}

/**
 * Where TFLite_Detection_PostProcess's boxes, classes, scores and count (its output order) sit among the graph outputs,
 * or null when the op's four outputs are not all graph outputs. Converters may list them in another order (TF2 Object
 * Detection API exports list the scores first), and a model may have more outputs (an LSTM state, as Google's
 * traffic_model), so the metrics read them by this map rather than by position.
 */
export function detectionOutputOrder(model: IrModel): [number, number, number, number] | null {
  const g = model.graph;
  for (const op of g.ops) {
    if (op.type !== 'CUSTOM' || op.customCode !== DETECTION_CODE || op.outputs.length !== 4) continue;
    const at = op.outputs.map((t) => g.outputs.indexOf(t));
    if (at.every((i) => i >= 0) && new Set(at).size === 4) return at as [number, number, number, number];
  }
  return null;
}

/** The facts the rules read, from a model. */
export function taskFacts(model: IrModel): TaskFacts {
  const g = model.graph;
  const { producer } = g.index();
  return {
    outputs: g.outputs.map((id) => {
      const t = g.tensor(id);
      const p = producer[id] ?? -1;
      const op = p >= 0 ? g.ops[p]! : null;
      return {
        name: t.name,
        shape: [...t.shape],
        producer: op ? (op.type === 'CUSTOM' ? (op.customCode ?? 'CUSTOM') : op.type) : null,
      };
    }),
    detection: detectionOutputOrder(model),
  };
}

export function taskOfModel(model: IrModel, override?: TaskType): Task {
  return taskOf(taskFacts(model), override);
}
