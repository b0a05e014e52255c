import { badOp, unsupportedType } from '../errors.js';
import { roundHalfAway } from '../fixed-point.js';
import type { Kernel, KernelArgs } from '../kernel.js';
import { wasmResizeU8 } from '../wasm/resize-wasm.js';

const f32 = Math.fround;
type Num = ArrayLike<number> & { [i: number]: number };

function sizes(k: KernelArgs): { n: number; ih: number; iw: number; c: number; oh: number; ow: number } {
  const s = k.shape(0);
  if (s.length !== 4) throw badOp(k.op, 'input must be 4-D');
  const size = k.constInts(1);
  if (!size || size.length !== 2) throw badOp(k.op, 'the size input must be a constant of 2 values');
  const [n, ih, iw, c] = s as [number, number, number, number];
  return { n, ih, iw, c, oh: size[0]!, ow: size[1]! };
}

/** Float32 source coordinate, lower and upper neighbours (reference ComputeInterpolationValues). */
function interp(v: number, scale: number, half: boolean, size: number): [number, number, number] {
  const s = half ? f32(f32(f32(v + 0.5) * scale) - 0.5) : f32(v * scale);
  const lo = Math.max(Math.floor(s), 0);
  const hi = Math.min(Math.ceil(s), size - 1);
  return [s, lo, hi];
}

export const resizeBilinear: Kernel = (k) => {
  const { n, ih, iw, c, oh, ow } = sizes(k);
  const align = !!k.opts.alignCorners;
  const half = !!k.opts.halfPixelCenters;
  const d = k.dtype(0);
  const x = k.input(0) as unknown as Num;
  const y = k.output(0, [n, oh, ow, c]) as unknown as Num;
  if (d === 'int8' || d === 'int16') {
    // reference ResizeBilinearInteger: 10-bit fixed-point coordinates, 20-bit weights, round half away.
    const sc = (inS: number, outS: number): number =>
      align && outS > 1
        ? Math.trunc(((1 << 10) * (inS - 1) + Math.trunc((outS - 1) / 2)) / (outS - 1))
        : Math.trunc(((1 << 10) * inS + Math.trunc(outS / 2)) / outS);
    const hs = sc(ih, oh);
    const ws = sc(iw, ow);
    const ci = (v: number, s10: number, size: number): [number, number, number] => {
      const sv = half ? v * s10 + Math.trunc(s10 / 2) - (1 << 9) : v * s10;
      return [sv, Math.max(Math.trunc(sv / 1024), 0), Math.min(Math.trunc((sv + 1023) / 1024), size - 1)];
    };
    return () => {
      for (let b = 0; b < n; b++)
        for (let oy = 0; oy < oh; oy++) {
          const [iy, y0, y1] = ci(oy, hs, ih);
          const wy1 = iy - 1024 * y0;
          const wy0 = 1024 - wy1;
          for (let ox = 0; ox < ow; ox++) {
            const [ix, x0, x1] = ci(ox, ws, iw);
            const wx1 = ix - 1024 * x0;
            const wx0 = 1024 - wx1;
            const p00 = ((b * ih + y0) * iw + x0) * c;
            const p01 = ((b * ih + y0) * iw + x1) * c;
            const p10 = ((b * ih + y1) * iw + x0) * c;
            const p11 = ((b * ih + y1) * iw + x1) * c;
            const ob = ((b * oh + oy) * ow + ox) * c;
            for (let ch = 0; ch < c; ch++) {
              const v =
                x[p00 + ch]! * wy0 * wx0 +
                x[p10 + ch]! * wy1 * wx0 +
                x[p01 + ch]! * wy0 * wx1 +
                x[p11 + ch]! * wy1 * wx1;
              const r = v > 0 ? 1 << 19 : -(1 << 19);
              y[ob + ch] = Math.trunc((v + r) / (1 << 20));
            }
          }
        }
    };
  }
  if (d !== 'float32' && d !== 'uint8') throw unsupportedType(k.op, d);
  const hs = align && oh > 1 ? f32((ih - 1) / (oh - 1)) : f32(ih / oh);
  const ws = align && ow > 1 ? f32((iw - 1) / (ow - 1)) : f32(iw / ow);
  const rounding = d === 'uint8' ? 0.5 : 0;
  const xs = Array.from({ length: ow }, (_, ox) => interp(ox, ws, half, iw));
  const taps = ([v, lo, hi]: [number, number, number]): { lo: number; hi: number; d: number; d1: number } => {
    const d = f32(v - lo);
    return { lo, hi, d, d1: f32(1 - d) };
  };
  const fast =
    d === 'uint8'
      ? wasmResizeU8(
          ih,
          iw,
          c,
          Array.from({ length: oh }, (_, oy) => taps(interp(oy, hs, half, ih))),
          xs.map(taps),
        )
      : null;
  if (fast) {
    k.kernel('wasm resizeu8');
    return () => {
      for (let b = 0; b < n; b++) fast(x as Uint8Array, b * ih * iw * c, y as Uint8Array, b * oh * ow * c);
    };
  }
  return () => {
    for (let b = 0; b < n; b++)
      for (let oy = 0; oy < oh; oy++) {
        const [iy, y0, y1] = interp(oy, hs, half, ih);
        const dy = f32(iy - y0);
        const dy1 = f32(1 - dy);
        for (let ox = 0; ox < ow; ox++) {
          const [ix, x0, x1] = xs[ox]!;
          const dx = f32(ix - x0);
          const dx1 = f32(1 - dx);
          const s0 = f32(dy1 * dx1);
          const s1 = f32(dy1 * dx);
          const s2 = f32(dy * dx1);
          const s3 = f32(dy * dx);
          const p00 = ((b * ih + y0) * iw + x0) * c;
          const p01 = ((b * ih + y0) * iw + x1) * c;
          const p10 = ((b * ih + y1) * iw + x0) * c;
          const p11 = ((b * ih + y1) * iw + x1) * c;
          const ob = ((b * oh + oy) * ow + ox) * c;
          for (let ch = 0; ch < c; ch++) {
            let v = f32(x[p00 + ch]! * s0);
            v = f32(v + f32(x[p01 + ch]! * s1));
            v = f32(v + f32(x[p10 + ch]! * s2));
            v = f32(v + f32(x[p11 + ch]! * s3));
            y[ob + ch] = rounding ? Math.trunc(f32(v + rounding)) : v;
          }
        }
      }
  };
};

