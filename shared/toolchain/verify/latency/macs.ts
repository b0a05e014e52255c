import type { Graph } from '../../ir/graph.js';
import { numElements } from '../../ir/graph.js';
import type { Op } from '../../ir/types.js';
import { OPS } from '../../ops/catalog.js';
import type { MacRule } from '../../ops/types.js';

/** How an op uses the Edge TPU: the MAC array (with a per-class utilisation) or the elementwise/data-movement path. */
export type OpClass = 'conv' | 'depthwise' | 'fc' | 'elementwise';

export interface OpWork {
  cls: OpClass;
  /** Multiply-accumulates as the layer defines them. */
  macs: number;
  /**
   * MACs after padding channels to the array granularity (output channels and weights per output channel rounded up
   * to 16, the same 16-lane rule as the parameter layout in edgetpu/memory.ts): what the 4,096-MAC array spends.
   */
  paddedMacs: number;
  /** Activation elements the op reads and writes (non-constant inputs + outputs). */
  elements: number;
}

const CHANNEL_LANES = 16;
const up = (x: number, m: number): number => Math.ceil(x / m) * m;

function elementsOf(g: Graph, op: Op): number {
  let n = 0;
  for (const t of [...op.inputs, ...op.outputs]) if (t >= 0 && !g.isConstant(t)) n += numElements(g.tensor(t).shape);
  return n;
}

/**
 * Per-rule work: [class, macs, padded macs] from the weight shape [a, …], the output shape and the data input shape.
 * Which op uses which rule, and where its weights and data inputs are, is the op catalog's `macs`.
 */
export const MAC_RULES: Readonly<
  Record<MacRule, (w: readonly number[], out: readonly number[], x: readonly number[]) => [OpClass, number, number]>
> = {
  // weights [Cout, kh, kw, Cin]; output [1, H, W, Cout]
  conv: (w, out) => {
    const px = out[1]! * out[2]!;
    const k = w[1]! * w[2]! * w[3]!;
    return ['conv', px * w[0]! * k, px * up(w[0]!, CHANNEL_LANES) * up(k, CHANNEL_LANES)];
  },
  // weights [1, kh, kw, C·m]
  depthwise: (w, out) => {
    const px = out[1]! * out[2]!;
    const k = w[1]! * w[2]!;
    return ['depthwise', px * w[3]! * k, px * up(w[3]!, CHANNEL_LANES) * k];
  },
  // weights [units, K]
  fc: (w, out) => {
    const rows = numElements(out) / w[0]!;
    return ['fc', rows * w[0]! * w[1]!, rows * up(w[0]!, CHANNEL_LANES) * up(w[1]!, CHANNEL_LANES)];
  },
  // weights [Cout, kh, kw, Cin]; every input pixel meets the whole kernel
  transposeConv: (w, _out, x) => {
    const px = x[1]! * x[2]!;
    const k = w[1]! * w[2]! * w[3]!;
    return ['conv', px * w[0]! * k, px * up(w[0]!, CHANNEL_LANES) * up(k, CHANNEL_LANES)];
  },
};

export function opWork(g: Graph, op: Op): OpWork {
  const elements = elementsOf(g, op);
  const spec = OPS[op.type]?.macs;
  const rule = spec ? MAC_RULES[spec.rule] : undefined;
  const w = spec ? op.inputs[spec.weights] : undefined;
  const x = spec ? op.inputs[spec.data] : undefined;
  if (rule && w !== undefined && w >= 0 && x !== undefined && x >= 0) {
    const [cls, macs, paddedMacs] = rule(g.tensor(w).shape, g.tensor(op.outputs[0]!).shape, g.tensor(x).shape);
    return { cls, macs, paddedMacs, elements };
  }
  return { cls: 'elementwise', macs: 0, paddedMacs: 0, elements };
}
