/**
 * The small emitters a composed ONNX node builds from: fresh tensor names under the node's own name, float32 scalar
 * constants, and unary / binary / n-ary builtins with a generated output name. Converters that expand one ONNX node
 * into many builtins (quantize-linear.ts, recurrent.ts) extend it with their own steps.
 */
import type { OnnxCtx } from '../context.js';
import { F32 } from './common.js';

export class NodeSteps {
  private n = 0;
  constructor(readonly c: OnnxCtx) {}

  fresh(tag: string): string {
    return `${this.c.name}/${tag}_${this.n++}`;
  }

  /** A float32 scalar constant. */
  k(v: number): number {
    return this.c.b.constant(this.fresh('k'), F32, [], [v]);
  }

  unary(type: string, x: number): number {
    return this.c.b.unary(type, x, { name: this.fresh(type.toLowerCase()) });
  }

  bin(type: 'ADD' | 'SUB' | 'MUL' | 'DIV', a: number, b: number, name?: string): number {
    return this.c.b.binary(type, a, b, {}, { name: name ?? this.fresh(type.toLowerCase()) });
  }

  /** A builtin of one output (shape and type inferred by the builder). */
  op(type: string, inputs: number[], name?: string): number {
    return this.c.b.op(type, inputs, {}, { outputs: [{ name: name ?? this.fresh(type.toLowerCase()) }] })[0]!;
  }
}
