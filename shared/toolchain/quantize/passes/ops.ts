import { KilnError } from '../../../common/errors.js';
import { FLOAT_TAIL_CUSTOM_OPS, OP_RULES } from '../op-rules.js';
import type { Pass } from './context.js';

/**
 * Every op must have an int8 rule; otherwise it stays float when the user allows it, or quantization stops. Float-tail
 * custom ops (detection post-processing) stay float in any case, and so do their outputs that only leave the model.
 */
export const selectOps: Pass = {
  name: 'select-ops',
  run(ctx) {
    const unsupported = new Map<string, number>();
    for (const op of ctx.g.ops) {
      if (op.type === 'CUSTOM' && FLOAT_TAIL_CUSTOM_OPS.has(op.customCode ?? '')) {
        ctx.floatOps.add(op.id);
        for (const t of op.outputs)
          if (t >= 0 && ctx.index.consumers[t]!.length === 0 && ctx.g.outputs.includes(t)) ctx.floatOutputs.add(t);
        continue;
      }
      const rule = OP_RULES[op.type];
      const touchesFloat = [...op.inputs, ...op.outputs].some((t) => t >= 0 && ctx.g.tensor(t).dtype === 'float32');
      if (rule && touchesFloat) ctx.rules.set(op.id, rule);
      else if (rule || !touchesFloat) ctx.rules.set(op.id, rule ?? { version: op.version, output: { kind: 'free' } });
      else {
        const label = op.type === 'CUSTOM' ? `CUSTOM:${op.customCode ?? ''}` : op.type;
        unsupported.set(label, (unsupported.get(label) ?? 0) + 1);
        ctx.floatOps.add(op.id);
      }
    }
    if (unsupported.size === 0) return;
    const list = [...unsupported].map(([k, n]) => (n > 1 ? `${k} ×${n}` : k)).join(', ');
    if (!ctx.options.allowFloatFallback) {
      throw new KilnError('E_UNSUPPORTED_OP', `cannot quantize to int8: ${list}`, {
        hint: 'Replace these ops in the model, or allow float fallback (quantize.allowFloatFallback in kiln.json); the Edge TPU then maps nothing after the first float op',
      });
    }
    ctx.warnings.push(
      `float fallback: ${list} stay float32 between DEQUANTIZE/QUANTIZE; the Edge TPU maps nothing after the first of them`,
    );
  },
};
