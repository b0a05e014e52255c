import { numElements } from '../../ir/graph.js';
import { badOp } from '../errors.js';
import { roundHalfAway } from '../fixed-point.js';
import type { Kernel, KernelArgs } from '../kernel.js';
import { qp } from '../quant.js';
import { stridesOf } from '../../ir/graph.js';
import { normAxis } from '../../ir/axis.js';

const f32 = Math.fround;
type Num = { [i: number]: number | bigint; length: number; set?: unknown };

function ints(k: KernelArgs, i: number, what: string): number[] {
  const v = k.constInts(i);
  if (!v) throw badOp(k.op, `${what} (input ${i}) must be a constant`);
  return v;
}

/** Output element → input element (−1 = fill value), computed once; run() is one gather loop. */
export function indexMap(
  outShape: readonly number[],
  inShape: readonly number[],
  fn: (c: number[]) => number[] | null,
): Int32Array {
  const n = numElements(outShape);
  const map = new Int32Array(n);
  const st = stridesOf(inShape);
  const c = new Array<number>(outShape.length).fill(0);
  for (let i = 0; i < n; i++) {
    const src = fn(c);
    let off = 0;
    if (src === null) off = -1;
    else for (let d = 0; d < src.length; d++) off += src[d]! * st[d]!;
    map[i] = off;
    for (let d = outShape.length - 1; d >= 0; d--) {
      if (++c[d]! < outShape[d]!) break;
      c[d] = 0;
    }
  }
  return map;
}

function gatherRun(x: Num, y: Num, map: Int32Array, fill: number | bigint): () => void {
  const n = map.length;
  return () => {
    for (let i = 0; i < n; i++) {
      const s = map[i]!;
      y[i] = s < 0 ? fill : x[s]!;
    }
  };
}

/** The value that means "real zero" in the output (the zero point for quantized tensors). */
function zeroFill(k: KernelArgs): number | bigint {
  const t = k.outTensor(0);
  if (t.dtype === 'int64') return 0n;
  return t.quant ? qp(t).zp : 0;
}

function copy(k: KernelArgs, shape: number[]): () => void {
  if (numElements(shape) !== numElements(k.shape(0)))
    throw badOp(k.op, `cannot reshape [${k.shape(0).join(',')}] to [${shape.join(',')}]`);
  const x = k.input(0) as unknown as Uint8Array;
  const y = k.output(0, shape) as unknown as Uint8Array;
  return () => y.set(x);
}

export const reshape: Kernel = (k) => {
  let shape: number[] | null = null;
  if (k.numInputs > 1 && k.tensor(1)) shape = k.constInts(1);
  if (!shape && k.opts.newShape && k.opts.newShape.length) shape = Array.from(k.opts.newShape as number[]);
  if (!shape) shape = [...k.outTensor(0).shape];
  const total = numElements(k.shape(0));
  const known = shape.filter((d) => d !== -1).reduce((a, b) => a * b, 1);
  shape = shape.map((d) => (d === -1 ? total / known : d));
  return copy(k, shape);
};

export const squeeze: Kernel = (k) => {
  const s = k.shape(0);
  const dims: number[] = Array.from((k.opts.squeezeDims as number[] | undefined) ?? []).map((d) =>
    normAxis(d, s.length),
  );
  return copy(
    k,
    s.filter((d, i) => (dims.length ? !dims.includes(i) : d !== 1)),
  );
};

export const expandDims: Kernel = (k) => {
  const s = [...k.shape(0)];
  const axis = ints(k, 1, 'axis')[0]!;
  s.splice(axis < 0 ? axis + s.length + 1 : axis, 0, 1);
  return copy(k, s);
};

