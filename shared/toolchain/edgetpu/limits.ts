import type { LimitId } from '../ops/types.js';
import { activeDims, constInts, inputAt, normAxis, opt, outputAt, type OpContext } from './op-context.js';
import { numElements } from '../ir/graph.js';

/**
 * The limitations of the supported-ops table (docs/specs/edgetpu-compiler.md §3), one entry per LimitId: how it is checked, what it means in
 * plain words, and what to change. A violated limit gives the status "Operation is otherwise supported, but not mapped
 * due to some unspecified limitation" (docs/specs/edgetpu-compiler.md §4.1 rule 8).
 */
export interface Limit {
  doc: string;
  violated: (ctx: OpContext) => boolean;
  reason: (ctx: OpContext) => string;
  fix: (ctx: OpContext) => string;
}

const spatial = (shape: readonly number[]): [number, number] => {
  const r = shape.length;
  return r >= 3 ? [shape[r - 3]!, shape[r - 2]!] : [1, 1];
};

function reduceAxes(ctx: OpContext): number[] {
  const x = inputAt(ctx, 0);
  const axes = constInts(inputAt(ctx, 1)) ?? [];
  return axes.map((a) => normAxis(a, x?.shape.length ?? 0));
}

function axisParam(ctx: OpContext): number | null {
  const op = ctx.op.type;
  if (op === 'PACK') return opt(ctx, 'axis') ?? 0;
  if (op === 'SPLIT') return constInts(inputAt(ctx, 0))?.[0] ?? null;
  return null;
}

