import type { IrModel } from '../../ir/model.js';

/** What a model's outputs are, which decides the accuracy metrics. */
export type OutputKind = 'classification' | 'segmentation' | 'detection' | 'tensor';

const DETECTION_CODE = 'TFLite_Detection_PostProcess';

/**
 * Rules in order (first match wins), on the first graph output:
 * - detection: the four graph outputs are TFLite_Detection_PostProcess's (boxes, classes, scores, count; any order);
 * - segmentation: [1,H,W,C] or [1,H,W] with H,W > 1 (class scores per pixel, or a mask);
 * - classification: one vector of ≥ 2 scores ([N], [1,N], [1,1,1,N]);
 * - tensor: anything else (only tensor error metrics).
 */
const RULES: { kind: OutputKind; test: (m: IrModel, shape: number[]) => boolean }[] = [
  { kind: 'detection', test: (m) => detectionOutputOrder(m) !== null },
  {
    kind: 'segmentation',
    test: (_m, s) => (s.length === 4 || s.length === 3) && s[0] === 1 && s[1]! > 1 && s[2]! > 1,
  },
  { kind: 'classification', test: (_m, s) => s.filter((d) => d !== 1).length === 1 && s[s.length - 1]! >= 2 },
];

/**
 * Where TFLite_Detection_PostProcess's boxes, classes, scores and count (its output order) sit among the graph outputs,
 * or null when the graph outputs are not that op's four outputs. Converters may list them in another order (TF2 Object
 * Detection API exports list the scores first), so the metrics read them by this map rather than by position.
 */
export function detectionOutputOrder(model: IrModel): [number, number, number, number] | null {
  const g = model.graph;
  const { producer } = g.index();
  const p = g.outputs.length === 4 && g.outputs[0]! >= 0 ? (producer[g.outputs[0]!] ?? -1) : -1;
  const op = p >= 0 ? g.ops[p]! : null;
  if (!op || op.customCode !== DETECTION_CODE || op.outputs.length !== 4) return null;
  const at = op.outputs.map((t) => g.outputs.indexOf(t));
  return at.every((i) => i >= 0) && new Set(at).size === 4 ? (at as [number, number, number, number]) : null;
}

export function outputKind(model: IrModel): OutputKind {
  const g = model.graph;
  const shape = g.tensor(g.outputs[0]!).shape;
  return RULES.find((r) => r.test(model, shape))?.kind ?? 'tensor';
}
