/**
 * BROADCAST_TO and FILL: the output's shape is the one the model states (Kiln's graphs are static); BROADCAST_TO
 * copies each element from its broadcast source, FILL repeats the scalar value. Any element type.
 */

import type { Kernel } from '../kernel.js';
import { broadcastIndex } from './broadcast.js';

type Writable = { [i: number]: number | bigint; length: number };

export const broadcastTo: Kernel = (k) => {
  const shape = k.outTensor(0).shape;
  const x = k.input(0) as unknown as Writable;
  const y = k.output(0, shape) as unknown as Writable;
  const idx = broadcastIndex(k.shape(0), shape);
  return () => {
    for (let i = 0; i < idx.length; i++) y[i] = x[idx[i]!]!;
  };
};

export const fill: Kernel = (k) => {
  const v = k.input(1) as unknown as Writable;
  const y = k.output(0, k.outTensor(0).shape) as unknown as Writable;
  return () => {
    const value = v[0]!;
    for (let i = 0; i < y.length; i++) y[i] = value;
  };
};
