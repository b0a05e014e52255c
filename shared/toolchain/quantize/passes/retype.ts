import { OP_RULES } from '../op-rules.js';
import { isActivation, type Pass } from './context.js';

/** Every float activation becomes int8 with its parameters; quantized ops get the op version of their int8 kernel. */
export const retypeActivations: Pass = {
  name: 'retype-activations',
  run(ctx) {
    for (const t of ctx.g.tensors) {
      if (!isActivation(ctx, t.id)) continue;
      const p = ctx.params.get(t.id);
      if (!p) continue;
      const r = ctx.ranges.get(t.id)!;
      t.dtype = 'int8';
      t.quant = {
        scale: [p.scale],
        zeroPoint: [p.zeroPoint],
        axis: 0,
        min: [Math.fround(r[0])],
        max: [Math.fround(r[1])],
      };
    }
    for (const op of ctx.g.ops) {
      const rule = OP_RULES[op.type];
      if (rule && ctx.rules.has(op.id)) op.version = Math.max(op.version, rule.version);
    }
  },
};
