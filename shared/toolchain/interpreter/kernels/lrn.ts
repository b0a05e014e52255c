/**
 * LOCAL_RESPONSE_NORMALIZATION (float32) as TFLite's reference kernel: along the last axis,
 * y = x / (bias + alpha · Σ x² over [c − radius, c + radius]) ^ beta, each step in float32.
 */

import { unsupportedType } from '../errors.js';
import type { Kernel } from '../kernel.js';

export const localResponseNormalization: Kernel = (k) => {
  if (k.dtype(0) !== 'float32') throw unsupportedType(k.op, k.dtype(0));
  const shape = k.shape(0);
  const x = k.input(0) as Float32Array;
  const y = k.output(0, shape) as Float32Array;
  const depth = shape[shape.length - 1]!;
  const radius = Number(k.opts.radius ?? 0);
  const bias = Math.fround(Number(k.opts.bias ?? 0));
  const alpha = Math.fround(Number(k.opts.alpha ?? 0));
  const beta = Math.fround(Number(k.opts.beta ?? 0));
  const f = Math.fround;
  return () => {
    for (let base = 0; base < x.length; base += depth)
      for (let c = 0; c < depth; c++) {
        let sum = 0;
        for (let j = Math.max(0, c - radius); j <= Math.min(depth - 1, c + radius); j++) {
          const v = x[base + j]!;
          sum = f(sum + f(v * v));
        }
        y[base + c] = f(x[base + c]! / f(Math.pow(f(bias + f(alpha * sum)), beta)));
      }
  };
};