export const LIMITS: Readonly<Record<LimitId, Limit>> = {
  noFusedActivation: {
    doc: 'No fused activation function.',
    violated: (c) => (opt(c, 'fusedActivationFunction') ?? 0) !== 0,
    reason: (c) => `${c.op.type} has a fused activation function, which the Edge TPU does not support on this op`,
    fix: (c) => `remove the fused activation from layer "${c.layer}" and add a separate RELU/RELU6 op after it`,
  },
  concatConstantInput: {
    doc: 'A constant input is allowed only as one of exactly 2 inputs and must be all zeros.',
    violated: (c) => {
      const consts = c.op.inputs.filter((t) => t >= 0 && c.g.isConstant(t)).map((t) => c.g.tensor(t));
      if (consts.length === 0) return false;
      if (c.op.inputs.length !== 2) return true;
      return consts.some((t) => {
        const zp = t.quant?.zeroPoint[0] ?? 0;
        const v = t.dtype === 'int8' ? Int8Array.from(t.data!) : t.data!;
        return Array.from(v).some((x) => x !== zp);
      });
    },
    reason: () => 'the concatenation has a constant input that is not a single all-zero padding block',
    fix: (c) => `feed layer "${c.layer}" only computed tensors (move the constant into a bias or a PAD op)`,
  },
  equalDilation: {
    doc: 'Dilation must be identical in x and y.',
    violated: (c) => (opt(c, 'dilationHFactor') ?? 1) !== (opt(c, 'dilationWFactor') ?? 1),
    reason: (c) =>
      `dilation differs in y (${opt(c, 'dilationHFactor') ?? 1}) and x (${opt(c, 'dilationWFactor') ?? 1})`,
    fix: (c) => `give layer "${c.layer}" the same dilation rate in both spatial directions`,
  },
  depthwiseDilationBefore13: {
    doc: 'For runtime ≤ 12 dilated depthwise kernels are not supported.',
    violated: (c) =>
      c.minRuntime <= 12 && ((opt(c, 'dilationHFactor') ?? 1) > 1 || (opt(c, 'dilationWFactor') ?? 1) > 1),
    reason: (c) => `dilated depthwise convolution needs Edge TPU runtime 13 or newer (target is ${c.minRuntime})`,
    fix: (c) => `compile with -m 13 or newer, or remove the dilation of layer "${c.layer}"`,
  },
  fcDefaultWeights: {
    doc: 'Weights in the default format only (not the shuffled variant).',
    violated: (c) => (opt(c, 'weightsFormat') ?? 0) !== 0,
    reason: () => 'the fully-connected weights use the shuffled weights format',
    fix: (c) => `convert layer "${c.layer}" with default (unshuffled) weights`,
  },
  fcOutputSize: {
    doc: 'About 100,000 outputs is too big for one layer.',
    violated: (c) => (inputAt(c, 1)?.shape[0] ?? 0) >= 100_000,
    reason: (c) => `the layer has ${inputAt(c, 1)?.shape[0]} outputs, too many for one Edge TPU layer`,
    fix: (c) =>
      `split layer "${c.layer}" into several smaller FULLY_CONNECTED layers (libcoral split_fc) and concatenate`,
  },
  reduceAxes: {
    doc: '≤12: reduction over x and/or y only. 13+: never over batch; over z only when z is a multiple of 4.',
    violated: (c) => {
      const x = inputAt(c, 0);
      if (!x) return false;
      const r = x.shape.length;
      const axes = reduceAxes(c);
      if (c.minRuntime <= 12) return axes.some((a) => a !== r - 3 && a !== r - 2);
      if (r === 4 && axes.includes(0) && x.shape[0]! > 1) return true;
      return axes.includes(r - 1) && x.shape[r - 1]! % 4 !== 0;
    },
    reason: (c) => `the reduction axes [${reduceAxes(c).join(',')}] are not supported for this shape and runtime`,
    fix: (c) =>
      c.minRuntime <= 12
        ? `reduce layer "${c.layer}" over height/width only, or compile with -m 13`
        : `reduce layer "${c.layer}" over height/width, or pad the channels to a multiple of 4`,
  },
  notAlongBatch: {
    doc: 'Not along the batch dimension.',
    violated: (c) => {
      const x = c.op.type === 'PACK' ? outputAt(c, 0) : c.op.type === 'SPLIT' ? inputAt(c, 1) : inputAt(c, 0);
      if (!x || x.shape.length !== 4 || x.shape[0]! <= 1) return false;
      const axis = axisParam(c);
      if (axis !== null) return normAxis(axis, x.shape.length) === 0;
      return reduceAxes(c).includes(0);
    },
    reason: () => 'the op works along the batch dimension',
    fix: (c) => `make layer "${c.layer}" work along height, width or channels instead of the batch dimension`,
  },
  padAxes: {
    doc: '≤12: x/y padding only. 13+: no padding of the batch dimension.',
    violated: (c) => {
      const x = inputAt(c, 0);
      const p = constInts(inputAt(c, 1));
      if (!x || !p) return false;
      const r = x.shape.length;
      for (let d = 0; d < r; d++) {
        const padded = (p[2 * d] ?? 0) !== 0 || (p[2 * d + 1] ?? 0) !== 0;
        if (!padded) continue;
        if (c.minRuntime <= 12 && d !== r - 3 && d !== r - 2) return true;
        if (r === 4 && d === 0) return true;
      }
      return false;
    },
    reason: (c) =>
      c.minRuntime <= 12 ? 'padding outside height/width needs runtime 13+' : 'the batch dimension is padded',
    fix: (c) => `pad only height/width (and channels with -m 13+) in layer "${c.layer}"`,
  },
  preluAlpha: {
    doc: 'Alpha must be 1-D: only the innermost dimension may be > 1.',
    violated: (c) => {
      const a = inputAt(c, 1);
      return !!a && a.shape.slice(0, -1).some((d) => d > 1);
    },
    reason: () => 'the PReLU alpha varies over more than the channel dimension',
    fix: (c) => `share the alpha of layer "${c.layer}" over height and width (Keras PReLU(shared_axes=[1, 2]))`,
  },
  quantizeFloatInput: {
    doc: 'Float→int quantization of a graph input is not mapped (only 8-bit requantization is).',
    violated: (c) => inputAt(c, 0)?.dtype === 'float32',
    reason: () => 'it quantizes a float input; the Edge TPU only requantizes between 8-bit types',
    fix: (c) =>
      `convert with inference_input_type int8/uint8 so the model takes quantized input and "${c.layer}" disappears`,
  },
  resizeScale: {
    doc: 'Not from a 1×1 input; output H·W ≤ 65,536 and upscale factor ≤ 8 (threshold inferred from real pairs).',
    violated: (c) => {
      const x = inputAt(c, 0);
      const y = outputAt(c, 0);
      if (!x || !y) return false;
      const [ih, iw] = spatial(x.shape);
      const [oh, ow] = spatial(y.shape);
      if (ih * iw === 1 && oh * ow > 1) return true;
      return oh * ow > 65_536 || oh / ih > 8 || ow / iw > 8;
    },
    reason: (c) => {
      const [ih, iw] = spatial(inputAt(c, 0)!.shape);
      const [oh, ow] = spatial(outputAt(c, 0)!.shape);
      return ih * iw === 1
        ? `it upsamples from a 1×1 input to ${oh}×${ow}, which the Edge TPU does not map`
        : `it upsamples ${ih}×${iw} to ${oh}×${ow}, larger than the Edge TPU maps (output H·W > 65,536 or factor > 8)`;
    },
    fix: (c) => {
      const [ih, iw] = spatial(inputAt(c, 0)!.shape);
      return ih * iw === 1
        ? `replace layer "${c.layer}" (a broadcast of a 1×1 tensor) by TILE or by ADD/MUL broadcasting, or keep it after the Edge TPU part`
        : `upsample in steps of at most ×2–×8 or to a smaller output in layer "${c.layer}", or do the final resize on the host`;
    },
  },
  softmaxSize: {
    doc: 'At most 16,000 elements.',
    violated: (c) => numElements(inputAt(c, 0)?.shape ?? []) > 16_000,
    reason: (c) => `the softmax has ${numElements(inputAt(c, 0)?.shape ?? [])} elements, more than 16,000`,
    fix: (c) => `reduce the number of classes of layer "${c.layer}" or apply the softmax on the host`,
  },
  squeezeLeading: {
    doc: '≤12: only leading 1s may be squeezed (no relayout). 13+: no limitation.',
    violated: (c) => {
      if (c.minRuntime > 12) return false;
      const x = inputAt(c, 0);
      if (!x) return false;
      const dims = opt<number[]>(c, 'squeezeDims') ?? [];
      const squeezed = dims.length
        ? dims.map((d) => normAxis(d, x.shape.length))
        : x.shape.flatMap((d, i) => (d === 1 ? [i] : []));
      return squeezed.some((i) => x.shape.slice(0, i).some((d) => d !== 1));
    },
    reason: () => 'it squeezes a dimension that is not a leading 1 (needs a relayout before runtime 13)',
    fix: (c) => `compile with -m 13 or newer, or use RESHAPE in layer "${c.layer}"`,
  },
  stridedSliceMasks: {
    doc: 'All strides 1; ellipsis mask 0; new-axis mask 0.',
    violated: (c) =>
      (constInts(inputAt(c, 3)) ?? []).some((s) => s !== 1) ||
      (opt(c, 'ellipsisMask') ?? 0) !== 0 ||
      (opt(c, 'newAxisMask') ?? 0) !== 0,
    reason: () => 'the strided slice uses strides other than 1 or an ellipsis/new-axis mask',
    fix: (c) =>
      `use stride 1 without ellipsis/new-axis in layer "${c.layer}" (subsample with a strided CONV_2D/pool instead)`,
  },
  tileSpatialBroadcast: {
    doc: 'Only the spatial broadcast [1,1,1,C]→[1,H,W,C] seen in real compiled models.',
    violated: (c) => {
      const x = inputAt(c, 0);
      const m = constInts(inputAt(c, 1));
      if (!x || !m || x.shape.length !== 4) return true;
      return activeDims(x.shape.slice(0, 3)) > 0 || m[0] !== 1 || m[3] !== 1;
    },
    reason: () => 'only a spatial broadcast of a [1,1,1,C] tensor is known to map',
    fix: (c) => `restructure layer "${c.layer}" as a broadcast of a 1×1×C tensor over height and width`,
  },
};