/** CONCATENATION; 8-bit inputs whose scale/zero point differ from the output's are requantized in float32. */
export const concatenation: Kernel = (k) => {
  const shapes = Array.from({ length: k.numInputs }, (_, i) => k.shape(i));
  const rank = shapes[0]!.length;
  const axis = normAxis(k.opts.axis ?? 0, rank);
  const outShape = [...shapes[0]!];
  outShape[axis] = shapes.reduce((a, s) => a + s[axis]!, 0);
  const y = k.output(0, outShape) as unknown as Num;
  const outer = outShape.slice(0, axis).reduce((a, b) => a * b, 1);
  const inner = outShape.slice(axis + 1).reduce((a, b) => a * b, 1);
  const outT = k.outTensor(0);
  const o = qp(outT);
  const quant8 = outT.dtype === 'uint8' || outT.dtype === 'int8';
  const [qmin, qmax] = outT.dtype === 'uint8' ? [0, 255] : [-128, 127];
  const parts = shapes.map((s, i) => {
    const q = qp(k.tensor(i));
    const rescale = quant8 && (q.scale !== o.scale || q.zp !== o.zp);
    const scale = f32(q.scale * f32(1 / o.scale));
    return { x: k.input(i) as unknown as Num, len: s[axis]! * inner, rescale, scale, bias: f32(-q.zp * scale) };
  });
  return () => {
    let off = 0;
    for (let b = 0; b < outer; b++) {
      for (const p of parts) {
        const src = b * p.len;
        if (!p.rescale) {
          for (let j = 0; j < p.len; j++) y[off + j] = p.x[src + j]!;
        } else {
          for (let j = 0; j < p.len; j++) {
            const v = roundHalfAway(f32(f32((p.x[src + j] as number) * p.scale) + p.bias)) + o.zp;
            y[off + j] = v < qmin ? qmin : v > qmax ? qmax : v;
          }
        }
        off += p.len;
      }
    }
  };
};

function splitInto(k: KernelArgs, dataIndex: number, axisRaw: number, sizes: number[]): () => void {
  const s = k.shape(dataIndex);
  const axis = normAxis(axisRaw, s.length);
  const x = k.input(dataIndex) as unknown as Num;
  const outer = s.slice(0, axis).reduce((a, b) => a * b, 1);
  const inner = s.slice(axis + 1).reduce((a, b) => a * b, 1);
  const outs = sizes.map((n, i) => {
    const shape = [...s];
    shape[axis] = n;
    return { y: k.output(i, shape) as unknown as Num, len: n * inner };
  });
  const total = s[axis]! * inner;
  return () => {
    for (let b = 0; b < outer; b++) {
      let off = b * total;
      for (const o of outs) {
        const dst = b * o.len;
        for (let j = 0; j < o.len; j++) o.y[dst + j] = x[off + j]!;
        off += o.len;
      }
    }
  };
}

export const split: Kernel = (k) => {
  const axis = ints(k, 0, 'axis')[0]!;
  const s = k.shape(1);
  const n = k.numOutputs;
  const dim = s[normAxis(axis, s.length)]!;
  if (dim % n !== 0) throw badOp(k.op, `cannot split ${dim} into ${n} equal parts`);
  return splitInto(k, 1, axis, new Array<number>(n).fill(dim / n));
};

export const splitV: Kernel = (k) => {
  const axis = ints(k, 2, 'axis')[0]!;
  const s = k.shape(0);
  const dim = s[normAxis(axis, s.length)]!;
  const sizes = ints(k, 1, 'size_splits');
  const known = sizes.filter((v) => v !== -1).reduce((a, b) => a + b, 0);
  return splitInto(
    k,
    0,
    axis,
    sizes.map((v) => (v === -1 ? dim - known : v)),
  );
};

export const pack: Kernel = (k) => {
  const s = k.shape(0);
  const n = k.numInputs;
  const axis = normAxis(k.opts.axis ?? 0, s.length + 1);
  const outShape = [...s];
  outShape.splice(axis, 0, n);
  const y = k.output(0, outShape) as unknown as Num;
  const outer = s.slice(0, axis).reduce((a, b) => a * b, 1);
  const inner = s.slice(axis).reduce((a, b) => a * b, 1);
  const xs = Array.from({ length: n }, (_, i) => k.input(i) as unknown as Num);
  return () => {
    let off = 0;
    for (let b = 0; b < outer; b++) {
      for (const x of xs) {
        for (let j = 0; j < inner; j++) y[off++] = x[b * inner + j]!;
      }
    }
  };
};

