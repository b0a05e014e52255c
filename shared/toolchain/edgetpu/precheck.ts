import type { ErrorCode } from '../../common/errors.js';
import { isKilnError } from '../../common/errors.js';
import { fromTflite } from '../ir/from-tflite.js';
import type { IrModel } from '../ir/model.js';
import { builtinCodeOf, builtinName, type TfliteModel } from '../tflite/model.js';
import { readTflite } from '../tflite/reader.js';
import { ActivationFunctionType } from '../tflite/schema.js';
import { EMBEDDED_TFLITE_MAX_BUILTIN, EMBEDDED_TFLITE_MAX_VERSION } from './op-table.js';
import { ERRORS } from './strings.js';

/** A model-level failure (docs/specs/edgetpu-compiler.md §2.3, §7.3): the compiler's exact lines plus Kiln's error code and plain message. */
export interface CompileFailure {
  stage: 'parse' | 'quantization' | 'prepare' | 'activations';
  /** Runs inside the v16 compile child (after the timer line) rather than before it. */
  inChild: boolean;
  lines: string[];
  code: ErrorCode;
  message: string;
  hint: string;
  /** How sure Kiln is of this failure (set where the evidence does not decide; see activations.ts). */
  confidence?: 'high' | 'low';
}

export type Parsed = { ok: true; tflite: TfliteModel; ir: IrModel } | { ok: false; failure: CompileFailure };

/** Step 1: the file parses and every op code/version is known to the compiler's embedded TFLite. */
export function parseForCompiler(path: string, bytes: Uint8Array): Parsed {
  let tflite: TfliteModel;
  try {
    tflite = readTflite(bytes);
  } catch (e) {
    if (!isKilnError(e)) throw e;
    return {
      ok: false,
      failure: {
        stage: 'parse',
        inChild: false,
        lines: [ERRORS.invalidModel(path), ERRORS.couldNotParse],
        code: 'E_TFLITE_MALFORMED',
        message: `${path} is not a valid TFLite model (${e.message})`,
        hint: 'Re-export the model from the TFLite converter',
      },
    };
  }
  for (const code of tflite.operatorCodes) {
    const builtin = builtinCodeOf(code);
    const name = builtinName(builtin);
    const max = EMBEDDED_TFLITE_MAX_VERSION[name];
    if (builtin > EMBEDDED_TFLITE_MAX_BUILTIN || (max !== undefined && code.version > max)) {
      return {
        ok: false,
        failure: {
          stage: 'parse',
          inChild: false,
          lines: [
            ERRORS.opNotFound(name, code.version),
            '',
            ERRORS.registrationFailed,
            '',
            ERRORS.invalidModel(path),
            ERRORS.couldNotParse,
          ],
          code: 'E_UNSUPPORTED_OP',
          message: `${name} version ${code.version} is newer than the TFLite runtime inside edgetpu_compiler 16 knows`,
          hint: `Convert with an older TensorFlow (about 2.5) or avoid the option that raises ${name} to version ${code.version}`,
        },
      };
    }
  }
  return { ok: true, tflite, ir: fromTflite(tflite) };
}

/** Step 2: the model is quantized — at least one activation (non-constant) tensor is 8-bit with quantization. */
export function checkQuantized(path: string, ir: IrModel): CompileFailure | null {
  const g = ir.graph;
  const quantized = g.tensors.some(
    (t) => !g.isConstant(t.id) && (t.dtype === 'int8' || t.dtype === 'uint8') && (t.quant?.scale.length ?? 0) > 0,
  );
  if (quantized) return null;
  const acts = g.tensors.filter((t) => !g.isConstant(t.id));
  const integerOnly = acts.length > 0 && acts.every((t) => t.dtype !== 'float32' && t.dtype !== 'float16');
  if (integerOnly) {
    const types = [...new Set(acts.map((t) => t.dtype))].join(', ');
    return {
      stage: 'quantization',
      inChild: false,
      lines: [ERRORS.invalidModel(path), ERRORS.notQuantized],
      code: 'E_UNSUPPORTED_TYPE',
      message: `${path} computes only on integers (${types} tensors, no float values): there is nothing to quantize to 8 bits, so no op can run on the Edge TPU`,
      hint: 'Run this model on the CPU as the float .tflite; the Edge TPU runs models whose float computation is quantized to int8/uint8',
    };
  }
  return {
    stage: 'quantization',
    inChild: false,
    lines: [ERRORS.invalidModel(path), ERRORS.notQuantized],
    code: 'E_UNSUPPORTED_TYPE',
    message: `${path} is not quantized: no 8-bit activation tensor`,
    hint: 'Quantize with full-integer post-training quantization (representative dataset, TFLITE_BUILTINS_INT8, int8/uint8 input and output)',
  };
}

const ACT_BOUNDS: Partial<Record<number, number[]>> = {
  [ActivationFunctionType.RELU6]: [0, 6],
  [ActivationFunctionType.RELU_N1_TO_1]: [-1, 1],
  [ActivationFunctionType.RELU]: [0],
};
const INT32_MAX_F = Math.fround(2147483647);
const INT32_MIN_F = Math.fround(-2147483648);

/** Step 3 (v16): the model prepares in TFLite — static shapes, activation bounds representable (kernel_util Quantize). */
export function checkPrepare(ir: IrModel): CompileFailure | null {
  const g = ir.graph;
  if (g.tensors.some((t) => t.shapeSignature?.some((d) => d < 0))) {
    const t = g.tensors.find((x) => x.shapeSignature?.some((d) => d < 0))!;
    return {
      stage: 'prepare',
      inChild: true,
      lines: [ERRORS.dynamicTensors, ERRORS.interpreterFailed],
      code: 'E_SHAPE',
      message: `tensor "${t.name}" has a dynamic shape [${t.shapeSignature!.join(',')}]`,
      hint: 'Give the model a fixed input shape with batch 1 (e.g. a concrete function with a static input signature) before converting',
    };
  }
  for (const op of g.ops) {
    const act = (op.options as { fusedActivationFunction?: number } | null)?.fusedActivationFunction;
    const bounds = act === undefined ? undefined : ACT_BOUNDS[act];
    const out = op.outputs[0] !== undefined && op.outputs[0] >= 0 ? g.tensor(op.outputs[0]) : undefined;
    const scale = out?.quant?.scale[0];
    if (!bounds || !out || scale === undefined || (out.dtype !== 'int8' && out.dtype !== 'uint8')) continue;
    const overflow = bounds.some((f) => {
      const tmp = Math.round(Math.fround(f / scale));
      return !(Math.fround(tmp) >= INT32_MIN_F && Math.fround(tmp) <= INT32_MAX_F);
    });
    if (overflow) {
      return {
        stage: 'prepare',
        inChild: true,
        lines: [ERRORS.quantOverflow, ERRORS.nodeFailedToPrepare(op.id, op.type), ERRORS.interpreterFailed],
        code: 'E_BAD_ARGUMENT',
        message: `op ${op.id} (${op.type}) has output scale ${scale}, too small for its fused activation bounds (integer overflow)`,
        hint: `Recalibrate the quantization of "${out.name}" (its scale must cover the activation range)`,
      };
    }
  }
  return null;
}
