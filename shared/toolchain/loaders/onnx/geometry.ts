import type { OnnxCtx } from './context.js';

/** Spatial geometry of Conv / pooling nodes, with ONNX padding rules resolved to explicit pads. */
export interface Window {
  kernel: number[];
  strides: number[];
  dilations: number[];
  /** Per spatial dimension: [before, after]. */
  pads: [number, number][];
}

export function windowOf(c: OnnxCtx, spatial: number[], kernel: number[], ceil = false): Window {
  const r = spatial.length;
  const strides = c.attr.ints('strides') ?? new Array<number>(r).fill(1);
  const dilations = c.attr.ints('dilations') ?? new Array<number>(r).fill(1);
  const autoPad = c.attr.s('auto_pad', 'NOTSET');
  const raw = c.attr.ints('pads') ?? new Array<number>(2 * r).fill(0);
  const pads: [number, number][] = spatial.map((inSize, i) => {
    const k = (kernel[i]! - 1) * dilations[i]! + 1;
    const s = strides[i]!;
    if (autoPad === 'SAME_UPPER' || autoPad === 'SAME_LOWER') {
      const out = Math.ceil(inSize / s);
      const total = Math.max(0, (out - 1) * s + k - inSize);
      const small = Math.floor(total / 2);
      return autoPad === 'SAME_UPPER' ? [small, total - small] : [total - small, small];
    }
    if (autoPad === 'VALID') return [0, 0];
    const b = raw[i]!;
    let e = raw[i + r]!;
    if (ceil) {
      let out = Math.ceil((inSize + b + e - k) / s) + 1;
      if ((out - 1) * s >= inSize + b) out--;
      e = Math.max(e, (out - 1) * s + k - inSize - b);
    }
    return [b, e];
  });
  return { kernel, strides, dilations, pads };
}

/** Do the pads equal what TFLite's SAME padding computes for this window? */
export function isSamePadding(w: Window, spatial: number[]): boolean {
  return spatial.every((inSize, i) => {
    const k = (w.kernel[i]! - 1) * w.dilations[i]! + 1;
    const s = w.strides[i]!;
    const out = Math.ceil(inSize / s);
    const total = Math.max(0, (out - 1) * s + k - inSize);
    const b = Math.floor(total / 2);
    const [pb, pe] = w.pads[i]!;
    // the output size must match too: extra padding past SAME's would give more outputs
    const onnxOut = Math.floor((inSize + pb + pe - k) / s) + 1;
    return pb === b && onnxOut === out && pe >= total - b && pe - (total - b) < s;
  });
}

export const noPads = (w: Window): boolean => w.pads.every(([b, e]) => b === 0 && e === 0);
