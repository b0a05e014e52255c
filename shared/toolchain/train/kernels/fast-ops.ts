/**
 * Plain-JavaScript versions of tfjs ops whose tfjs-backend-wasm 4.22 kernels dominate a conv net's training step
 * (measured: Tile, from the batch-norm gradient; MaxPoolGrad; Sum/Mean over the batch and pixel axes). Pure functions
 * over Float32Arrays; register.ts uses them for the shapes they cover and tfjs's own kernels otherwise.
 */

/** tf.tile: `x` of `shape` repeated `reps[d]` times along each axis d. */
export function tile(x: Float32Array, shape: number[], reps: number[]): Float32Array {
  const outShape = shape.map((d, i) => d * reps[i]!);
  const out = new Float32Array(outShape.reduce((a, b) => a * b, 1));
  if (out.length === 0) return out;
  // outStride[d]: elements of one output block at axis d.
  const rank = shape.length;
  const outStride = new Array<number>(rank + 1).fill(1);
  const inStride = new Array<number>(rank + 1).fill(1);
  for (let d = rank - 1; d >= 0; d--) {
    outStride[d] = outStride[d + 1]! * outShape[d]!;
    inStride[d] = inStride[d + 1]! * shape[d]!;
  }
  const fill = (d: number, inAt: number, outAt: number): void => {
    if (d === rank) {
      out[outAt] = x[inAt]!;
      return;
    }
    const inner = outStride[d + 1]!;
    if (d === rank - 1) out.set(x.subarray(inAt, inAt + shape[d]!), outAt);
    else for (let i = 0; i < shape[d]!; i++) fill(d + 1, inAt + i * inStride[d + 1]!, outAt + i * inner);
    // Repeat the filled block [outAt, outAt + block) reps[d] times by doubling copies.
    const block = shape[d]! * inner;
    let have = block;
    const total = block * reps[d]!;
    while (have < total) {
      const n = Math.min(have, total - have);
      out.copyWithin(outAt + have, outAt, outAt + n);
      have += n;
    }
  };
  fill(0, 0, 0);
  return out;
}

/**
 * Sum over a contiguous run of axes of a tensor viewed as [outer][reduce][inner]: out[o][i] = Σr x[o][r][i]. Covers
 * reducing the leading axes (outer = 1, e.g. batch norm's per-channel sums) and the trailing ones (inner = 1).
 */
export function sumMiddle(x: Float32Array, outer: number, reduce: number, inner: number): Float32Array {
  const out = new Float32Array(outer * inner);
  if (inner === 1) {
    for (let o = 0; o < outer; o++) {
      let s = 0;
      const base = o * reduce;
      for (let r = 0; r < reduce; r++) s += x[base + r]!;
      out[o] = s;
    }
    return out;
  }
  const acc = new Float64Array(inner);
  for (let o = 0; o < outer; o++) {
    acc.fill(0);
    let at = o * reduce * inner;
    for (let r = 0; r < reduce; r++) for (let i = 0; i < inner; i++) acc[i] = acc[i]! + x[at++]!;
    for (let i = 0; i < inner; i++) out[o * inner + i] = acc[i]!;
  }
  return out;
}

/** [outer, reduce, inner] when `axes` (any order, negatives allowed) are a contiguous run of `shape`'s axes. */
export function contiguousAxes(shape: number[], axes: number[]): [number, number, number] | null {
  const rank = shape.length;
  const sorted = [...new Set(axes.map((a) => (a < 0 ? a + rank : a)))].sort((a, b) => a - b);
  if (sorted.length === 0) return null;
  const lo = sorted[0]!;
  const hi = sorted[sorted.length - 1]!;
  if (hi - lo + 1 !== sorted.length) return null;
  const prod = (a: number, b: number): number => shape.slice(a, b).reduce((p, d) => p * d, 1);
  return [prod(0, lo), prod(lo, hi + 1), prod(hi + 1, rank)];
}

export interface PoolGeometry {
  batch: number;
  inH: number;
  inW: number;
  C: number;
  outH: number;
  outW: number;
  kH: number;
  kW: number;
  strideH: number;
  strideW: number;
  padH: number;
  padW: number;
}

/**
 * Max-pool gradient (NHWC): each output gradient goes to the first maximal input of its window in (ky, kx) order —
 * tfjs's cpu backend's rule — summed where windows overlap.
 */
export function maxPoolGrad(x: Float32Array, dy: Float32Array, g: PoolGeometry): Float32Array {
  const { batch, inH, inW, C, outH, outW, kH, kW, strideH, strideW, padH, padW } = g;
  const dx = new Float32Array(x.length);
  if (kH === 2 && kW === 2 && strideH === 2 && strideW === 2 && padH === 0 && padW === 0) {
    // The common 2×2/2 pool with every window inside: four candidates, no overlap, no bounds checks.
    let q = 0;
    const row = inW * C;
    for (let n = 0; n < batch; n++)
      for (let oy = 0; oy < outH; oy++) {
        let i00 = n * inH * row + 2 * oy * row;
        for (let ox = 0; ox < outW; ox++, i00 += C)
          for (let c = 0; c < C; c++, q++, i00++) {
            let at = i00;
            let best = x[i00]!;
            const i01 = i00 + C;
            const i10 = i00 + row;
            const i11 = i10 + C;
            if (x[i01]! > best) {
              best = x[i01]!;
              at = i01;
            }
            if (x[i10]! > best) {
              best = x[i10]!;
              at = i10;
            }
            if (x[i11]! > best) at = i11;
            dx[at] = dy[q]!;
          }
      }
    return dx;
  }
  let q = 0;
  for (let n = 0; n < batch; n++) {
    const nb = n * inH * inW * C;
    for (let oy = 0; oy < outH; oy++) {
      const y0 = oy * strideH - padH;
      for (let ox = 0; ox < outW; ox++) {
        const x0 = ox * strideW - padW;
        for (let c = 0; c < C; c++, q++) {
          let best = -Infinity;
          let at = -1;
          for (let ky = 0; ky < kH; ky++) {
            const iy = y0 + ky;
            if (iy < 0 || iy >= inH) continue;
            for (let kx = 0; kx < kW; kx++) {
              const ix = x0 + kx;
              if (ix < 0 || ix >= inW) continue;
              const i = nb + (iy * inW + ix) * C + c;
              if (x[i]! > best) {
                best = x[i]!;
                at = i;
              }
            }
          }
          if (at >= 0) dx[at] = dx[at]! + dy[q]!;
        }
      }
    }
  }
  return dx;
}
