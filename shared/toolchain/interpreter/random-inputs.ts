import { KilnError } from '../../common/errors.js';
import type { AnyTypedArray } from '../ir/dtype.js';
import { numElements } from '../ir/graph.js';
import type { Tensor } from '../ir/types.js';
import { rng } from '../../common/rng.js';

/** Deterministic inputs for every model input: full integer range for 8/16-bit, [−1, 1) for floats. */
export function randomInputs(inputs: readonly Tensor[], seed: number): AnyTypedArray[] {
  const r = rng(seed);
  return inputs.map((t) => {
    const n = numElements(t.shape);
    switch (t.dtype) {
      case 'float32':
        return Float32Array.from({ length: n }, () => r() * 2 - 1);
      case 'uint8':
        return Uint8Array.from({ length: n }, () => Math.floor(r() * 256));
      case 'int8':
        return Int8Array.from({ length: n }, () => Math.floor(r() * 256) - 128);
      case 'int16':
        return Int16Array.from({ length: n }, () => Math.floor(r() * 65536) - 32768);
      case 'int32':
        return Int32Array.from({ length: n }, () => Math.floor(r() * 256) - 128);
      case 'bool':
        return Uint8Array.from({ length: n }, () => (r() < 0.5 ? 0 : 1));
      default:
        throw new KilnError('E_UNSUPPORTED_TYPE', `cannot generate random ${t.dtype} values for input ${t.name}`, {
          hint: 'Pass the input as a .npy file with --input',
        });
    }
  });
}
