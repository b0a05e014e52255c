import { KilnError } from '../../errors.js';
import { numElements } from '../../ir/graph.js';
import { IrModel } from '../../ir/model.js';
import type { Tensor } from '../../ir/types.js';
import type { AnyTypedArray } from '../../ir/dtype.js';
import { Interpreter } from '../../interpreter/index.js';
import { intRange, isQuant8 } from '../../interpreter/quant.js';
import type { CalibrationConfig } from '../../data/input-config.js';
import { imageTargetOf } from '../../data/dataset.js';
import { normalizePixels } from '../../data/images.js';
import type { ImageTarget } from '../../data/images.js';
import type { CutPoint } from './cut.js';

/** The base model up to its embedding: the graph with the embedding as its only output (ops after it dropped). */
export function trunkOf(base: IrModel, cut: CutPoint): IrModel {
  const g = base.graph;
  const saved = g.outputs;
  g.outputs = [cut.tensor];
  try {
    const trunk = g.compact();
    return new IrModel([trunk], base.description);
  } finally {
    g.outputs = saved;
  }
}

/** The image target of a model's single input. */
export function imageInputOf(model: IrModel): { input: Tensor; target: ImageTarget } {
  const g = model.graph;
  const input = g.inputs.length === 1 ? g.tensor(g.inputs[0]!) : undefined;
  const target = input ? imageTargetOf(input) : null;
  if (!input || !target)
    throw new KilnError('E_SHAPE', 'the base model does not take one image ([1,H,W,1|3]) as its input', {
      hint: 'Use an image classifier as the base model',
    });
  return { input, target };
}

/** Pixels → what the model input takes: normalized floats, or those quantized with the input's parameters. */
export function inputValues(input: Tensor, px: Uint8Array, channels: number, cfg: CalibrationConfig): AnyTypedArray {
  const f = normalizePixels(px, channels, cfg);
  if (input.dtype === 'float32') return f;
  if (!isQuant8(input.dtype) || !input.quant)
    throw new KilnError('E_UNSUPPORTED_TYPE', `the base model input ${input.name} is ${input.dtype}`, {
      hint: 'Use a base model with a float32, int8 or uint8 image input',
    });
  const scale = input.quant.scale[0]!;
  const zp = input.quant.zeroPoint[0]!;
  const [lo, hi] = intRange(input.dtype);
  const out = input.dtype === 'int8' ? new Int8Array(f.length) : new Uint8Array(f.length);
  for (let i = 0; i < f.length; i++) out[i] = Math.min(hi, Math.max(lo, Math.round(f[i]! / scale) + zp));
  return out;
}

/**
 * Computes embeddings once on Kiln's interpreter (an int8/uint8 base runs its integer kernels): one float vector per
 * image, dequantized with the embedding tensor's own parameters.
 */
export class Embedder {
  private readonly interp: Interpreter;
  readonly input: Tensor;
  readonly target: ImageTarget;
  readonly size: number;

  constructor(
    trunk: IrModel,
    private readonly cfg: CalibrationConfig,
  ) {
    ({ input: this.input, target: this.target } = imageInputOf(trunk));
    this.interp = new Interpreter(trunk);
    this.size = numElements(this.interp.outputs[0]!.shape);
  }

  embed(px: Uint8Array): Float32Array {
    const out = this.interp.run([inputValues(this.input, px, this.target.channels, this.cfg)]).outputs[0]!;
    const t = this.interp.outputs[0]!;
    const v = new Float32Array(out.data.length);
    if (t.dtype === 'float32') v.set(out.data as Float32Array);
    else {
      const scale = t.quant!.scale[0]!;
      const zp = t.quant!.zeroPoint[0]!;
      for (let i = 0; i < v.length; i++) v[i] = (Number(out.data[i]) - zp) * scale;
    }
    return v;
  }
}
