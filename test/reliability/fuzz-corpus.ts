import { ModelBuilder } from '../../shared/toolchain/ir/builder.js';
import { toTflite } from '../../shared/toolchain/ir/to-tflite.js';
import { tinyCnnTflite } from '../../shared/toolchain/samples/tiny-cnn.js';
import { writeTflite } from '../../shared/toolchain/tflite/writer.js';
import { rng } from '../../shared/common/rng.js';

/** A small full-int8 model (conv → depthwise → add → avg pool → reshape → fully connected → softmax), uint8 I/O. */
export function tinyInt8Tflite(): Uint8Array {
  const q = ModelBuilder.quant;
  const b = new ModelBuilder();
  const x = b.input('image', [1, 8, 8, 3], 'uint8', q(1 / 128, 128));
  const xi = b.op('QUANTIZE', [x], {}, { outputs: [{ name: 'image_int8', dtype: 'int8', quant: q(1 / 128, 0) }] })[0]!;
  const w = b.constant(
    'conv/w',
    'int8',
    [4, 3, 3, 3],
    Array.from({ length: 108 }, (_v, i) => ((i * 37) % 255) - 127),
    q([0.01, 0.02, 0.015, 0.01], [0, 0, 0, 0], 0),
  );
  const bias = b.constant(
    'conv/b',
    'int32',
    [4],
    [10, -20, 30, 0],
    q([0.0000781, 0.000156, 0.000117, 0.0000781], [0, 0, 0, 0], 0),
  );
  const c = b.conv2d(xi, w, bias, { activation: 'RELU6' }, { dtype: 'int8', quant: q(6 / 255, -128) });
  const dw = b.constant(
    'dw/w',
    'int8',
    [1, 3, 3, 4],
    Array.from({ length: 36 }, (_v, i) => ((i * 53) % 255) - 127),
    q([0.02, 0.02, 0.02, 0.02], [0, 0, 0, 0], 3),
  );
  const dwb = b.constant('dw/b', 'int32', [4], [0, 5, -5, 1], q([0.00047, 0.00047, 0.00047, 0.00047], [0, 0, 0, 0], 0));
  const d = b.depthwiseConv2d(c, dw, dwb, {}, { dtype: 'int8', quant: q(0.05, 0) });
  const s = b.binary('ADD', c, d, {}, { dtype: 'int8', quant: q(0.06, -10) });
  const p = b.pool('AVERAGE_POOL_2D', s, { filter: 8 }, { dtype: 'int8', quant: q(0.06, -10) });
  const r = b.reshape(p, [1, 4], { dtype: 'int8', quant: q(0.06, -10) });
  const fw = b.constant('fc/w', 'int8', [3, 4], [1, -2, 3, -4, 5, -6, 7, -8, 9, -10, 11, -12], q(0.05, 0));
  const fb = b.constant('fc/b', 'int32', [3], [1, 2, 3], q(0.003, 0));
  const f = b.fullyConnected(r, fw, fb, {}, { dtype: 'int8', quant: q(0.1, 0) });
  const sm = b.softmax(f, 1, { dtype: 'int8', quant: q(1 / 256, -128) });
  b.output(b.op('QUANTIZE', [sm], {}, { outputs: [{ name: 'probs', dtype: 'uint8', quant: q(1 / 256, 0) }] })[0]!);
  return writeTflite(toTflite(b.build()));
}

export function seeds(extra: Uint8Array[] = []): Uint8Array[] {
  return [tinyCnnTflite(), tinyInt8Tflite(), ...extra];
}

const INTERESTING = [0, 1, 0xff, 0x7f, 0x80, 0xffffffff, 0x7fffffff, 0x80000000, 1_000_000, 16, 4096];

/** One mutated copy of `base`: byte flips, overwritten words with boundary values, truncation, or a spliced run. */
export function mutate(base: Uint8Array, seed: number): Uint8Array {
  const r = rng(seed);
  const pick = (n: number) => Math.floor(r() * n);
  const kind = pick(4);
  if (kind === 0) {
    const b = base.slice();
    for (let k = 1 + pick(8); k > 0; k--) b[8 + pick(b.length - 8)] = pick(256);
    return b;
  }
  if (kind === 1) {
    const b = base.slice();
    const dv = new DataView(b.buffer);
    for (let k = 1 + pick(3); k > 0; k--)
      dv.setUint32(4 * (2 + pick((b.length >> 2) - 3)), INTERESTING[pick(INTERESTING.length)]!, true);
    return b;
  }
  if (kind === 2) return base.slice(0, 8 + pick(base.length - 8));
  const b = base.slice();
  const len = 1 + pick(64);
  const from = pick(b.length - len);
  b.copyWithin(8 + pick(b.length - len - 8), from, from + len);
  return b;
}
