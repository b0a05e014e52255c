import type { MetadataT, OperatorCodeT, SignatureDefT, SubGraphT } from './schema.js';
import { BuiltinOperator, TensorType } from './schema.js';

/** A constant buffer. `data` is a view into the file when read (no copy). offset/size are for >2 GB models. */
export interface TfliteBuffer {
  data: Uint8Array;
  offset: bigint;
  size: bigint;
}

/** A whole .tflite file as typed data. Field names follow schema.fbs; nothing read is dropped on write. */
export interface TfliteModel {
  version: number;
  description: string | null;
  operatorCodes: OperatorCodeT[];
  subgraphs: SubGraphT[];
  buffers: TfliteBuffer[];
  metadataBuffer: number[];
  metadata: MetadataT[];
  signatureDefs: SignatureDefT[];
}

export const EDGETPU_CUSTOM_CODE = 'edgetpu-custom-op';

/** The effective builtin code: old files only set the int8 `deprecated_builtin_code`. */
export function builtinCodeOf(code: OperatorCodeT): number {
  return Math.max(code.deprecatedBuiltinCode, code.builtinCode);
}

export function builtinName(code: number): string {
  const name = (BuiltinOperator as unknown as Record<number, string | undefined>)[code];
  return name ?? `UNKNOWN_BUILTIN_${code}`;
}

export function customCodeOf(code: OperatorCodeT): string | null {
  if (code.customCode === null) return null;
  return typeof code.customCode === 'string' ? code.customCode : new TextDecoder().decode(code.customCode);
}

/** `CONV_2D`, or `CUSTOM:<custom_code>` for custom ops. */
export function opcodeLabel(code: OperatorCodeT): string {
  const builtin = builtinCodeOf(code);
  if (builtin === BuiltinOperator.CUSTOM) return `CUSTOM:${customCodeOf(code) ?? ''}`;
  return builtinName(builtin);
}

export function tensorTypeName(type: number): string {
  const name = (TensorType as unknown as Record<number, string | undefined>)[type];
  return name ?? `UNKNOWN_TYPE_${type}`;
}

export function textOf(s: string | Uint8Array | null): string {
  if (s === null) return '';
  return typeof s === 'string' ? s : new TextDecoder().decode(s);
}

/** Bytes per element; 0 for types without a fixed size (STRING, RESOURCE, VARIANT). */
export const TENSOR_TYPE_BYTES: Readonly<Record<number, number>> = {
  [TensorType.FLOAT32]: 4,
  [TensorType.FLOAT16]: 2,
  [TensorType.INT32]: 4,
  [TensorType.UINT8]: 1,
  [TensorType.INT64]: 8,
  [TensorType.STRING]: 0,
  [TensorType.BOOL]: 1,
  [TensorType.INT16]: 2,
  [TensorType.COMPLEX64]: 8,
  [TensorType.INT8]: 1,
  [TensorType.FLOAT64]: 8,
  [TensorType.COMPLEX128]: 16,
  [TensorType.UINT64]: 8,
  [TensorType.RESOURCE]: 0,
  [TensorType.VARIANT]: 0,
  [TensorType.UINT32]: 4,
  [TensorType.UINT16]: 2,
  [TensorType.INT4]: 0,
};

export function isEdgeTpuCompiled(model: TfliteModel): boolean {
  return model.operatorCodes.some(
    (c) => builtinCodeOf(c) === BuiltinOperator.CUSTOM && customCodeOf(c) === EDGETPU_CUSTOM_CODE,
  );
}
