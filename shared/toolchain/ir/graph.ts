import type { DType } from './dtype.js';
import type { Op, Quantization, Tensor } from './types.js';

export interface TensorSpec {
  name: string;
  dtype: DType;
  shape: number[];
  shapeSignature?: number[];
  quant?: Quantization;
  data?: Uint8Array;
  isVariable?: boolean;
  extra?: Record<string, unknown>;
}

export interface OpSpec {
  type: string;
  version?: number;
  inputs: number[];
  outputs: number[];
  options?: object | null;
  optionsType?: number;
  customCode?: string;
  customOptions?: Uint8Array;
  extra?: Record<string, unknown>;
}

/** Who produces and who consumes each tensor. Recomputed on demand; cheap (one pass over the ops). */
export interface GraphIndex {
  /** producer[t] = op id, or −1 for graph inputs and constants. */
  producer: Int32Array;
  consumers: number[][];
}

/**
 * A dataflow graph: tensors and operators. `ops` is in execution order (as TFLite stores it); `topoOrder()` recomputes
 * a valid order after transforms. Loaders produce it, the quantizer and the compile stage transform and read it.
 */
export class Graph {
  readonly tensors: Tensor[] = [];
  readonly ops: Op[] = [];
  inputs: number[] = [];
  outputs: number[] = [];
  name = '';

  addTensor(spec: TensorSpec): Tensor {
    const t: Tensor = { id: this.tensors.length, ...spec, shape: [...spec.shape] };
    this.tensors.push(t);
    return t;
  }

  addOp(spec: OpSpec): Op {
    const op: Op = {
      id: this.ops.length,
      type: spec.type,
      version: spec.version ?? 1,
      inputs: [...spec.inputs],
      outputs: [...spec.outputs],
      options: spec.options ?? null,
      optionsType: spec.optionsType ?? 0,
      ...(spec.customCode !== undefined ? { customCode: spec.customCode } : {}),
      ...(spec.customOptions !== undefined ? { customOptions: spec.customOptions } : {}),
      ...(spec.extra !== undefined ? { extra: spec.extra } : {}),
    };
    this.ops.push(op);
    return op;
  }

  tensor(id: number): Tensor {
    const t = this.tensors[id];
    if (!t) throw new Error(`no tensor ${id}`);
    return t;
  }

  isConstant(id: number): boolean {
    const t = this.tensors[id];
    return t !== undefined && t.data !== undefined && !t.isVariable;
  }

  index(): GraphIndex {
    const producer = new Int32Array(this.tensors.length).fill(-1);
    const consumers: number[][] = this.tensors.map(() => []);
    for (const op of this.ops) {
      for (const t of op.outputs) if (t >= 0) producer[t] = op.id;
      for (const t of op.inputs) if (t >= 0 && !consumers[t]!.includes(op.id)) consumers[t]!.push(op.id);
    }
    return { producer, consumers };
  }

  /** Ops in a dependency-respecting order, stable with respect to `ops` order. Throws on a cycle. */
  topoOrder(): Op[] {
    const { producer } = this.index();
    const pending = new Int32Array(this.ops.length);
    const users: number[][] = this.ops.map(() => []);
    for (const op of this.ops) {
      const deps = new Set<number>();
      for (const t of op.inputs) if (t >= 0 && producer[t]! >= 0 && producer[t] !== op.id) deps.add(producer[t]!);
      pending[op.id] = deps.size;
      for (const d of deps) users[d]!.push(op.id);
    }
    const order: Op[] = [];
    const ready: number[] = [];
    for (const op of this.ops) if (pending[op.id] === 0) ready.push(op.id);
    while (ready.length > 0) {
      ready.sort((a, b) => a - b);
      const id = ready.shift()!;
      order.push(this.ops[id]!);
      for (const u of users[id]!) if (--pending[u]! === 0) ready.push(u);
    }
    if (order.length !== this.ops.length) {
      const stuck = this.ops.filter((o) => pending[o.id]! > 0).map((o) => `${o.type}#${o.id}`);
      throw new GraphCycleError(stuck);
    }
    return order;
  }

  /**
   * A copy with only what the outputs need: unreachable ops and unreferenced tensors are dropped, ids renumbered,
   * ops put in topological order. Graph inputs are always kept.
   */
  compact(): Graph {
    const order = this.topoOrder();
    const { producer } = this.index();
    const liveOps = new Set<number>();
    const stack = [...this.outputs];
    const seen = new Set<number>();
    while (stack.length > 0) {
      const t = stack.pop()!;
      if (seen.has(t)) continue;
      seen.add(t);
      const p = producer[t]!;
      if (p >= 0 && !liveOps.has(p)) {
        liveOps.add(p);
        for (const i of this.ops[p]!.inputs) if (i >= 0) stack.push(i);
      }
    }
    const g = new Graph();
    g.name = this.name;
    const remap = new Map<number, number>();
    const mapT = (t: number): number => {
      if (t < 0) return t;
      let n = remap.get(t);
      if (n === undefined) {
        const { id: _id, ...spec } = this.tensors[t]!;
        n = g.addTensor(spec).id;
        remap.set(t, n);
      }
      return n;
    };
    g.inputs = this.inputs.map(mapT);
    for (const op of order) {
      if (!liveOps.has(op.id)) continue;
      const { id: _id, ...spec } = op;
      g.addOp({ ...spec, inputs: op.inputs.map(mapT), outputs: op.outputs.map(mapT) });
    }
    g.outputs = this.outputs.map(mapT);
    return g;
  }
}

export class GraphCycleError extends Error {
  constructor(readonly ops: string[]) {
    super(`the graph has a cycle through ${ops.slice(0, 5).join(', ')}${ops.length > 5 ? ', …' : ''}`);
  }
}

export function numElements(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/** Strides of a row-major shape (elements). */
export function stridesOf(shape: readonly number[]): number[] {
  const s = new Array<number>(shape.length);
  let acc = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    s[i] = acc;
    acc *= shape[i]!;
  }
  return s;
}