export const unpack: Kernel = (k) => {
  const s = k.shape(0);
  const axis = normAxis(k.opts.axis ?? 0, s.length);
  const n = s[axis]!;
  const outShape = s.filter((_, i) => i !== axis);
  const x = k.input(0) as unknown as Num;
  const ys = Array.from({ length: n }, (_, i) => k.output(i, outShape) as unknown as Num);
  const outer = s.slice(0, axis).reduce((a, b) => a * b, 1);
  const inner = s.slice(axis + 1).reduce((a, b) => a * b, 1);
  return () => {
    let off = 0;
    for (let b = 0; b < outer; b++) {
      for (const y of ys) {
        for (let j = 0; j < inner; j++) y[b * inner + j] = x[off++]!;
      }
    }
  };
};

export const slice: Kernel = (k) => {
  const s = k.shape(0);
  const begin = ints(k, 1, 'begin');
  const size = ints(k, 2, 'size').map((v, i) => (v === -1 ? s[i]! - begin[i]! : v));
  const map = indexMap(size, s, (c) => c.map((v, i) => v + begin[i]!));
  return gatherRun(k.input(0) as unknown as Num, k.output(0, size) as unknown as Num, map, 0);
};

export const stridedSlice: Kernel = (k) => {
  const s = k.shape(0);
  const rank = s.length;
  const begin = ints(k, 1, 'begin');
  const end = ints(k, 2, 'end');
  const strides = k.tensor(3) ? ints(k, 3, 'strides') : new Array<number>(rank).fill(1);
  const o = k.opts;
  if (o.ellipsisMask || o.newAxisMask) throw badOp(k.op, 'ellipsis and new-axis masks are not supported');
  const starts: number[] = [];
  const steps: number[] = [];
  const full: number[] = [];
  for (let i = 0; i < rank; i++) {
    const dim = s[i]!;
    const st = strides[i] ?? 1;
    const clampIdx = (v: number, lo: number, hi: number): number => Math.max(lo, Math.min(hi, v < 0 ? v + dim : v));
    let b = begin[i] ?? 0;
    let e = end[i] ?? dim;
    if (o.beginMask & (1 << i)) b = st > 0 ? 0 : dim - 1;
    else b = st > 0 ? clampIdx(b, 0, dim) : clampIdx(b, -1, dim - 1);
    if (o.shrinkAxisMask & (1 << i)) {
      e = b + 1;
    } else if (o.endMask & (1 << i)) e = st > 0 ? dim : -1;
    else e = st > 0 ? clampIdx(e, 0, dim) : clampIdx(e, -1, dim - 1);
    const n = st > 0 ? Math.max(0, Math.ceil((e - b) / st)) : Math.max(0, Math.ceil((b - e) / -st));
    starts.push(b);
    steps.push(st);
    full.push(n);
  }
  const outShape = full.filter((_, i) => !(o.shrinkAxisMask & (1 << i)));
  const map = indexMap(full, s, (c) => c.map((v, i) => starts[i]! + v * steps[i]!));
  return gatherRun(k.input(0) as unknown as Num, k.output(0, outShape) as unknown as Num, map, 0);
};

export const transpose: Kernel = (k) => {
  const s = k.shape(0);
  const perm = ints(k, 1, 'perm');
  const outShape = perm.map((p) => s[p]!);
  const map = indexMap(outShape, s, (c) => {
    const src = new Array<number>(s.length);
    perm.forEach((p, i) => (src[p] = c[i]!));
    return src;
  });
  return gatherRun(k.input(0) as unknown as Num, k.output(0, outShape) as unknown as Num, map, 0);
};

