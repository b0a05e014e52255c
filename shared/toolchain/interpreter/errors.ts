import { KilnError } from '../../common/errors.js';
import type { Op } from '../ir/types.js';

export const opLabel = (op: Op): string =>
  (op.type === 'CUSTOM' ? `CUSTOM:${op.customCode ?? '?'}` : op.type) + ` (op #${op.id}, version ${op.version})`;

export function unsupportedType(op: Op, what: string): KilnError {
  return new KilnError(
    'E_UNSUPPORTED_TYPE',
    `the interpreter has no ${op.type} kernel for ${what} (op #${op.id}, version ${op.version})`,
    {
      hint: 'Use float32, int8 or uint8 tensors for this op',
    },
  );
}

export function badOp(op: Op, why: string): KilnError {
  return new KilnError('E_SHAPE', `${opLabel(op)}: ${why}`, {
    hint: 'Check the model: its tensors do not fit what this op needs',
  });
}

/** A case of an op the interpreter does not run (E_UNSUPPORTED_OP: calibration then runs the model in the TFLite runtime). */
export function unsupportedCase(op: Op, what: string, hint: string): KilnError {
  return new KilnError('E_UNSUPPORTED_OP', `the interpreter does not run ${opLabel(op)} with ${what}`, { hint });
}
