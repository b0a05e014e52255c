import { KilnError } from '../../../common/errors.js';
import type { Pass } from './context.js';

/** The Edge TPU needs static shapes: a −1 in shape_signature is dropped in favour of the concrete shape. */
export const freezeShapes: Pass = {
  name: 'freeze-shapes',
  run(ctx) {
    const frozen: string[] = [];
    for (const t of ctx.g.tensors) {
      if (t.shapeSignature && t.shapeSignature.some((d) => d < 0)) {
        delete t.shapeSignature;
        frozen.push(t.name);
      }
      if (t.shape.some((d) => d < 0))
        throw new KilnError('E_SHAPE', `tensor ${t.name} has no concrete shape [${t.shape.join(',')}]`, {
          hint: 'Export the model with a fixed input shape (batch 1)',
        });
    }
    if (frozen.length)
      ctx.warnings.push(
        `dynamic dimensions fixed to the stored shape for ${frozen.length} tensor(s) (e.g. ${frozen[0]})`,
      );
  },
};
