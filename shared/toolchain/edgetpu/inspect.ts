import {
  EDGETPU_CUSTOM_CODE,
  builtinCodeOf,
  customCodeOf,
  isEdgeTpuCompiled,
  opcodeLabel,
  tensorTypeName,
  textOf,
  TENSOR_TYPE_BYTES,
  type TfliteModel,
} from '../tflite/model.js';
import { describeEdgeTpuCustomOp, type EdgeTpuCustomOpInfo } from './edgetpu-package.js';
import type { TensorT } from '../tflite/schema.js';

export interface TensorSummary {
  index: number;
  name: string;
  dtype: string;
  shape: number[];
  shapeSignature?: number[];
  quantization: { scale: number[]; zeroPoint: number[]; quantizedDimension: number } | null;
}

export interface OperatorSummary {
  index: number;
  opcode: string;
  version: number;
  inputs: number[];
  outputs: number[];
}

export interface SubgraphSummary {
  name: string;
  inputs: TensorSummary[];
  outputs: TensorSummary[];
  tensors: number;
  operators: OperatorSummary[];
  opHistogram: Record<string, number>;
}

export interface InspectReport {
  schemaVersion: number;
  description: string | null;
  bytes: number;
  subgraphs: SubgraphSummary[];
  parameters: { count: number; bytes: number };
  edgeTpu: { compiled: boolean; customOps: (EdgeTpuCustomOpInfo & { subgraph: number; operator: number })[] };
  customOps: { subgraph: number; operator: number; customCode: string; optionsBytes: number }[];
  metadata: string[];
  signatures: string[];
}

function tensorSummary(t: TensorT, index: number): TensorSummary {
  const q = t.quantization;
  return {
    index,
    name: textOf(t.name),
    dtype: tensorTypeName(t.type).toLowerCase(),
    shape: [...t.shape],
    ...(t.shapeSignature.length && t.shapeSignature.some((d) => d < 0)
      ? { shapeSignature: [...t.shapeSignature] }
      : {}),
    quantization:
      q && q.scale.length
        ? { scale: [...q.scale], zeroPoint: q.zeroPoint.map(Number), quantizedDimension: q.quantizedDimension }
        : null,
  };
}

/** Everything `kiln inspect` shows, as data (pure: no I/O). */
export function inspectModel(model: TfliteModel, bytes: number): InspectReport {
  let paramCount = 0;
  let paramBytes = 0;
  const customOps: InspectReport['customOps'] = [];
  const edgeOps: InspectReport['edgeTpu']['customOps'] = [];
  const subgraphs = model.subgraphs.map((sg, s) => {
    const histogram: Record<string, number> = {};
    const operators = sg.operators.map((op, i) => {
      const code = model.operatorCodes[op.opcodeIndex]!;
      const opcode = opcodeLabel(code);
      histogram[opcode] = (histogram[opcode] ?? 0) + 1;
      const custom = customCodeOf(code);
      if (builtinCodeOf(code) === 32 && custom !== null) {
        customOps.push({ subgraph: s, operator: i, customCode: custom, optionsBytes: op.customOptions.length });
        if (custom === EDGETPU_CUSTOM_CODE)
          edgeOps.push({ subgraph: s, operator: i, ...describeEdgeTpuCustomOp(Uint8Array.from(op.customOptions)) });
      }
      return { index: i, opcode, version: code.version, inputs: [...op.inputs], outputs: [...op.outputs] };
    });
    for (const t of sg.tensors) {
      const data = model.buffers[t.buffer]?.data;
      if (data && data.length > 0) {
        paramBytes += data.length;
        const w = TENSOR_TYPE_BYTES[t.type] ?? 0;
        paramCount += w > 0 ? data.length / w : 0;
      }
    }
    return {
      name: textOf(sg.name),
      inputs: sg.inputs.map((i) => tensorSummary(sg.tensors[i]!, i)),
      outputs: sg.outputs.map((i) => tensorSummary(sg.tensors[i]!, i)),
      tensors: sg.tensors.length,
      operators,
      opHistogram: histogram,
    };
  });
  return {
    schemaVersion: model.version,
    description: model.description,
    bytes,
    subgraphs,
    parameters: { count: paramCount, bytes: paramBytes },
    edgeTpu: { compiled: isEdgeTpuCompiled(model), customOps: edgeOps },
    customOps,
    metadata: model.metadata.map((m) => textOf(m.name)),
    signatures: model.signatureDefs.map((d) => textOf(d.signatureKey)),
  };
}
