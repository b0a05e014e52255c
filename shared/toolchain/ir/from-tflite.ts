import { builtinCodeOf, builtinName, customCodeOf, textOf, type TfliteModel } from '../tflite/model.js';
import type { TensorT } from '../tflite/schema.js';
import { dtypeFromTflite } from './dtype.js';
import { Graph } from './graph.js';
import { IrModel } from './model.js';
import type { Quantization } from './types.js';

function quantOf(t: TensorT): Quantization | undefined {
  const q = t.quantization;
  if (!q || (q.scale.length === 0 && q.min.length === 0 && q.max.length === 0)) return undefined;
  return {
    scale: [...q.scale],
    zeroPoint: q.zeroPoint.map((z) => Number(z)),
    axis: q.quantizedDimension,
    ...(q.min.length ? { min: [...q.min] } : {}),
    ...(q.max.length ? { max: [...q.max] } : {}),
  };
}

/** The typed .tflite model as IR. Constant data stays a view into the file's bytes. */
export function fromTflite(model: TfliteModel): IrModel {
  const subgraphs = model.subgraphs.map((sg) => {
    const g = new Graph();
    g.name = textOf(sg.name);
    for (const t of sg.tensors) {
      const data = model.buffers[t.buffer]?.data;
      const extra: Record<string, unknown> = {};
      if (t.sparsity) extra['sparsity'] = t.sparsity;
      if (t.quantization?.details)
        extra['quantizationDetails'] = { type: t.quantization.detailsType, details: t.quantization.details };
      if (t.hasRank) extra['hasRank'] = true;
      if (t.variantTensors.length) extra['variantTensors'] = t.variantTensors;
      const quant = quantOf(t);
      g.addTensor({
        name: textOf(t.name),
        dtype: dtypeFromTflite(t.type),
        shape: [...t.shape],
        ...(t.shapeSignature.length ? { shapeSignature: [...t.shapeSignature] } : {}),
        ...(quant ? { quant } : {}),
        ...(data && data.length > 0 ? { data } : {}),
        ...(t.isVariable ? { isVariable: true } : {}),
        ...(Object.keys(extra).length ? { extra } : {}),
      });
    }
    for (const op of sg.operators) {
      const code = model.operatorCodes[op.opcodeIndex]!;
      const customCode = customCodeOf(code);
      const extra: Record<string, unknown> = {};
      if (op.intermediates.length) extra['intermediates'] = op.intermediates;
      if (op.mutatingVariableInputs.length) extra['mutatingVariableInputs'] = op.mutatingVariableInputs;
      if (op.builtinOptions2Type)
        extra['builtinOptions2'] = { type: op.builtinOptions2Type, options: op.builtinOptions2 };
      if (op.customOptionsFormat) extra['customOptionsFormat'] = op.customOptionsFormat;
      if (op.largeCustomOptionsSize > 0n)
        extra['largeCustomOptions'] = { offset: op.largeCustomOptionsOffset, size: op.largeCustomOptionsSize };
      g.addOp({
        type: builtinName(builtinCodeOf(code)),
        version: code.version,
        inputs: op.inputs,
        outputs: op.outputs,
        options: op.builtinOptions,
        optionsType: op.builtinOptionsType,
        ...(customCode !== null ? { customCode } : {}),
        ...(op.customOptions.length ? { customOptions: Uint8Array.from(op.customOptions) } : {}),
        ...(Object.keys(extra).length ? { extra } : {}),
      });
    }
    g.inputs = [...sg.inputs];
    g.outputs = [...sg.outputs];
    return g;
  });
  return new IrModel(
    subgraphs,
    model.description,
    model.metadata.map((m) => ({ name: textOf(m.name), data: model.buffers[m.buffer]?.data ?? new Uint8Array(0) })),
    model.signatureDefs,
    model.version,
  );
}
