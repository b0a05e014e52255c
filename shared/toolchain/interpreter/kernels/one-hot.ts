import { numElements } from '../../ir/graph.js';
import { badOp, unsupportedCase, unsupportedType } from '../errors.js';
import type { Kernel } from '../kernel.js';

type Any = { length: number; [i: number]: number | bigint };

/** Output (= on/off value) types TFLite 2.9's ONE_HOT evaluates. */
const TYPES = new Set(['float32', 'int32', 'int64', 'int8', 'uint8', 'bool']);

/**
 * ONE_HOT (TFLite 2.9 one_hot.cc): inputs indices (int32/int64), depth (int32 scalar, constant here), on and off
 * (scalars of the output type); option axis (−1 = last). output(i, j, k) = indices(i, k) == j ? on : off, where the
 * index is compared as a C int (an int64 index keeps its low 32 bits, as static_cast<int> does); indices outside
 * [0, depth) give a row of off values.
 */
export const oneHot: Kernel = (k) => {
  const id = k.dtype(0);
  if (id !== 'int32' && id !== 'int64') throw unsupportedType(k.op, `${id} indices (int32 or int64)`);
  const d = k.dtype(2);
  if (!TYPES.has(d)) throw unsupportedType(k.op, `${d} values`);
  if (k.dtype(3) !== d) throw badOp(k.op, `on value is ${d} but off value is ${k.dtype(3)}; they must have one type`);
  if (k.dtype(1) !== 'int32') throw badOp(k.op, `depth must be int32, not ${k.dtype(1)}`);
  const depthValues = k.constInts(1);
  if (!depthValues)
    throw unsupportedCase(
      k.op,
      'a depth computed at run time',
      'Make depth a constant (the interpreter plans every output shape once); the TFLite runtime runs it as is',
    );
  if (depthValues.length !== 1) throw badOp(k.op, `depth must hold one value, not ${depthValues.length}`);
  if (numElements(k.shape(2)) !== 1 || numElements(k.shape(3)) !== 1)
    throw badOp(k.op, 'on and off values must be scalars');
  const depth = depthValues[0]!;
  if (depth < 0) throw badOp(k.op, `depth is ${depth}; it must be ≥ 0`);
  const ishape = k.shape(0);
  const raw = (k.opts.axis as number | undefined) ?? -1;
  const axis = raw === -1 ? ishape.length : raw;
  if (axis < 0 || axis > ishape.length)
    throw badOp(k.op, `axis ${raw} is outside [-1, ${ishape.length}] for rank-${ishape.length} indices`);
  const shape = [...ishape.slice(0, axis), depth, ...ishape.slice(axis)];
  const prefix = numElements(ishape.slice(0, axis));
  const suffix = numElements(ishape.slice(axis));
  const idx = k.input(0) as unknown as Any;
  const on = k.input(2) as unknown as Any;
  const off = k.input(3) as unknown as Any;
  const out = k.output(0, shape) as unknown as Any;
  const asInt = id === 'int64' ? (v: number | bigint): number => Number(BigInt.asIntN(32, v as bigint)) : Number;
  const cls = new Int32Array(prefix * suffix);
  return () => {
    for (let i = 0; i < cls.length; i++) cls[i] = asInt(idx[i]!);
    const a = on[0]!;
    const b = off[0]!;
    let o = 0;
    for (let i = 0; i < prefix; i++)
      for (let j = 0; j < depth; j++) for (let s = 0; s < suffix; s++) out[o++] = cls[i * suffix + s] === j ? a : b;
  };
};
