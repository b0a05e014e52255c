import { KilnError } from '../../../common/errors.js';
import { bytesOf, typedView } from '../../ir/dtype.js';
import { biasScales, quantizeAsymmetric, quantizeBias, quantizeWeightsSymmetric } from '../quant-params.js';
import type { Pass } from './context.js';

const floats = (data: Uint8Array): Float32Array => typedView('float32', data) as Float32Array;

/** Symmetric int8 weights: per channel for convolutions (axis 0 for [O,H,W,I], axis 3 for depthwise [1,H,W,C]), per tensor for FULLY_CONNECTED. */
export const quantizeWeights: Pass = {
  name: 'quantize-weights',
  run(ctx) {
    for (const [opId, rule] of ctx.rules) {
      if (!rule.weights) continue;
      const op = ctx.g.ops[opId]!;
      const w = ctx.g.tensor(op.inputs[rule.weights.input]!);
      const axis = rule.weights.axis;
      if (w.dtype !== 'float32') continue;
      if (axis !== null && axis >= w.shape.length) {
        throw new KilnError(
          'E_SHAPE',
          `${op.type} weights ${w.name} have rank ${w.shape.length}; per-channel axis ${axis} needs more`,
        );
      }
      const { data, scales } = quantizeWeightsSymmetric(floats(w.data!), w.shape, axis);
      w.dtype = 'int8';
      w.data = bytesOf(data);
      w.quant = { scale: scales, zeroPoint: scales.map(() => 0), axis: axis ?? 0 };
    }
  },
};

/** int32 biases, scale = input scale × weight scale (per channel), zero point 0, quantized_dimension 0. */
export const quantizeBiases: Pass = {
  name: 'quantize-biases',
  run(ctx) {
    for (const [opId, rule] of ctx.rules) {
      if (rule.bias === undefined || !rule.weights) continue;
      const op = ctx.g.ops[opId]!;
      const b = op.inputs[rule.bias] ?? -1;
      if (b < 0) continue;
      const bias = ctx.g.tensor(b);
      if (bias.dtype !== 'float32') continue;
      const input = ctx.params.get(op.inputs[0]!);
      const w = ctx.g.tensor(op.inputs[rule.weights.input]!);
      if (!input || !w.quant)
        throw new KilnError('E_INTERNAL', `${op.type}: bias ${bias.name} quantized before its input or weights`);
      const scales = biasScales(input.scale, w.quant.scale);
      const n = bias.shape.reduce((a, c) => a * c, 1);
      if (scales.length !== 1 && scales.length !== n) {
        throw new KilnError(
          'E_SHAPE',
          `${op.type} bias ${bias.name} has ${n} values for ${scales.length} weight channels`,
        );
      }
      bias.dtype = 'int32';
      bias.data = bytesOf(quantizeBias(floats(bias.data!), scales));
      bias.quant = { scale: scales, zeroPoint: scales.map(() => 0), axis: 0 };
    }
  },
};

/** Other float constants read by quantized ops (e.g. an ADD operand): asymmetric int8 with their group's parameters. */
export const quantizeConstants: Pass = {
  name: 'quantize-constants',
  run(ctx) {
    for (const t of ctx.g.tensors) {
      if (t.dtype !== 'float32' || !ctx.g.isConstant(t.id) || ctx.weightTensors.has(t.id)) continue;
      const readers = ctx.index.consumers[t.id]!;
      if (readers.length === 0 || readers.every((o) => ctx.floatOps.has(o))) continue;
      const p = ctx.params.get(t.id);
      if (!p) throw new KilnError('E_INTERNAL', `no parameters for constant ${t.name}`);
      t.dtype = 'int8';
      t.data = bytesOf(quantizeAsymmetric(floats(t.data!), p));
      t.quant = { scale: [p.scale], zeroPoint: [p.zeroPoint], axis: 0 };
    }
  },
};
