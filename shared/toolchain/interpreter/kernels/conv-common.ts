import { Padding } from '../../tflite/schema.js';

/** TFLite ComputeOutSize. */
export function outSize(padding: number, size: number, filter: number, stride: number, dilation: number): number {
  const eff = (filter - 1) * dilation + 1;
  return padding === Padding.SAME
    ? Math.floor((size + stride - 1) / stride)
    : Math.floor((size - eff + stride) / stride);
}

/** TFLite ComputePaddingHeightWidth (the leading pad; the trailing one follows from the output size). */
export function padBefore(stride: number, dilation: number, size: number, filter: number, out: number): number {
  const eff = (filter - 1) * dilation + 1;
  return Math.max(0, Math.floor(((out - 1) * stride + eff - size) / 2));
}

export interface ConvGeometry {
  batch: number;
  inH: number;
  inW: number;
  inC: number;
  kH: number;
  kW: number;
  outH: number;
  outW: number;
  strideH: number;
  strideW: number;
  dilH: number;
  dilW: number;
  padH: number;
  padW: number;
}

export function geometry(inShape: number[], kH: number, kW: number, o: Record<string, any>): ConvGeometry {
  const [batch, inH, inW, inC] = inShape as [number, number, number, number];
  const strideH = o.strideH ?? 1;
  const strideW = o.strideW ?? 1;
  const dilH = o.dilationHFactor ?? 1;
  const dilW = o.dilationWFactor ?? 1;
  const padding = o.padding ?? Padding.SAME;
  const outH = outSize(padding, inH, kH, strideH, dilH);
  const outW = outSize(padding, inW, kW, strideW, dilW);
  return {
    batch,
    inH,
    inW,
    inC,
    kH,
    kW,
    outH,
    outW,
    strideH,
    strideW,
    dilH,
    dilW,
    padH: padBefore(strideH, dilH, inH, kH, outH),
    padW: padBefore(strideW, dilW, inW, kW, outW),
  };
}

/**
 * im2col for one batch image into rows of length `rowLen` (≥ kH·kW·inC, the tail stays zero): row p − p0 holds the
 * receptive field of output pixel p as (ky, kx, c), each value plus `offset`; pixels outside the image are `padValue`.
 */
export function im2col(
  src: ArrayLike<number>,
  srcBase: number,
  g: ConvGeometry,
  dst: Int16Array | Float32Array,
  rowLen: number,
  offset: number,
  padValue: number,
  p0 = 0,
  p1 = g.outH * g.outW,
): void {
  const { inH, inW, inC, kH, kW, outW, strideH, strideW, dilH, dilW, padH, padW } = g;
  for (let p = p0; p < p1; p++) {
    const oy = Math.floor(p / outW);
    const ox = p - oy * outW;
    {
      let d = (p - p0) * rowLen;
      for (let ky = 0; ky < kH; ky++) {
        const iy = oy * strideH - padH + ky * dilH;
        for (let kx = 0; kx < kW; kx++) {
          const ix = ox * strideW - padW + kx * dilW;
          if (iy < 0 || iy >= inH || ix < 0 || ix >= inW) {
            for (let c = 0; c < inC; c++) dst[d++] = padValue;
          } else {
            let s = srcBase + (iy * inW + ix) * inC;
            for (let c = 0; c < inC; c++) dst[d++] = (src[s++] as number) + offset;
          }
        }
      }
    }
  }
}
