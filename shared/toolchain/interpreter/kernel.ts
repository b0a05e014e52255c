import type { AnyTypedArray, DType } from '../ir/dtype.js';
import type { Graph } from '../ir/graph.js';
import type { Op, Tensor } from '../ir/types.js';

/** What a kernel sees while it prepares: the op, its tensors, and buffers fixed for every run. */
export interface KernelArgs {
  readonly op: Op;
  readonly graph: Graph;
  /** Options of the op (the flatc …OptionsT object), or an empty object. */
  readonly opts: Record<string, any>;
  /** IR tensor of input i; undefined for an omitted optional input. */
  tensor(i: number): Tensor | undefined;
  /** IR tensor of output i. */
  outTensor(i: number): Tensor;
  /** Resolved shape of input i. */
  shape(i: number): number[];
  dtype(i: number): DType;
  /** Buffer of input i (a constant's data or an activation's planned buffer). */
  input(i: number): AnyTypedArray;
  /** True when input i is a constant. */
  isConst(i: number): boolean;
  /** Integer values of constant input i, or null when it is not a constant. */
  constInts(i: number): number[] | null;
  /** Declares output i's shape and returns its buffer (dtype from the IR tensor). */
  output(i: number, shape: number[]): AnyTypedArray;
  readonly numInputs: number;
  readonly numOutputs: number;
  /** Names the implementation this op runs on (for profiles, e.g. "wasm qgemm8 + im2col"); default "js". */
  kernel(name: string): void;
}

/** Prepares one op once (validates, packs weights, precomputes multipliers) and returns the function that runs it. */
export type Kernel = (k: KernelArgs) => () => void;

export interface KernelEntry {
  /** Highest TFLite op version whose semantics this kernel implements. */
  maxVersion: number;
  prepare: Kernel;
}