function paddings(k: KernelArgs): [number, number][] {
  const p = ints(k, 1, 'paddings');
  const rank = k.shape(0).length;
  return Array.from({ length: rank }, (_, i) => [p[2 * i]!, p[2 * i + 1]!] as [number, number]);
}

export const pad: Kernel = (k) => {
  const s = k.shape(0);
  const pads = paddings(k);
  const outShape = s.map((d, i) => d + pads[i]![0] + pads[i]![1]);
  const map = indexMap(outShape, s, (c) => {
    const src = c.map((v, i) => v - pads[i]![0]);
    return src.every((v, i) => v >= 0 && v < s[i]!) ? src : null;
  });
  let fill: number | bigint = zeroFill(k);
  if (k.op.type === 'PADV2' && k.tensor(2)) {
    const v = k.input(2) as unknown as Num;
    fill = v[0]!;
  }
  return gatherRun(k.input(0) as unknown as Num, k.output(0, outShape) as unknown as Num, map, fill);
};

export const mirrorPad: Kernel = (k) => {
  const s = k.shape(0);
  const pads = paddings(k);
  const symmetric = (k.opts.mode ?? 0) === 1;
  const outShape = s.map((d, i) => d + pads[i]![0] + pads[i]![1]);
  const reflect = (v: number, n: number): number => {
    const off = symmetric ? 1 : 0;
    if (v < 0) return -v - off;
    if (v >= n) return 2 * n - v - 2 + off;
    return v;
  };
  const map = indexMap(outShape, s, (c) => c.map((v, i) => reflect(v - pads[i]![0], s[i]!)));
  return gatherRun(k.input(0) as unknown as Num, k.output(0, outShape) as unknown as Num, map, 0);
};

export const tile: Kernel = (k) => {
  const s = k.shape(0);
  const m = ints(k, 1, 'multiples');
  const outShape = s.map((d, i) => d * m[i]!);
  const map = indexMap(outShape, s, (c) => c.map((v, i) => v % s[i]!));
  return gatherRun(k.input(0) as unknown as Num, k.output(0, outShape) as unknown as Num, map, 0);
};

export const gather: Kernel = (k) => {
  const s = k.shape(0);
  const idxShape = k.shape(1);
  const axis = normAxis(k.opts.axis ?? 0, s.length);
  if ((k.opts.batchDims ?? 0) !== 0) throw badOp(k.op, 'batch_dims other than 0 are not supported');
  const outShape = [...s.slice(0, axis), ...idxShape, ...s.slice(axis + 1)];
  const x = k.input(0) as unknown as Num;
  const idx = k.input(1) as unknown as ArrayLike<number | bigint>;
  const y = k.output(0, outShape) as unknown as Num;
  const outer = s.slice(0, axis).reduce((a, b) => a * b, 1);
  const inner = s.slice(axis + 1).reduce((a, b) => a * b, 1);
  const n = idx.length;
  const dim = s[axis]!;
  return () => {
    let off = 0;
    for (let b = 0; b < outer; b++) {
      for (let j = 0; j < n; j++) {
        const i = Number(idx[j]!);
        if (i < 0 || i >= dim) throw badOp(k.op, `index ${i} is out of range [0, ${dim})`);
        const src = (b * dim + i) * inner;
        for (let c = 0; c < inner; c++) y[off++] = x[src + c]!;
      }
    }
  };
};

export const gatherNd: Kernel = (k) => {
  const s = k.shape(0);
  const is = k.shape(1);
  const depth = is[is.length - 1]!;
  const outShape = [...is.slice(0, -1), ...s.slice(depth)];
  const x = k.input(0) as unknown as Num;
  const idx = k.input(1) as unknown as ArrayLike<number | bigint>;
  const y = k.output(0, outShape) as unknown as Num;
  const st = stridesOf(s);
  const inner = s.slice(depth).reduce((a, b) => a * b, 1);
  const n = idx.length / depth;
  return () => {
    let off = 0;
    for (let j = 0; j < n; j++) {
      let src = 0;
      for (let d = 0; d < depth; d++) {
        const i = Number(idx[j * depth + d]!);
        if (i < 0 || i >= s[d]!) throw badOp(k.op, `index ${i} is out of range [0, ${s[d]})`);
        src += i * st[d]!;
      }
      for (let c = 0; c < inner; c++) y[off++] = x[src + c]!;
    }
  };
};

