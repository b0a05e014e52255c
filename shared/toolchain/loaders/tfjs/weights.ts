import { KilnError } from '../../../common/errors.js';
import type { DType } from '../../ir/dtype.js';
import { numElements } from '../../ir/graph.js';
import { halfToFloat, type HostTensor } from '../tensor.js';

/** One entry of a TF.js weights manifest. */
export interface WeightSpec {
  name: string;
  shape: number[];
  dtype: string;
  quantization?: { dtype: string; scale?: number; min?: number; original_dtype?: string };
}

export interface WeightGroup {
  paths: string[];
  weights: WeightSpec[];
}

const PLAIN: Record<string, { dtype: DType; bytes: number }> = {
  float32: { dtype: 'float32', bytes: 4 },
  int32: { dtype: 'int32', bytes: 4 },
  bool: { dtype: 'bool', bytes: 1 },
};
const QUANT_BYTES: Record<string, number> = { uint8: 1, uint16: 2, float16: 2 };

const bad = (msg: string): KilnError =>
  new KilnError('E_BAD_ARGUMENT', msg, { hint: 'Re-export the model with the TF.js converter' });

export function checkManifest(m: unknown, what: string): WeightGroup[] {
  if (!Array.isArray(m)) throw bad(`${what}: "weightsManifest" is not a list`);
  for (const g of m) {
    if (!g || !Array.isArray(g.paths) || !Array.isArray(g.weights))
      throw bad(`${what}: a weights group lacks "paths" or "weights"`);
  }
  return m as WeightGroup[];
}

/**
 * Reads the weights of a TF.js manifest from its shard files, dequantizing uint8/uint16 affine-quantized weights
 * (value = q · scale + min) and float16 weights to float32, as tfjs does on load. Keys are the manifest names.
 */
export function decodeWeights(
  groups: WeightGroup[],
  read: (path: string) => Uint8Array | undefined,
  what: string,
): Map<string, HostTensor> {
  const out = new Map<string, HostTensor>();
  for (const g of groups) {
    const shards = g.paths.map((p) => {
      const b = read(p);
      if (!b)
        throw new KilnError('E_FILE_NOT_FOUND', `${what}: weight file "${p}" is missing`, {
          hint: 'Upload the weight shards next to model.json',
        });
      return b;
    });
    const total = shards.reduce((n, s) => n + s.length, 0);
    const buf = new Uint8Array(total);
    let o = 0;
    for (const s of shards) {
      buf.set(s, o);
      o += s.length;
    }
    let off = 0;
    for (const w of g.weights) {
      const n = numElements(w.shape);
      const q = w.quantization;
      if (w.dtype === 'string') {
        const strings: Uint8Array[] = [];
        const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
        for (let i = 0; i < n; i++) {
          if (off + 4 > buf.length) throw bad(`${what}: weight ${w.name} runs past the end of its shards`);
          const len = dv.getUint32(off, true);
          strings.push(buf.slice(off + 4, off + 4 + len));
          off += 4 + len;
        }
        out.set(w.name, { dtype: 'string', shape: [...w.shape], data: new Uint8Array(0), strings });
        continue;
      }
      if (q) {
        const width = QUANT_BYTES[q.dtype];
        if (!width) throw bad(`${what}: weight ${w.name} has unknown quantization dtype ${q.dtype}`);
        const bytes = n * width;
        if (off + bytes > buf.length) throw bad(`${what}: weight ${w.name} runs past the end of its shards`);
        const raw = buf.slice(off, off + bytes);
        off += bytes;
        const target = w.dtype === 'int32' ? 'int32' : 'float32';
        if (q.dtype === 'float16') {
          if (target !== 'float32') throw bad(`${what}: float16 quantization of a ${w.dtype} weight (${w.name})`);
          const f = halfToFloat(new Uint16Array(raw.buffer, raw.byteOffset, n));
          out.set(w.name, { dtype: 'float32', shape: [...w.shape], data: new Uint8Array(f.buffer) });
          continue;
        }
        if (q.scale === undefined || q.min === undefined)
          throw bad(`${what}: weight ${w.name} is ${q.dtype}-quantized without scale and min`);
        const qs = q.dtype === 'uint8' ? raw : new Uint16Array(raw.buffer, raw.byteOffset, n);
        const vals = target === 'int32' ? new Int32Array(n) : new Float32Array(n);
        for (let i = 0; i < n; i++) {
          const v = qs[i]! * q.scale + q.min;
          vals[i] = target === 'int32' ? Math.round(v) : v;
        }
        out.set(w.name, { dtype: target, shape: [...w.shape], data: new Uint8Array(vals.buffer) });
        continue;
      }
      const plain = PLAIN[w.dtype];
      if (!plain)
        throw new KilnError('E_UNSUPPORTED_TYPE', `${what}: weight ${w.name} has dtype ${w.dtype}`, {
          hint: 'Kiln reads float32, int32 and bool weights',
        });
      const bytes = n * plain.bytes;
      if (off + bytes > buf.length)
        throw bad(`${what}: weight ${w.name} runs past the end of its shards (${buf.length} bytes)`);
      out.set(w.name, { dtype: plain.dtype, shape: [...w.shape], data: buf.slice(off, off + bytes) });
      off += bytes;
    }
  }
  return out;
}