export const resizeNearestNeighbor: Kernel = (k) => {
  const { n, ih, iw, c, oh, ow } = sizes(k);
  const align = !!k.opts.alignCorners;
  const half = !!k.opts.halfPixelCenters;
  const d = k.dtype(0);
  const nearest = (v: number, inS: number, outS: number): number => {
    if (d === 'uint8' && !align && !half) {
      // optimized_ops: 16.16 fixed point.
      const scale = Math.trunc((inS << 16) / outS) + 1;
      return Math.min((v * scale) >> 16, inS - 1);
    }
    const scale = align && outS > 1 ? f32((inS - 1) / (outS - 1)) : f32(inS / outS);
    const off = half ? 0.5 : 0;
    const sv = f32(f32(v + off) * scale);
    let r = Math.min(align ? roundHalfAway(sv) : Math.floor(sv), inS - 1);
    if (half) r = Math.max(0, r);
    return r;
  };
  const ys = Array.from({ length: oh }, (_, v) => nearest(v, ih, oh));
  const xs = Array.from({ length: ow }, (_, v) => nearest(v, iw, ow));
  const x = k.input(0) as unknown as Num;
  const y = k.output(0, [n, oh, ow, c]) as unknown as Num;
  return () => {
    let o = 0;
    for (let b = 0; b < n; b++)
      for (let oy = 0; oy < oh; oy++)
        for (let ox = 0; ox < ow; ox++) {
          const p = ((b * ih + ys[oy]!) * iw + xs[ox]!) * c;
          for (let ch = 0; ch < c; ch++) y[o++] = x[p + ch]!;
        }
  };
};
