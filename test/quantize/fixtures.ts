import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import * as bmp from 'bmp-ts';
import { readFileSync } from 'node:fs';
import { typedView } from '../../shared/toolchain/ir/dtype.js';
import { ModelBuilder } from '../../shared/toolchain/ir/builder.js';
import type { IrModel } from '../../shared/toolchain/ir/model.js';
import type { Tensor } from '../../shared/toolchain/ir/types.js';
import { rng } from '../helpers/models.js';

function dequantizedValues(t: Tensor): Float32Array {
  const q = t.quant!;
  const raw = typedView(t.dtype, t.data!) as Int8Array | Uint8Array | Int32Array;
  const inner = q.scale.length > 1 ? t.shape.slice(q.axis + 1).reduce((a, b) => a * b, 1) : raw.length;
  return Float32Array.from(raw, (v, i) => {
    const c = q.scale.length > 1 ? Math.floor(i / inner) % q.scale.length : 0;
    return q.scale[c]! * (v - q.zeroPoint[c]!);
  });
}

/**
 * A float model with the same graph and the dequantized weights of a quantized one, rebuilt with the IR builder:
 * a real trained network in float (e.g. MobileNet v1 from its quantization-aware-trained uint8 file). Quantized
 * activations become float32; other outputs keep their type (ARG_MAX's int64, the float outputs of a custom op, which
 * keeps its code and options). A QUANTIZE between two quantized tensors only requantizes: in float it is the identity
 * and is left out.
 */
export function dequantizeToFloat(
  q: IrModel,
  description = 'float network, dequantized from a quantized model',
): IrModel {
  const g = q.graph;
  const b = new ModelBuilder();
  const map = new Map<number, number>();
  const quantized = (id: number): boolean => {
    const t = g.tensor(id);
    return !!t.quant && (t.dtype === 'uint8' || t.dtype === 'int8');
  };
  for (const id of g.inputs) {
    const t = g.tensor(id);
    map.set(id, b.input(t.name, t.shape, quantized(id) ? 'float32' : t.dtype));
  }
  const tensorOf = (id: number): number => {
    if (id < 0) return id;
    const known = map.get(id);
    if (known !== undefined) return known;
    const t = g.tensor(id);
    if (!t.data) throw new Error(`tensor ${t.name} used before it is produced`);
    const nid =
      t.quant && t.dtype !== 'int64'
        ? b.constant(t.name, 'float32', t.shape, dequantizedValues(t))
        : b.constant(t.name, t.dtype, t.shape, typedView(t.dtype, t.data));
    map.set(id, nid);
    return nid;
  };
  for (const op of g.ops) {
    if (op.type === 'QUANTIZE' && quantized(op.inputs[0]!) && quantized(op.outputs[0]!)) {
      map.set(op.outputs[0]!, tensorOf(op.inputs[0]!));
      continue;
    }
    const outs = b.op(
      op.type,
      op.inputs.map(tensorOf),
      { ...(op.options ?? {}) },
      {
        ...(op.customCode !== undefined ? { customCode: op.customCode } : {}),
        ...(op.customOptions !== undefined ? { customOptions: op.customOptions } : {}),
        outputs: op.outputs.map((o) => {
          const t = g.tensor(o);
          return { name: t.name, dtype: quantized(o) ? 'float32' : t.dtype, shape: t.shape };
        }),
      },
    );
    op.outputs.forEach((o, i) => map.set(o, outs[i]!));
  }
  b.output(...g.outputs.map((o) => map.get(o)!));
  return b.build(description);
}

/** RGB pixels of a BMP file. */
export function readBmpRgb(path: string): { data: Buffer; width: number; height: number } {
  const img = bmp.decode(readFileSync(path), { toRGBA: true });
  const rgb = Buffer.alloc(img.width * img.height * 3);
  for (let i = 0, j = 0; j < rgb.length; i += 4, j += 3) {
    rgb[j] = img.data[i]!;
    rgb[j + 1] = img.data[i + 1]!;
    rgb[j + 2] = img.data[i + 2]!;
  }
  return { data: rgb, width: img.width, height: img.height };
}

/**
 * Augmented crops of one photo written as PNG files: random crop (minCrop–100 % of the short side), random flip,
 * brightness/saturation/hue jitter. Deterministic for a seed.
 */
export async function writeAugmentedCrops(
  src: { data: Buffer; width: number; height: number },
  dir: string,
  n: number,
  seed: number,
  size: number,
  minCrop = 0.4,
): Promise<string[]> {
  const r = rng(seed);
  const files: string[] = [];
  for (let i = 0; i < n; i++) {
    const short = Math.min(src.width, src.height);
    const side = Math.round(short * (minCrop + (1 - minCrop) * r()));
    const left = Math.floor(r() * (src.width - side + 1));
    const top = Math.floor(r() * (src.height - side + 1));
    let p = sharp(src.data, { raw: { width: src.width, height: src.height, channels: 3 } })
      .extract({ left, top, width: side, height: side })
      .resize(size, size);
    if (r() < 0.5) p = p.flop();
    p = p.modulate({ brightness: 0.7 + 0.6 * r(), saturation: 0.6 + 0.8 * r(), hue: Math.round((r() - 0.5) * 40) });
    const file = join(dir, `aug_${seed}_${String(i).padStart(3, '0')}.png`);
    writeFileSync(file, await p.png().toBuffer());
    files.push(file);
  }
  return files;
}
