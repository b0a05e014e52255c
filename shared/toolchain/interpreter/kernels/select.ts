import { numElements } from '../../ir/graph.js';
import { broadcastShapes } from '../../ir/shape-inference.js';
import { badOp, unsupportedCase, unsupportedType } from '../errors.js';
import type { Kernel } from '../kernel.js';
import { broadcastIndex } from './broadcast.js';

type Any = { length: number; [i: number]: number | bigint };

/** Value types TFLite 2.9's SELECT_V2 (select.cc) copies; 8-bit values are copied raw, as TFLite does. */
const TYPES = new Set(['float32', 'int32', 'int64', 'int16', 'int8', 'uint8', 'bool']);

const same = (a: readonly number[], b: readonly number[]): boolean =>
  a.length === b.length && a.every((d, i) => d === b[i]);

/**
 * SELECT_V2: output[i] = condition[i] ? x[i] : y[i], the three inputs broadcast against each other (TFLite 2.9's
 * BroadcastSelect5DSlow; the same-shape case is its plain Select). Values are copied, never converted: bit-exact.
 */
export const selectV2: Kernel = (k) => {
  if (k.dtype(0) !== 'bool') throw unsupportedType(k.op, `a ${k.dtype(0)} condition (it must be bool)`);
  const d = k.dtype(1);
  if (!TYPES.has(d)) throw unsupportedType(k.op, d);
  if (k.dtype(2) !== d) throw badOp(k.op, `x is ${d} but y is ${k.dtype(2)}; they must have one type`);
  const shapes = [k.shape(0), k.shape(1), k.shape(2)];
  if (shapes.some((s) => s.length > 5))
    throw unsupportedCase(k.op, 'inputs of rank above 5', 'TFLite broadcasts SELECT_V2 inputs of rank 5 at most');
  const shape = broadcastShapes(broadcastShapes(shapes[0]!, shapes[1]!), shapes[2]!);
  const [ic, ix, iy] = shapes.map((s) => (same(s, shape) ? null : broadcastIndex(s, shape)));
  const c = k.input(0) as Uint8Array;
  const x = k.input(1) as unknown as Any;
  const y = k.input(2) as unknown as Any;
  const out = k.output(0, shape) as unknown as Any;
  const n = numElements(shape);
  return () => {
    for (let i = 0; i < n; i++) {
      out[i] = c[ic ? ic[i]! : i] ? x[ix ? ix[i]! : i]! : y[iy ? iy[i]! : i]!;
    }
  };
};
