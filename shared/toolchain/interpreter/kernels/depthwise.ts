import { badOp, unsupportedType } from '../errors.js';
import { mulByQuantMul } from '../fixed-point.js';
import type { Kernel } from '../kernel.js';
import { floatActivationRange, isClampActivation, isQuant8, qp, quantActivationRange } from '../quant.js';
import { biasValues, channelMultipliers, filterZeroPoints, liveQuantWeights, liveWeights } from './conv.js';
import { geometry } from './conv-common.js';
import { wasmFDepthwise, wasmQDepthwise } from '../wasm/depthwise-wasm.js';

export const depthwiseConv2d: Kernel = (k) => {
  const inShape = k.shape(0);
  const fShape = k.shape(1);
  if (inShape.length !== 4 || fShape.length !== 4) throw badOp(k.op, 'input and filter must be 4-D');
  const [, kH, kW, outC] = fShape as [number, number, number, number];
  const inC = inShape[3]!;
  const dm = outC / inC;
  if (!Number.isInteger(dm) || dm < 1)
    throw badOp(k.op, `filter channels ${outC} are not a multiple of input depth ${inC}`);
  const act = k.opts.fusedActivationFunction ?? 0;
  if (!isClampActivation(act)) throw badOp(k.op, `fused activation ${act} is not supported`);
  const g = geometry(inShape, kH, kW, k.opts);
  const out = k.output(0, [g.batch, g.outH, g.outW, outC]);
  const src = k.input(0);
  const dt = k.dtype(0);
  const taps = kH * kW;
  // For output pixel (oy, ox), the valid taps; the loop visits (ky, kx) in order, like TFLite's reference kernel.
  const visit = (oy: number, ox: number, fn: (tap: number, pix: number) => void): void => {
    for (let ky = 0; ky < kH; ky++) {
      const iy = oy * g.strideH - g.padH + ky * g.dilH;
      if (iy < 0 || iy >= g.inH) continue;
      for (let kx = 0; kx < kW; kx++) {
        const ix = ox * g.strideW - g.padW + kx * g.dilW;
        if (ix < 0 || ix >= g.inW) continue;
        fn(ky * kW + kx, iy * g.inW + ix);
      }
    }
  };

  if (dt === 'float32' && k.dtype(1) === 'float32') {
    const w = k.input(1) as Float32Array;
    const bias = k.tensor(2) ? (k.input(2) as Float32Array) : new Float32Array(outC);
    const [lo, hi] = floatActivationRange(act);
    const x = src as Float32Array;
    const o32 = out as Float32Array;
    const fast = dm === 1 && !liveWeights(k, 2) ? wasmFDepthwise({ g, w, bias, lo, hi }) : null;
    if (fast) {
      k.kernel('wasm dwf');
      const inSize = g.inH * g.inW * inC;
      const outSize = g.outH * g.outW * outC;
      return () => {
        for (let b = 0; b < g.batch; b++) fast(x, b * inSize, o32, b * outSize);
      };
    }
    const acc = new Float64Array(outC);
    return () => {
      for (let b = 0; b < g.batch; b++) {
        const ib = b * g.inH * g.inW * inC;
        for (let oy = 0; oy < g.outH; oy++) {
          for (let ox = 0; ox < g.outW; ox++) {
            acc.fill(0);
            visit(oy, ox, (tap, pix) => {
              const xb = ib + pix * inC;
              const wb = tap * outC;
              for (let oc = 0; oc < outC; oc++) acc[oc]! += x[xb + ((oc / dm) | 0)]! * w[wb + oc]!;
            });
            const ob = ((b * g.outH + oy) * g.outW + ox) * outC;
            for (let oc = 0; oc < outC; oc++) {
              const v = acc[oc]! + bias[oc]!;
              o32[ob + oc] = v < lo ? lo : v > hi ? hi : v;
            }
          }
        }
      }
    };
  }

  if (!isQuant8(dt) || !isQuant8(k.dtype(1))) throw unsupportedType(k.op, `${dt} input with ${k.dtype(1)} filter`);
  if (liveWeights(k, 2)) throw liveQuantWeights(k);
  const inT = k.tensor(0)!;
  const fT = k.tensor(1)!;
  const outT = k.outTensor(0);
  const { mult, shift } = channelMultipliers(inT, fT, outT, outC, dt === 'uint8');
  const bias = biasValues(k, 2, outC);
  const wz = filterZeroPoints(fT, outC);
  const wsrc = k.input(1);
  const w = new Int16Array(taps * outC);
  for (let t = 0; t < taps; t++)
    for (let oc = 0; oc < outC; oc++) w[t * outC + oc] = (wsrc[t * outC + oc] as number) - wz[oc]!;
  const [actMin, actMax] = quantActivationRange(act, outT);
  const inOff = -qp(inT).zp;
  const zp = qp(outT).zp;
  const x = src as Int8Array | Uint8Array;
  const o8 = out as Int8Array | Uint8Array;
  const fast =
    dm === 1 ? wasmQDepthwise({ g, w, bias, mult, shift, inOff, zp, actMin, actMax, signed: dt === 'int8' }) : null;
  if (fast) {
    k.kernel('wasm dwq');
    const inSize = g.inH * g.inW * inC;
    const outSize = g.outH * g.outW * outC;
    return () => {
      for (let b = 0; b < g.batch; b++) fast(x, b * inSize, o8, b * outSize);
    };
  }
  const acc = new Int32Array(outC);
  const { inH, inW, outH, outW, strideH, strideW, dilH, dilW, padH, padW } = g;
  return () => {
    for (let b = 0; b < g.batch; b++) {
      const ib = b * inH * inW * inC;
      for (let oy = 0; oy < outH; oy++) {
        for (let ox = 0; ox < outW; ox++) {
          acc.set(bias);
          for (let ky = 0; ky < kH; ky++) {
            const iy = oy * strideH - padH + ky * dilH;
            if (iy < 0 || iy >= inH) continue;
            for (let kx = 0; kx < kW; kx++) {
              const ix = ox * strideW - padW + kx * dilW;
              if (ix < 0 || ix >= inW) continue;
              const xb = ib + (iy * inW + ix) * inC;
              const wb = (ky * kW + kx) * outC;
              if (dm === 1) for (let oc = 0; oc < outC; oc++) acc[oc]! += (x[xb + oc]! + inOff) * w[wb + oc]!;
              else for (let oc = 0; oc < outC; oc++) acc[oc]! += (x[xb + ((oc / dm) | 0)]! + inOff) * w[wb + oc]!;
            }
          }
          const ob = ((b * outH + oy) * outW + ox) * outC;
          for (let oc = 0; oc < outC; oc++) {
            const v = mulByQuantMul(acc[oc]!, mult[oc]!, shift[oc]!) + zp;
            o8[ob + oc] = v < actMin ? actMin : v > actMax ? actMax : v;
          }
        }
      }
    }
  };
};
