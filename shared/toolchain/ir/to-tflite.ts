import type { TfliteBuffer, TfliteModel } from '../tflite/model.js';
import {
  BuiltinOperator,
  MetadataT,
  OperatorCodeT,
  OperatorT,
  QuantizationParametersT,
  SubGraphT,
  TensorT,
} from '../tflite/schema.js';
import { dtypeToTflite } from './dtype.js';
import type { IrModel } from './model.js';
import type { Op, Tensor } from './types.js';

const EMPTY: TfliteBuffer = { data: new Uint8Array(0), offset: 0n, size: 0n };

function builtinCode(type: string): number {
  const code = (BuiltinOperator as unknown as Record<string, number | undefined>)[type];
  if (code === undefined) throw new Error(`unknown TFLite builtin operator ${type}`);
  return code;
}

/** IR → typed .tflite model (buffer 0 is the empty sentinel, operator codes deduplicated in first-use order). */
export function toTflite(ir: IrModel): TfliteModel {
  const buffers: TfliteBuffer[] = [EMPTY];
  const codes: OperatorCodeT[] = [];
  const codeIndex = new Map<string, number>();

  const opcodeFor = (op: Op): number => {
    const key = `${op.type}|${op.customCode ?? ''}|${op.version}`;
    let i = codeIndex.get(key);
    if (i === undefined) {
      const code = builtinCode(op.type);
      i = codes.length;
      codes.push(new OperatorCodeT(Math.min(code, 127), op.customCode ?? null, op.version, code));
      codeIndex.set(key, i);
    }
    return i;
  };

  const tensorT = (t: Tensor): TensorT => {
    let buffer = 0;
    if (t.data && t.data.length > 0) {
      buffer = buffers.length;
      buffers.push({ data: t.data, offset: 0n, size: 0n });
    }
    const details = t.extra?.['quantizationDetails'] as { type: number; details: never } | undefined;
    const q = t.quant
      ? new QuantizationParametersT(
          t.quant.min ?? [],
          t.quant.max ?? [],
          t.quant.scale,
          t.quant.zeroPoint.map((z) => BigInt(z)),
          details?.type ?? 0,
          details?.details ?? null,
          t.quant.axis,
        )
      : null;
    return new TensorT(
      t.shape,
      dtypeToTflite(t.dtype),
      buffer,
      t.name,
      q,
      t.isVariable ?? false,
      (t.extra?.['sparsity'] as never) ?? null,
      t.shapeSignature ?? [],
      (t.extra?.['hasRank'] as boolean | undefined) ?? false,
      (t.extra?.['variantTensors'] as never[]) ?? [],
    );
  };

  const subgraphs = ir.subgraphs.map((g) => {
    const tensors = g.tensors.map(tensorT);
    const operators = g.ops.map((op) => {
      const o2 = op.extra?.['builtinOptions2'] as { type: number; options: never } | undefined;
      const large = op.extra?.['largeCustomOptions'] as { offset: bigint; size: bigint } | undefined;
      return new OperatorT(
        opcodeFor(op),
        op.inputs,
        op.outputs,
        op.optionsType,
        op.options as never,
        op.customOptions ? Array.from(op.customOptions) : [],
        (op.extra?.['customOptionsFormat'] as number | undefined) ?? 0,
        (op.extra?.['mutatingVariableInputs'] as boolean[]) ?? [],
        (op.extra?.['intermediates'] as number[]) ?? [],
        large?.offset ?? 0n,
        large?.size ?? 0n,
        o2?.type ?? 0,
        o2?.options ?? null,
      );
    });
    return new SubGraphT(tensors, g.inputs, g.outputs, operators, g.name);
  });

  const metadata = ir.metadata.map((m) => {
    buffers.push({ data: m.data, offset: 0n, size: 0n });
    return new MetadataT(m.name, buffers.length - 1);
  });

  return {
    version: ir.version,
    description: ir.description,
    operatorCodes: codes,
    subgraphs,
    buffers,
    metadataBuffer: [],
    metadata,
    signatureDefs: ir.signatureDefs,
  };
}
