import type { Graph } from '../ir/graph.js';
import type { IrModel } from '../ir/model.js';

/**
 * The compile stage's model pre-checks that a quantized model must pass (docs/specs/edgetpu-compiler.md §2.1: fully
 * integer, static shapes), plus the quantization-parameter rules the TFLite runtime enforces. Pure.
 */
export interface PrecheckProblem {
  rule: 'fully-integer' | 'static-shapes' | 'quant-params';
  tensor: string;
  message: string;
}

const FLOAT_TYPES = new Set(['float32', 'float16', 'float64']);

/** The detection post-processing op every Coral SSD keeps on the CPU, in float (docs/specs/edgetpu-compiler.md §2.1 allows it). */
export const DETECTION_POSTPROCESS = 'TFLite_Detection_PostProcess';

/**
 * Tensors that may stay float in a full-integer Edge TPU model: TFLite_Detection_PostProcess's outputs (float boxes,
 * classes, scores, count) and its inputs (the anchors constant, and the DEQUANTIZE outputs in front of it), as in
 * every compiled Coral SSD. Pure.
 */
export function detectionPostprocessTensors(g: Graph): Set<number> {
  const ids = new Set<number>();
  for (const op of g.ops)
    if (op.type === 'CUSTOM' && op.customCode === DETECTION_POSTPROCESS)
      for (const t of [...op.inputs, ...op.outputs]) if (t >= 0) ids.add(t);
  return ids;
}

export function precheckModel(model: IrModel): PrecheckProblem[] {
  const problems: PrecheckProblem[] = [];
  for (const g of model.subgraphs) {
    const postprocess = detectionPostprocessTensors(g);
    const biasOf = new Set<number>();
    for (const op of g.ops)
      if (['CONV_2D', 'DEPTHWISE_CONV_2D', 'FULLY_CONNECTED'].includes(op.type) && (op.inputs[2] ?? -1) >= 0)
        biasOf.add(op.inputs[2]!);
    for (const t of g.tensors) {
      const add = (rule: PrecheckProblem['rule'], message: string): void =>
        void problems.push({ rule, tensor: t.name, message });
      if (FLOAT_TYPES.has(t.dtype) && !postprocess.has(t.id)) add('fully-integer', `${t.name} is ${t.dtype}`);
      if (t.shape.some((d) => d < 0) || t.shapeSignature?.some((d) => d < 0))
        add('static-shapes', `${t.name} has a dynamic shape [${(t.shapeSignature ?? t.shape).join(',')}]`);
      const isQuantInt = t.dtype === 'int8' || t.dtype === 'uint8' || (t.dtype === 'int32' && biasOf.has(t.id));
      if (!isQuantInt) continue;
      const q = t.quant;
      if (!q || q.scale.length === 0) {
        add('quant-params', `${t.name} (${t.dtype}) has no quantization parameters`);
        continue;
      }
      if (q.scale.some((s) => !(s > 0) || !Number.isFinite(s)))
        add('quant-params', `${t.name} has a scale that is not positive and finite`);
      if (q.zeroPoint.length !== q.scale.length)
        add('quant-params', `${t.name} has ${q.scale.length} scales but ${q.zeroPoint.length} zero points`);
      if (q.scale.length > 1) {
        if (q.axis < 0 || q.axis >= t.shape.length)
          add('quant-params', `${t.name}: quantized_dimension ${q.axis} is not below rank ${t.shape.length}`);
        else if (t.shape[q.axis] !== q.scale.length)
          add('quant-params', `${t.name}: ${q.scale.length} scales for ${t.shape[q.axis]} channels on axis ${q.axis}`);
      }
      if (biasOf.has(t.id) && q.axis !== 0)
        add('quant-params', `bias ${t.name} has quantized_dimension ${q.axis}, not 0`);
      const [lo, hi] = t.dtype === 'uint8' ? [0, 255] : t.dtype === 'int8' ? [-128, 127] : [0, 0];
      if (q.zeroPoint.some((z) => z < lo || z > hi))
        add('quant-params', `${t.name} has a zero point outside [${lo}, ${hi}]`);
    }
  }
  return problems;
}
