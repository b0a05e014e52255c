import { KilnError } from '../common/errors.js';
import type { IrModel } from '../toolchain/ir/model.js';
import { BuiltinOperator } from '../toolchain/tflite/schema.js';

/**
 * Checks on the converted model that the pipeline makes before quantize: ops TFLite knows, inputs the quantizer can
 * feed. An int64 or
 * string input cannot be calibrated (nor run on the Edge TPU), so the build fails here with the reason rather than in
 * the calibration runner.
 */
export const FEEDABLE_INPUT_TYPES: ReadonlySet<string> = new Set([
  'float32',
  'uint8',
  'int8',
  'int16',
  'int32',
  'bool',
]);

/** Custom ops the TFLite runtime (and so calibration) can run. */
export const RUNNABLE_CUSTOM_OPS: ReadonlySet<string> = new Set(['TFLite_Detection_PostProcess']);

export function checkModelOps(model: IrModel): void {
  for (const g of model.subgraphs)
    for (const op of g.ops) {
      if (op.type === 'CUSTOM') {
        const code = op.customCode ?? '';
        if (!RUNNABLE_CUSTOM_OPS.has(code))
          throw new KilnError(
            'E_UNSUPPORTED_OP',
            `custom op ${JSON.stringify(code)} has no TFLite kernel Kiln can run`,
            {
              hint: 'Replace the custom op with TFLite builtin ops before converting',
            },
          );
      } else if ((BuiltinOperator as unknown as Record<string, unknown>)[op.type] === undefined) {
        throw new KilnError('E_UNSUPPORTED_OP', `operator ${op.type} is not a TFLite builtin operator`, {
          hint: 'The file is corrupt or comes from a newer TFLite schema; re-export it',
        });
      }
    }
}

/** Every check on a converted model, in order. */
export function checkConvertedModel(model: IrModel): void {
  checkModelOps(model);
  checkModelInputs(model);
}

export function checkModelInputs(model: IrModel): void {
  const g = model.graph;
  for (const id of g.inputs) {
    const t = g.tensor(id);
    if (!FEEDABLE_INPUT_TYPES.has(t.dtype))
      throw new KilnError(
        'E_UNSUPPORTED_TYPE',
        `model input "${t.name}" is ${t.dtype}; Kiln can only calibrate ${[...FEEDABLE_INPUT_TYPES].join(', ')} inputs`,
        {
          hint: 'Export the model with numeric (float32, uint8 or int8) inputs',
        },
      );
  }
}
