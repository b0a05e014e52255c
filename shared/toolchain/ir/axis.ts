import { KilnError } from '../../common/errors.js';

/** A (possibly negative) axis of a rank-`rank` tensor as 0…rank−1; out of range is a bad model, named as such. */
export function normAxis(axis: number, rank: number): number {
  const a = axis < 0 ? axis + rank : axis;
  if (!Number.isInteger(a) || a < 0 || a >= rank) {
    throw new KilnError('E_SHAPE', `axis ${axis} is out of range for a tensor of rank ${rank}`, {
      hint: 'The model is corrupt or was edited by hand; re-export it from the converter',
    });
  }
  return a;
}
