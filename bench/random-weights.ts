import type { ModelBuilder } from '../shared/toolchain/ir/builder.js';
import { rng } from '../shared/common/rng.js';

/**
 * Seeded random constants for the bench's float models (the layer shapes decide the speed, not the values):
 * He-uniform weights over `fanIn`, small biases, and the count of parameters made so far.
 */
export function randomConstants(b: ModelBuilder, seed: number) {
  const r = rng(seed);
  let params = 0;
  const constant = (name: string, shape: number[], value: () => number): number => {
    const n = shape.reduce((a, c) => a * c, 1);
    params += n;
    return b.constant(name, 'float32', shape, Float32Array.from({ length: n }, value));
  };
  return {
    weights: (name: string, shape: number[], fanIn: number): number => {
      const s = Math.sqrt(6 / fanIn);
      return constant(name, shape, () => (r() * 2 - 1) * s);
    },
    bias: (name: string, n: number): number => constant(name, [n], () => (r() - 0.5) * 0.1),
    params: (): number => params,
  };
}
