import { KilnError } from '../../../common/errors.js';
import { typedView } from '../../ir/dtype.js';
import { ACTIVATION_OP_BOUNDS, FUSED_ACTIVATION_BOUNDS } from '../op-rules.js';
import { asymmetricParams } from '../quant-params.js';
import { chooseRange } from '../ranges.js';
import { isActivation, type Pass, type PassContext } from './context.js';

/** Weights and biases of quantized ops: quantized by their own rules, not as activations. */
export const markWeights: Pass = {
  name: 'mark-weights',
  run(ctx) {
    for (const [opId, rule] of ctx.rules) {
      const op = ctx.g.ops[opId]!;
      for (const idx of [rule.weights?.input, rule.bias]) {
        if (idx === undefined) continue;
        const t = op.inputs[idx] ?? -1;
        if (t < 0) continue;
        if (!ctx.g.isConstant(t)) {
          throw new KilnError(
            'E_UNSUPPORTED_OP',
            `${op.type} ${ctx.g.tensor(op.outputs[0]!).name}: its ${idx === rule.bias ? 'bias' : 'weights'} (${ctx.g.tensor(t).name}) are not constant`,
            {
              hint: 'The Edge TPU needs weights that are compile-time constants',
            },
          );
        }
        if (ctx.g.tensor(t).dtype === 'float32') ctx.weightTensors.add(t);
      }
    }
  },
};

/**
 * Calibrated range of every activation (method from the options) except the outputs that stay float; min/max of other
 * float constants.
 */
export const activationRanges: Pass = {
  name: 'activation-ranges',
  run(ctx) {
    for (const t of ctx.g.tensors) {
      if (t.dtype !== 'float32' || ctx.weightTensors.has(t.id) || ctx.floatOutputs.has(t.id)) continue;
      if (ctx.g.isConstant(t.id)) {
        const v = typedView('float32', t.data!) as Float32Array;
        let lo = Infinity;
        let hi = -Infinity;
        for (const x of v) {
          if (x < lo) lo = x;
          if (x > hi) hi = x;
        }
        ctx.ranges.set(t.id, [Math.min(lo, 0), Math.max(hi, 0)]);
        continue;
      }
      const stat = ctx.stats.get(t.id);
      if (!stat) throw new KilnError('E_INTERNAL', `no calibration statistics for tensor ${t.name}`);
      ctx.ranges.set(t.id, chooseRange(stat, ctx.options.method, ctx.options.percentile));
    }
  },
};

function clampRange(ctx: PassContext, t: number, [lo, hi]: readonly [number, number]): void {
  const r = ctx.ranges.get(t);
  if (!r) return;
  const clamp = (v: number): number => Math.min(Math.max(v, lo), hi);
  ctx.ranges.set(t, [clamp(r[0]), clamp(r[1])]);
}

/** A fused RELU/RELU6/RELU_N1_TO_1 (and a standalone one) bounds its output range. */
export const foldActivations: Pass = {
  name: 'fold-activations',
  run(ctx) {
    for (const op of ctx.g.ops) {
      if (!ctx.rules.has(op.id)) continue;
      const fused = (op.options as { fusedActivationFunction?: number } | null)?.fusedActivationFunction ?? 0;
      const bounds = FUSED_ACTIVATION_BOUNDS[fused] ?? ACTIVATION_OP_BOUNDS[op.type];
      if (bounds) for (const t of op.outputs) if (t >= 0 && isActivation(ctx, t)) clampRange(ctx, t, bounds);
    }
  },
};

/** Output parameters the int8 kernels fix (LOGISTIC, SOFTMAX, TANH, …). */
export const fixedScales: Pass = {
  name: 'fixed-scales',
  run(ctx) {
    for (const [opId, rule] of ctx.rules) {
      if (rule.output.kind !== 'fixed') continue;
      for (const t of ctx.g.ops[opId]!.outputs)
        if (t >= 0 && isActivation(ctx, t))
          ctx.fixed.set(t, { scale: rule.output.scale, zeroPoint: rule.output.zeroPoint });
    }
  },
};

/**
 * Ops that must keep their input scale (pooling, reshape, concatenation, …) join their float inputs and outputs into
 * one group: the group's range is the union of its members' ranges, or the fixed parameters of a member. Then every
 * activation gets its int8 parameters.
 */
export const sharedScales: Pass = {
  name: 'shared-scales',
  run(ctx) {
    const parent = new Map<number, number>();
    const find = (x: number): number => {
      let r = x;
      while (parent.has(r) && parent.get(r) !== r) r = parent.get(r)!;
      parent.set(x, r);
      return r;
    };
    const union = (a: number, b: number): void => {
      const ra = find(a);
      const rb = find(b);
      if (ra !== rb) parent.set(Math.max(ra, rb), Math.min(ra, rb));
    };
    for (const [opId, rule] of ctx.rules) {
      if (rule.output.kind !== 'same') continue;
      const op = ctx.g.ops[opId]!;
      const members = [...op.inputs, ...op.outputs].filter((t) => t >= 0 && ctx.ranges.has(t));
      for (const m of members.slice(1)) union(members[0]!, m);
    }
    const groupRange = new Map<number, [number, number]>();
    const groupFixed = new Map<number, { scale: number; zeroPoint: number; from: number }>();
    for (const [t, r] of ctx.ranges) {
      const root = find(t);
      const g = groupRange.get(root);
      groupRange.set(root, g ? [Math.min(g[0], r[0]), Math.max(g[1], r[1])] : [r[0], r[1]]);
      const f = ctx.fixed.get(t);
      if (f) {
        const prev = groupFixed.get(root);
        if (prev && (prev.scale !== f.scale || prev.zeroPoint !== f.zeroPoint)) {
          throw new KilnError(
            'E_UNSUPPORTED_OP',
            `tensors ${ctx.g.tensor(prev.from).name} and ${ctx.g.tensor(t).name} must share int8 parameters but their ops fix different ones`,
          );
        }
        groupFixed.set(root, { ...f, from: t });
      }
    }
    for (const t of ctx.ranges.keys()) {
      const root = find(t);
      const f = groupFixed.get(root);
      const [lo, hi] = groupRange.get(root)!;
      ctx.params.set(t, f ? { scale: f.scale, zeroPoint: f.zeroPoint } : asymmetricParams(lo, hi));
    }
  },
};
