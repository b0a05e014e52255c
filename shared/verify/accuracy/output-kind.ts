import type { IrModel } from '../../ir/model.js';

/** What a model's outputs are, which decides the accuracy metrics. */
export type OutputKind = 'classification' | 'segmentation' | 'detection' | 'tensor';

const DETECTION_CODE = 'TFLite_Detection_PostProcess';

/**
 * Rules in order (first match wins), on the first graph output:
 * - detection: the outputs come from TFLite_Detection_PostProcess (boxes, classes, scores, count);
 * - segmentation: [1,H,W,C] or [1,H,W] with H,W > 1 (class scores per pixel, or a mask);
 * - classification: one vector of ≥ 2 scores ([N], [1,N], [1,1,1,N]);
 * - tensor: anything else (only tensor error metrics).
 */
const RULES: { kind: OutputKind; test: (m: IrModel, shape: number[]) => boolean }[] = [
  {
    kind: 'detection',
    test: (m) => {
      const g = m.graph;
      const { producer } = g.index();
      const p = producer[g.outputs[0]!] ?? -1;
      return g.outputs.length === 4 && p >= 0 && g.ops[p]!.customCode === DETECTION_CODE;
    },
  },
  {
    kind: 'segmentation',
    test: (_m, s) => (s.length === 4 || s.length === 3) && s[0] === 1 && s[1]! > 1 && s[2]! > 1,
  },
  { kind: 'classification', test: (_m, s) => s.filter((d) => d !== 1).length === 1 && s[s.length - 1]! >= 2 },
];

export function outputKind(model: IrModel): OutputKind {
  const g = model.graph;
  const shape = g.tensor(g.outputs[0]!).shape;
  return RULES.find((r) => r.test(model, shape))?.kind ?? 'tensor';
}
