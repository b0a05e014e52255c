/**
 * Accuracy of a quantized .tflite classifier on an image split, run in Kiln's interpreter (one image at a time): each
 * float image is quantized with the model's input scale and zero point (uint8 or int8 input), the class is the
 * arg-max of the output.
 */
import { fromTflite } from '../ir/from-tflite.js';
import { Interpreter } from '../interpreter/index.js';
import { readTflite } from '../tflite/reader.js';
import type { ImageSplit } from './automl.js';

export function quantizedAccuracy(tflite: Uint8Array, split: ImageSplit, per: number): number {
  const interp = new Interpreter(fromTflite(readTflite(tflite)));
  const input = interp.inputs[0]!;
  const q = input.quant;
  if (!q) throw new Error('the model input is not quantized');
  const scale = q.scale[0]!;
  const zp = q.zeroPoint[0]!;
  const unsigned = input.dtype === 'uint8';
  const [lo, hi] = unsigned ? [0, 255] : [-128, 127];
  const x = unsigned ? new Uint8Array(per) : new Int8Array(per);
  let right = 0;
  for (let n = 0; n < split.count; n++) {
    for (let i = 0; i < per; i++)
      x[i] = Math.max(lo, Math.min(hi, Math.round(split.images[n * per + i]! / scale) + zp));
    const out = interp.run([x], { views: true }).outputs[0]!.data;
    let arg = 0;
    for (let c = 1; c < out.length; c++) if (out[c]! > out[arg]!) arg = c;
    if (arg === split.labels[n]) right++;
  }
  return split.count ? right / split.count : 0;
}
