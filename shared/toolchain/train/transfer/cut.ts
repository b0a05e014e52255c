import { KilnError } from '../../../common/errors.js';
import type { IrModel } from '../../ir/model.js';

/** Where a base classifier is cut: the input of its classifier layer, the embedding the new head reads. */
export interface CutPoint {
  /** The embedding tensor: id, name, dtype, shape, element count. */
  tensor: number;
  tensorName: string;
  dtype: string;
  shape: number[];
  embeddingSize: number;
  /** The classifier op that was cut away (index in execution order, type). */
  opIndex: number;
  opType: string;
  /** The base's class count (the classifier's output channels). */
  baseClasses: number;
}

/** Ops between a classifier layer and the model output that only reshape or normalize its logits. */
const AFTER_CLASSIFIER = new Set([
  'RESHAPE',
  'SQUEEZE',
  'SOFTMAX',
  'LOG_SOFTMAX',
  'DEQUANTIZE',
  'QUANTIZE',
  'LOGISTIC',
]);

/**
 * Finds the classifier layer of a base model (pure): from the first output back through reshapes and softmax to a
 * FULLY_CONNECTED or a 1×1 CONV_2D whose output is 1×1 spatially (MobileNet's Logits); else the last FULLY_CONNECTED.
 */
export function findCut(model: IrModel): CutPoint {
  const g = model.graph;
  const { producer } = g.index();
  const isClassifier = (opId: number): boolean => {
    const op = g.ops[opId]!;
    if (op.type === 'FULLY_CONNECTED') return true;
    if (op.type !== 'CONV_2D') return false;
    const w = g.tensor(op.inputs[1]!).shape;
    const out = g.tensor(op.outputs[0]!).shape;
    return w[1] === 1 && w[2] === 1 && out[1] === 1 && out[2] === 1;
  };
  let found = -1;
  let t = g.outputs[0];
  while (t !== undefined && t >= 0) {
    const p = producer[t]!;
    if (p < 0) break;
    if (isClassifier(p)) {
      found = p;
      break;
    }
    if (!AFTER_CLASSIFIER.has(g.ops[p]!.type)) break;
    t = g.ops[p]!.inputs[0];
  }
  if (found < 0) {
    for (let i = g.ops.length - 1; i >= 0; i--)
      if (g.ops[i]!.type === 'FULLY_CONNECTED') {
        found = i;
        break;
      }
  }
  if (found < 0)
    throw new KilnError('E_BAD_ARGUMENT', 'the base model has no classifier layer (FULLY_CONNECTED or 1x1 CONV_2D)', {
      hint: 'Transfer learning needs an image classifier as its base, e.g. a Coral MobileNet .tflite',
    });
  const op = g.ops[found]!;
  const emb = g.tensor(op.inputs[0]!);
  const size = op.type === 'FULLY_CONNECTED' ? g.tensor(op.inputs[1]!).shape.at(-1)! : emb.shape.at(-1)!;
  const out = g.tensor(op.outputs[0]!).shape;
  return {
    tensor: emb.id,
    tensorName: emb.name,
    dtype: emb.dtype,
    shape: [...emb.shape],
    embeddingSize: size,
    opIndex: found,
    opType: op.type,
    baseClasses: out.at(-1)!,
  };
}
