import { badOp, unsupportedType } from '../errors.js';
import { mulByQuantMul } from '../fixed-point.js';
import type { Kernel } from '../kernel.js';
import { intRange, isQuant8, qp } from '../quant.js';
import { channelMultipliers, filterZeroPoints, liveQuantWeights, liveWeights } from './conv.js';
import { outSize, padBefore } from './conv-common.js';

/**
 * TRANSPOSE_CONV as TFLite 2.9 runs it (inputs: output_shape int32[4], weights [O,H,W,I], input [N,h,w,I], optional
 * bias [O] from version 3). It is the adjoint of a CONV_2D over the output: the padding is the one a conv with this
 * filter and stride would use on an image of the output's size, and every input pixel scatters its weighted values
 * onto the output window at (y·stride − pad, x·stride − pad). TFLite 2.9 has no fused activation for this op.
 *
 * Quantized: the exact int32 sum Σ (w − wzp)(x − xzp) + bias per output value (TFLite's GEMM + col2im + bias add is
 * exact integer arithmetic), then MultiplyByQuantizedMultiplier (double rounding) per output channel, plus the output
 * zero point, clamped to the type. uint8 is per-tensor with the multiplier from the float32 product of the scales;
 * int8 is per-channel with the product in double.
 */
export const transposeConv: Kernel = (k) => {
  if (k.numInputs !== 3 && k.numInputs !== 4) throw badOp(k.op, `needs 3 or 4 inputs, has ${k.numInputs}`);
  const outDims = k.constInts(0);
  if (!outDims) throw badOp(k.op, 'the output_shape operand must be a constant');
  if (outDims.length !== 4) throw badOp(k.op, `output_shape must have 4 values, has ${outDims.length}`);
  const inShape = k.shape(2);
  const wShape = k.shape(1);
  if (inShape.length !== 4 || wShape.length !== 4) throw badOp(k.op, 'input and weights must be 4-D');
  const [batch, inH, inW, inC] = inShape as [number, number, number, number];
  const [outC, kH, kW, wC] = wShape as [number, number, number, number];
  const [oBatch, outH, outW, oC] = outDims as [number, number, number, number];
  if (wC !== inC) throw badOp(k.op, `weights depth ${wC} does not match input depth ${inC}`);
  if (oC !== outC || oBatch !== batch) {
    throw badOp(k.op, `output_shape [${outDims.join(',')}] does not fit ${batch} images of ${outC} channels`);
  }
  const strideH = k.opts.strideH ?? 1;
  const strideW = k.opts.strideW ?? 1;
  if (strideH < 1 || strideW < 1) throw badOp(k.op, `stride ${strideH}×${strideW} is not positive`);
  const act = k.opts.fusedActivationFunction ?? 0;
  if (act !== 0) throw badOp(k.op, `fused activation ${act} is not part of TRANSPOSE_CONV in TFLite 2.9`);
  const padding = k.opts.padding ?? 0;
  const padH = padBefore(strideH, 1, outH, kH, outSize(padding, outH, kH, strideH, 1));
  const padW = padBefore(strideW, 1, outW, kW, outSize(padding, outW, kW, strideW, 1));
  const hasBias = k.numInputs === 4 && k.tensor(3) !== undefined;
  const out = k.output(0, [batch, outH, outW, outC]);
  const x = k.input(2) as ArrayLike<number>;
  const w = k.input(1) as ArrayLike<number>;
  const outSizeAll = batch * outH * outW * outC;

  /** acc[b,oy,ox,o] += Σ_c (x[b,iy,ix,c] + xOff) · (w[o,ky,kx,c] + wOff[o]) over the scatter windows. */
  const scatter = (acc: Float64Array | Int32Array, xOff: number, wp: Float64Array | Int32Array): void => {
    acc.fill(0);
    for (let b = 0; b < batch; b++) {
      for (let iy = 0; iy < inH; iy++) {
        for (let ix = 0; ix < inW; ix++) {
          const xb = ((b * inH + iy) * inW + ix) * inC;
          const oy0 = iy * strideH - padH;
          const ox0 = ix * strideW - padW;
          for (let ky = 0; ky < kH; ky++) {
            const oy = oy0 + ky;
            if (oy < 0 || oy >= outH) continue;
            for (let kx = 0; kx < kW; kx++) {
              const ox = ox0 + kx;
              if (ox < 0 || ox >= outW) continue;
              const ob = ((b * outH + oy) * outW + ox) * outC;
              for (let o = 0; o < outC; o++) {
                const wb = ((o * kH + ky) * kW + kx) * inC;
                let s = 0;
                for (let c = 0; c < inC; c++) s += ((x[xb + c] as number) + xOff) * wp[wb + c]!;
                acc[ob + o] += s;
              }
            }
          }
        }
      }
    }
  };

  const dt = k.dtype(2);
  if (dt === 'float32') {
    if (k.dtype(1) !== 'float32') throw unsupportedType(k.op, `float32 input with ${k.dtype(1)} weights`);
    const wp = Float64Array.from(w);
    const live = !k.isConst(1);
    const bias = hasBias ? (k.input(3) as Float32Array) : null;
    const acc = new Float64Array(outSizeAll);
    const y = out as Float32Array;
    return () => {
      if (live) wp.set(w as Float32Array); // weights computed at run time
      scatter(acc, 0, wp);
      for (let i = 0; i < outSizeAll; i++) y[i] = acc[i]! + (bias ? bias[i % outC]! : 0);
    };
  }
  if (!isQuant8(dt) || k.dtype(1) !== dt || k.outTensor(0).dtype !== dt) {
    throw unsupportedType(k.op, `${dt} input with ${k.dtype(1)} weights and ${k.outTensor(0).dtype} output`);
  }
  if (hasBias && k.dtype(3) !== 'int32') throw unsupportedType(k.op, `a ${k.dtype(3)} bias`);
  if (liveWeights(k, 3)) throw liveQuantWeights(k);
  const inT = k.tensor(2)!;
  const wT = k.tensor(1)!;
  const outT = k.outTensor(0);
  const nScales = wT.quant?.scale.length ?? 0;
  if (nScales !== 1 && nScales !== outC) throw badOp(k.op, `weights have ${nScales} scales for ${outC} channels`);
  if (dt === 'uint8' && nScales !== 1) throw badOp(k.op, 'uint8 weights must be quantized per tensor');
  const { mult, shift } = channelMultipliers(inT, wT, outT, outC, dt === 'uint8');
  const wz = filterZeroPoints(wT, outC);
  const wp = new Int32Array(w.length);
  const per = kH * kW * inC;
  for (let i = 0; i < w.length; i++) wp[i] = (w[i] as number) - wz[Math.floor(i / per)]!;
  const bias = hasBias ? (k.input(3) as Int32Array) : null;
  const xOff = -qp(inT).zp;
  const zp = qp(outT).zp;
  const [lo, hi] = intRange(dt);
  const acc = new Int32Array(outSizeAll);
  const y = out as Int8Array | Uint8Array;
  return () => {
    scatter(acc, xOff, wp);
    for (let i = 0; i < outSizeAll; i++) {
      const o = i % outC;
      const v = mulByQuantMul((acc[i]! + (bias ? bias[o]! : 0)) | 0, mult[o]!, shift[o]!) + zp;
      y[i] = v < lo ? lo : v > hi ? hi : v;
    }
  };
};
