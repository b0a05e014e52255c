import type { Graph, GraphIndex, OpSpec } from '../../ir/graph.js';
import type { OpRule } from '../op-rules.js';
import type { QParams } from '../quant-params.js';
import type { RangeMethod, TensorStat } from '../ranges.js';

export interface PassOptions {
  method: RangeMethod;
  percentile: number;
  io: 'uint8' | 'int8';
  allowFloatFallback: boolean;
}

/** What the quantization passes share: the working graph (mutated in place) and what earlier passes decided. */
export interface PassContext {
  g: Graph;
  /** Producers/consumers of the graph as it was before any pass ran. */
  index: GraphIndex;
  stats: Map<number, TensorStat>;
  options: PassOptions;
  /** Rule of each quantized op (ops left in float are absent). */
  rules: Map<number, OpRule>;
  /** Ops kept in float (with allowFloatFallback; float-tail custom ops always). */
  floatOps: Set<number>;
  /** Outputs of float-tail ops (FLOAT_TAIL_CUSTOM_OPS) that only leave the model: they stay float32. */
  floatOutputs: Set<number>;
  /** Float range of each activation (and of non-weight float constants). */
  ranges: Map<number, [number, number]>;
  /** Tensors whose parameters the kernel fixes. */
  fixed: Map<number, QParams>;
  /** Final int8 parameters of each activation. */
  params: Map<number, QParams>;
  /** Constant tensors handled as weights or biases (not quantized as activations). */
  weightTensors: Set<number>;
  /** Ops to insert right before / after an op, and at the start / end of the graph (emitted by the last pass). */
  before: Map<number, OpSpec[]>;
  after: Map<number, OpSpec[]>;
  prologue: OpSpec[];
  epilogue: OpSpec[];
  warnings: string[];
}

export interface Pass {
  name: string;
  run(ctx: PassContext): void;
}

/** Float tensors that flow between ops (graph inputs and op outputs). */
export function isActivation(ctx: PassContext, id: number): boolean {
  const t = ctx.g.tensors[id];
  return t !== undefined && t.dtype === 'float32' && !ctx.g.isConstant(id);
}
