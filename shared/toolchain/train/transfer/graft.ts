import { bytesOf } from '../../ir/dtype.js';
import type { Graph } from '../../ir/graph.js';
import { IrModel } from '../../ir/model.js';
import { makeOptions } from '../../ir/op-options.js';
import type { Quantization } from '../../ir/types.js';
import { intRange } from '../../interpreter/quant.js';
import { f32 } from '../../quantize/quant-params.js';
import { ActivationFunctionType } from '../../tflite/schema.js';
import { logits, type Head } from './head.js';

/** Names of the tensors the graft adds (a report and a test find them by these). */
export const HEAD_TENSORS = {
  flatten: 'kiln_head/embedding',
  weights: 'kiln_head/weights',
  bias: 'kiln_head/bias',
  logits: 'kiln_head/logits',
  probabilities: 'kiln_head/probabilities',
} as const;

/** Op versions of the head's kernels per tensor type (TFLite's versioning: int8 FC v4, SOFTMAX v2). */
const VERSIONS = {
  float32: { FULLY_CONNECTED: 1, SOFTMAX: 1 },
  uint8: { FULLY_CONNECTED: 1, SOFTMAX: 1 },
  int8: { FULLY_CONNECTED: 4, SOFTMAX: 2 },
} as const;
type HeadType = keyof typeof VERSIONS;

const q = (scale: number, zeroPoint: number): Quantization => ({
  scale: [f32(scale)],
  zeroPoint: [zeroPoint],
  axis: 0,
});

/** Asymmetric parameters for [min, max] (widened to hold 0) on the type's integer grid, as TFLite computes them. */
function asymmetric(min: number, max: number, dtype: 'int8' | 'uint8'): { scale: number; zeroPoint: number } {
  const [lo, hi] = intRange(dtype);
  const a = Math.min(min, 0);
  const b = Math.max(max, 0, a + 1e-6);
  const scale = f32((b - a) / (hi - lo));
  const zeroPoint = Math.min(hi, Math.max(lo, Math.round(lo - a / scale)));
  return { scale, zeroPoint };
}

/**
 * Grafts a trained head onto a base trunk (the base cut at its embedding, shared/toolchain/train/transfer/embed.ts): RESHAPE to
 * [1, size] when the embedding is not already 2-D, FULLY_CONNECTED, SOFTMAX. A quantized base gets a quantized head
 * of its own type: weights per-tensor (int8 symmetric, zero point 0; uint8 with zero point 128), int32 bias at
 * input scale × weight scale, logits scaled to the range `examples` reach, softmax output 1/256 (zero point −128 for
 * int8, 0 for uint8) — so the whole model keeps mapping to the Edge TPU. A float base gets a float head (the quantize
 * stage quantizes it with the rest). Pure: returns a new model.
 */
export function graftHead(trunk: IrModel, head: Head, examples: readonly Float32Array[]): IrModel {
  const src = trunk.graph.compact();
  const g: Graph = src;
  const emb = g.tensor(g.outputs[0]!);
  const type = emb.dtype as HeadType;
  if (!(type in VERSIONS)) throw new Error(`cannot graft a head onto a ${emb.dtype} embedding`);
  const quant = type !== 'float32';
  const inQ = emb.quant;
  let x = emb.id;
  if (emb.shape.length !== 2) {
    const shape = g.addTensor({
      name: `${HEAD_TENSORS.flatten}/shape`,
      dtype: 'int32',
      shape: [2],
      data: bytesOf(Int32Array.from([1, head.size])),
    });
    const flat = g.addTensor({
      name: HEAD_TENSORS.flatten,
      dtype: emb.dtype,
      shape: [1, head.size],
      ...(inQ ? { quant: { ...inQ, scale: [...inQ.scale], zeroPoint: [...inQ.zeroPoint] } } : {}),
    });
    g.addOp({
      type: 'RESHAPE',
      inputs: [x, shape.id],
      outputs: [flat.id],
      ...makeOptions('RESHAPE', { newShape: [1, head.size] }),
    });
    x = flat.id;
  }
  let wData: Uint8Array;
  let bData: Uint8Array;
  let wQ: Quantization | undefined;
  let bQ: Quantization | undefined;
  let outQ: Quantization | undefined;
  let probQ: Quantization | undefined;
  if (quant) {
    const inScale = inQ!.scale[0]!;
    let maxAbs = 0;
    for (const w of head.weights) maxAbs = Math.max(maxAbs, Math.abs(w));
    const wScale = f32(maxAbs > 0 ? maxAbs / 127 : 1);
    const wZp = type === 'int8' ? 0 : 128;
    const wq = type === 'int8' ? new Int8Array(head.weights.length) : new Uint8Array(head.weights.length);
    head.weights.forEach((w, i) => (wq[i] = Math.max(-127, Math.min(127, Math.round(w / wScale))) + wZp));
    wData = bytesOf(wq);
    wQ = q(wScale, wZp);
    const bScale = f32(inScale * wScale);
    bData = bytesOf(Int32Array.from(head.bias, (b) => Math.round(b / bScale)));
    bQ = q(bScale, 0);
    let lo = 0;
    let hi = 0;
    for (const e of examples) for (const z of logits(head, e)) [lo, hi] = [Math.min(lo, z), Math.max(hi, z)];
    const margin = 0.1 * (hi - lo);
    const p = asymmetric(lo - margin, hi + margin, type);
    outQ = q(p.scale, p.zeroPoint);
    probQ = q(1 / 256, type === 'int8' ? -128 : 0);
  } else {
    wData = bytesOf(head.weights);
    bData = bytesOf(head.bias);
  }
  const weights = g.addTensor({
    name: HEAD_TENSORS.weights,
    dtype: quant ? type : 'float32',
    shape: [head.classes, head.size],
    data: wData,
    ...(wQ ? { quant: wQ } : {}),
  });
  const bias = g.addTensor({
    name: HEAD_TENSORS.bias,
    dtype: quant ? 'int32' : 'float32',
    shape: [head.classes],
    data: bData,
    ...(bQ ? { quant: bQ } : {}),
  });
  const out = g.addTensor({
    name: HEAD_TENSORS.logits,
    dtype: type,
    shape: [1, head.classes],
    ...(outQ ? { quant: outQ } : {}),
  });
  const prob = g.addTensor({
    name: HEAD_TENSORS.probabilities,
    dtype: type,
    shape: [1, head.classes],
    ...(probQ ? { quant: probQ } : {}),
  });
  g.addOp({
    type: 'FULLY_CONNECTED',
    version: VERSIONS[type].FULLY_CONNECTED,
    inputs: [x, weights.id, bias.id],
    outputs: [out.id],
    ...makeOptions('FULLY_CONNECTED', {
      fusedActivationFunction: ActivationFunctionType.NONE,
      keepNumDims: false,
    }),
  });
  g.addOp({
    type: 'SOFTMAX',
    version: VERSIONS[type].SOFTMAX,
    inputs: [out.id],
    outputs: [prob.id],
    ...makeOptions('SOFTMAX', { beta: 1 }),
  });
  g.outputs = [prob.id];
  return new IrModel([g], 'Kiln transfer learning');
}
