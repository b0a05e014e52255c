import { badOp, unsupportedType } from '../errors.js';
import type { Kernel, KernelArgs } from '../kernel.js';
import { floatActivationRange, isClampActivation, isQuant8, quantActivationRange } from '../quant.js';
import { geometry } from './conv-common.js';

type Num = ArrayLike<number> & { [i: number]: number };

/** Visits every pooling window (clipped to the image) and lets `reduce` fill one output pixel. */
function pool(
  k: KernelArgs,
  reduce: (
    x: Num,
    y: Num,
    yb: number,
    ib: number,
    y0: number,
    y1: number,
    x0: number,
    x1: number,
    inW: number,
    c: number,
  ) => void,
): () => void {
  const shape = k.shape(0);
  if (shape.length !== 4) throw badOp(k.op, 'input must be 4-D');
  const act = k.opts.fusedActivationFunction ?? 0;
  if (!isClampActivation(act)) throw badOp(k.op, `fused activation ${act} is not supported`);
  const g = geometry(shape, k.opts.filterHeight, k.opts.filterWidth, {
    ...k.opts,
    dilationHFactor: 1,
    dilationWFactor: 1,
  });
  const x = k.input(0) as unknown as Num;
  const y = k.output(0, [g.batch, g.outH, g.outW, g.inC]) as unknown as Num;
  const C = g.inC;
  return () => {
    for (let b = 0; b < g.batch; b++) {
      const ib = b * g.inH * g.inW * C;
      for (let oy = 0; oy < g.outH; oy++) {
        const oy0 = oy * g.strideH - g.padH;
        const y0 = Math.max(0, oy0);
        const y1 = Math.min(g.inH, oy0 + g.kH);
        for (let ox = 0; ox < g.outW; ox++) {
          const ox0 = ox * g.strideW - g.padW;
          const x0 = Math.max(0, ox0);
          const x1 = Math.min(g.inW, ox0 + g.kW);
          reduce(x, y, ((b * g.outH + oy) * g.outW + ox) * C, ib, y0, y1, x0, x1, g.inW, C);
        }
      }
    }
  };
}

export const averagePool: Kernel = (k) => {
  const d = k.dtype(0);
  const act = k.opts.fusedActivationFunction ?? 0;
  if (d === 'float32') {
    const [lo, hi] = floatActivationRange(act);
    const acc = new Float64Array(k.shape(0)[3]!);
    return pool(k, (x, y, yb, ib, y0, y1, x0, x1, inW, C) => {
      acc.fill(0);
      for (let iy = y0; iy < y1; iy++)
        for (let ix = x0; ix < x1; ix++) {
          const p = ib + (iy * inW + ix) * C;
          for (let c = 0; c < C; c++) acc[c]! += x[p + c]!;
        }
      const count = (y1 - y0) * (x1 - x0);
      for (let c = 0; c < C; c++) {
        const v = Math.fround(acc[c]! / count);
        y[yb + c] = v < lo ? lo : v > hi ? hi : v;
      }
    });
  }
  if (!isQuant8(d)) throw unsupportedType(k.op, d);
  const [lo, hi] = quantActivationRange(act, k.outTensor(0));
  const acc = new Int32Array(k.shape(0)[3]!);
  return pool(k, (x, y, yb, ib, y0, y1, x0, x1, inW, C) => {
    acc.fill(0);
    for (let iy = y0; iy < y1; iy++)
      for (let ix = x0; ix < x1; ix++) {
        const p = ib + (iy * inW + ix) * C;
        for (let c = 0; c < C; c++) acc[c]! += x[p + c]!;
      }
    const count = (y1 - y0) * (x1 - x0);
    const half = (count / 2) | 0;
    for (let c = 0; c < C; c++) {
      const a = acc[c]!;
      let v = a > 0 ? ((a + half) / count) | 0 : ((a - half) / count) | 0;
      v = v < lo ? lo : v > hi ? hi : v;
      y[yb + c] = v;
    }
  });
};

export const maxPool: Kernel = (k) => {
  const d = k.dtype(0);
  const act = k.opts.fusedActivationFunction ?? 0;
  let lo: number;
  let hi: number;
  if (d === 'float32') [lo, hi] = floatActivationRange(act);
  else if (isQuant8(d)) [lo, hi] = quantActivationRange(act, k.outTensor(0));
  else throw unsupportedType(k.op, d);
  const acc = new Float64Array(k.shape(0)[3]!);
  return pool(k, (x, y, yb, ib, y0, y1, x0, x1, inW, C) => {
    acc.fill(-Infinity);
    for (let iy = y0; iy < y1; iy++)
      for (let ix = x0; ix < x1; ix++) {
        const p = ib + (iy * inW + ix) * C;
        for (let c = 0; c < C; c++) if (x[p + c]! > acc[c]!) acc[c] = x[p + c]!;
      }
    for (let c = 0; c < C; c++) {
      const v = acc[c]!;
      y[yb + c] = v < lo ? lo : v > hi ? hi : v;
    }
  });
};

export const l2Pool: Kernel = (k) => {
  const d = k.dtype(0);
  if (d !== 'float32') throw unsupportedType(k.op, d);
  const [lo, hi] = floatActivationRange(k.opts.fusedActivationFunction ?? 0);
  const acc = new Float64Array(k.shape(0)[3]!);
  return pool(k, (x, y, yb, ib, y0, y1, x0, x1, inW, C) => {
    acc.fill(0);
    for (let iy = y0; iy < y1; iy++)
      for (let ix = x0; ix < x1; ix++) {
        const p = ib + (iy * inW + ix) * C;
        for (let c = 0; c < C; c++) acc[c]! += x[p + c]! * x[p + c]!;
      }
    const count = (y1 - y0) * (x1 - x0);
    for (let c = 0; c < C; c++) {
      const v = Math.sqrt(acc[c]! / count);
      y[yb + c] = v < lo ? lo : v > hi ? hi : v;
    }
  });
};