export const spaceToDepth: Kernel = (k) => {
  const [n, h, w, c] = k.shape(0) as [number, number, number, number];
  const bs = k.opts.blockSize as number;
  const outShape = [n, h / bs, w / bs, c * bs * bs];
  const map = indexMap(outShape, k.shape(0), ([b, y, x, d]) => {
    const cc = d! % c;
    const blk = (d! - cc) / c;
    const by = Math.floor(blk / bs);
    const bx = blk % bs;
    return [b!, y! * bs + by, x! * bs + bx, cc];
  });
  return gatherRun(k.input(0) as unknown as Num, k.output(0, outShape) as unknown as Num, map, 0);
};

export const depthToSpace: Kernel = (k) => {
  const [n, h, w, c] = k.shape(0) as [number, number, number, number];
  const bs = k.opts.blockSize as number;
  const oc = c / (bs * bs);
  const outShape = [n, h * bs, w * bs, oc];
  const map = indexMap(outShape, k.shape(0), ([b, y, x, d]) => {
    const by = y! % bs;
    const bx = x! % bs;
    return [b!, Math.floor(y! / bs), Math.floor(x! / bs), (by * bs + bx) * oc + d!];
  });
  return gatherRun(k.input(0) as unknown as Num, k.output(0, outShape) as unknown as Num, map, 0);
};

export const spaceToBatchNd: Kernel = (k) => {
  const s = k.shape(0);
  if (s.length !== 4) throw badOp(k.op, 'only 4-D inputs are supported');
  const [bh, bw] = ints(k, 1, 'block_shape') as [number, number];
  const p = ints(k, 2, 'paddings');
  const [n, h, w, c] = s as [number, number, number, number];
  const oh = (h + p[0]! + p[1]!) / bh;
  const ow = (w + p[2]! + p[3]!) / bw;
  const outShape = [n * bh * bw, oh, ow, c];
  const map = indexMap(outShape, s, ([ob, y, x, d]) => {
    const b = ob! % n;
    const blk = Math.floor(ob! / n);
    const iy = y! * bh + Math.floor(blk / bw) - p[0]!;
    const ix = x! * bw + (blk % bw) - p[2]!;
    return iy < 0 || iy >= h || ix < 0 || ix >= w ? null : [b, iy, ix, d!];
  });
  return gatherRun(k.input(0) as unknown as Num, k.output(0, outShape) as unknown as Num, map, zeroFill(k));
};

export const batchToSpaceNd: Kernel = (k) => {
  const s = k.shape(0);
  if (s.length !== 4) throw badOp(k.op, 'only 4-D inputs are supported');
  const [bh, bw] = ints(k, 1, 'block_shape') as [number, number];
  const cr = ints(k, 2, 'crops');
  const [ib, h, w, c] = s as [number, number, number, number];
  const n = ib / (bh * bw);
  const outShape = [n, h * bh - cr[0]! - cr[1]!, w * bw - cr[2]! - cr[3]!, c];
  const map = indexMap(outShape, s, ([b, y, x, d]) => {
    const yy = y! + cr[0]!;
    const xx = x! + cr[2]!;
    const blk = (yy % bh) * bw + (xx % bw);
    return [blk * n + b!, Math.floor(yy / bh), Math.floor(xx / bw), d!];
  });
  return gatherRun(k.input(0) as unknown as Num, k.output(0, outShape) as unknown as Num, map, 0);
};

export const shapeOp: Kernel = (k) => {
  const s = k.shape(0);
  const y = k.output(0, [s.length]) as unknown as Num;
  const big = k.outTensor(0).dtype === 'int64';
  return () => s.forEach((d, i) => (y[i] = big ? BigInt(d) : d));
};
