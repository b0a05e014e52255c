/**
 * ONNX Resize cases TFLite's RESIZE_NEAREST_NEIGHBOR / RESIZE_BILINEAR flags cannot express (other coordinate
 * transformations and rounding modes, cubic interpolation, exclude_outside, tf_crop_and_resize's extrapolation): with
 * static shapes, ONNX's 1-D interpolation is separable, so each resized axis becomes a constant table of source
 * indices and weights computed here (following ONNX's reference implementation step by step: coordinate transform,
 * neighbour choice in the edge-padded axis, coefficients) and, in the graph, one GATHER per tap along that axis, a
 * MUL by the tap's weights and an ADD of the taps. The innermost axis goes first, as ONNX's reference recurses.
 */

import type { OnnxCtx } from '../context.js';
import { F32 } from './common.js';

export interface ResizeAxis {
  inSize: number;
  outSize: number;
  /** ONNX's scale for the axis: the given scale, or outSize / inSize when sizes are given. */
  scale: number;
  /** tf_crop_and_resize's region (fractions of the axis). */
  roi?: [number, number];
}

export interface ResizeMode {
  mode: 'nearest' | 'linear' | 'cubic';
  ctm: string;
  nearestMode: string;
  cubicA: number;
  excludeOutside: boolean;
  extrapolation: number;
}

/** Per output position: source indices (clamped into the axis), weights, and whether it is extrapolated. */
export interface AxisTable {
  taps: number;
  idx: number[][];
  w: number[][];
  extrapolated: boolean[];
}

export const COORDINATE_MODES = [
  'half_pixel',
  'pytorch_half_pixel',
  'align_corners',
  'asymmetric',
  'tf_half_pixel_for_nn',
  'tf_crop_and_resize',
];

/** The source coordinate of output position x, or undefined when tf_crop_and_resize extrapolates it. */
export function sourceCoordinate(x: number, a: ResizeAxis, ctm: string): number | undefined {
  const n = a.inSize;
  const outWidth = a.scale * n;
  switch (ctm) {
    case 'align_corners':
      return outWidth === 1 ? 0 : (x * (n - 1)) / (outWidth - 1);
    case 'asymmetric':
      return x / a.scale;
    case 'tf_half_pixel_for_nn':
      return (x + 0.5) / a.scale;
    case 'tf_crop_and_resize': {
      const [s, e] = a.roi ?? [0, 1];
      const o = (outWidth === 1 ? ((e - s) * (n - 1)) / 2 : (x * (e - s) * (n - 1)) / (outWidth - 1)) + s * (n - 1);
      return o < 0 || o > n - 1 ? undefined : o;
    }
    case 'pytorch_half_pixel':
      return outWidth === 1 ? -0.5 : (x + 0.5) / a.scale - 0.5;
    case 'half_pixel':
      return (x + 0.5) / a.scale - 0.5;
    default:
      throw new Error(`coordinate_transformation_mode ${ctm}`);
  }
}

export function cubicCoeffs(r: number, A: number): number[] {
  const s = 1 - r;
  return [
    ((A * (r + 1) - 5 * A) * (r + 1) + 8 * A) * (r + 1) - 4 * A,
    ((A + 2) * r - (A + 3)) * r * r + 1,
    ((A + 2) * s - (A + 3)) * s * s + 1,
    ((A * (s + 1) - 5 * A) * (s + 1) + 8 * A) * (s + 1) - 4 * A,
  ];
}

function nearestCoeffs(r: number, integer: boolean, mode: string): number[] {
  if (integer) return [0, 1];
  switch (mode) {
    case 'round_prefer_floor':
      return [Number(r <= 0.5), Number(r > 0.5)];
    case 'round_prefer_ceil':
      return [Number(r < 0.5), Number(r >= 0.5)];
    case 'floor':
      return [1, 0];
    case 'ceil':
      return [0, 1];
    default:
      throw new Error(`nearest_mode ${mode}`);
  }
}

/** The n indices of [0, limit) nearest to x, ties to the smaller, ascending (ONNX's get_neighbor_idxes). */
export function neighbours(x: number, n: number, limit: number): number[] {
  const centre = Math.min(limit - 1, Math.max(0, Math.round(x)));
  const cand: number[] = [];
  for (let i = Math.max(0, centre - n - 1); i <= Math.min(limit - 1, centre + n + 1); i++) cand.push(i);
  cand.sort((p, q) => Math.abs(x - p) - Math.abs(x - q) || p - q);
  return cand.slice(0, n).sort((p, q) => p - q);
}

export function axisTable(a: ResizeAxis, m: ResizeMode): AxisTable {
  const taps = m.mode === 'cubic' ? 4 : 2;
  const pad = Math.ceil(taps / 2);
  const out: AxisTable = { taps: m.mode === 'nearest' ? 1 : taps, idx: [], w: [], extrapolated: [] };
  for (let x = 0; x < a.outSize; x++) {
    const xo = sourceCoordinate(x, a, m.ctm);
    if (xo === undefined) {
      out.idx.push(new Array<number>(out.taps).fill(0));
      out.w.push(new Array<number>(out.taps).fill(0));
      out.extrapolated.push(true);
      continue;
    }
    const integer = Number.isInteger(xo);
    const ratio = integer ? 1 : xo - Math.floor(xo);
    let coeffs =
      m.mode === 'cubic'
        ? cubicCoeffs(ratio, m.cubicA)
        : m.mode === 'linear'
          ? [1 - ratio, ratio]
          : nearestCoeffs(ratio, integer, m.nearestMode);
    const raw = neighbours(xo + pad, taps, a.inSize + 2 * pad).map((i) => i - pad);
    if (m.excludeOutside) {
      coeffs = coeffs.map((w, k) => (raw[k]! < 0 || raw[k]! >= a.inSize ? 0 : w));
      const sum = coeffs.reduce((p, q) => p + q, 0);
      coeffs = coeffs.map((w) => w / sum);
    }
    const idx = raw.map((i) => Math.min(a.inSize - 1, Math.max(0, i)));
    if (m.mode === 'nearest') {
      const k = coeffs.findIndex((w) => w !== 0);
      out.idx.push([idx[k]!]);
      out.w.push([1]);
    } else {
      out.idx.push(idx);
      out.w.push(coeffs);
    }
    out.extrapolated.push(false);
  }
  return out;
}

const isIdentity = (t: AxisTable, a: ResizeAxis): boolean =>
  a.inSize === a.outSize &&
  t.extrapolated.every((e) => !e) &&
  t.idx.every((row, o) => row.every((i, k) => (t.w[o]![k] === 0 ? true : i === o)) && sumOf(t.w[o]!) === 1);

const sumOf = (v: number[]): number => v.reduce((p, q) => p + q, 0);

/**
 * Resizes physical axis `axis` of the float32 tensor `x` by `t`: Σ_k GATHER(x, idx[:, k]) · w[:, k] (+ the
 * extrapolation value where tf_crop_and_resize leaves the input).
 */
export function resizeAxis(
  c: OnnxCtx,
  x: number,
  axis: number,
  a: ResizeAxis,
  t: AxisTable,
  extrapolation: number,
  name: string,
  outName: string,
): number {
  const inShape = c.b.g.tensor(x).shape;
  const shape = inShape.map((d, i) => (i === axis ? a.outSize : d));
  const along = inShape.map((_d, i) => (i === axis ? a.outSize : 1));
  const live = Array.from({ length: t.taps }, (_v, k) => k).filter((k) => t.w.some((row) => row[k] !== 0));
  const extrapolates = t.extrapolated.some((e) => e);
  let acc: number | undefined;
  for (const k of live) {
    const w = t.w.map((row) => row[k]!);
    const last = !extrapolates && k === live[live.length - 1];
    const tag = `${name}/tap${k}`;
    let y = c.b.op(
      'GATHER',
      [
        x,
        c.b.constant(
          `${tag}/index`,
          'int32',
          [a.outSize],
          t.idx.map((row) => row[k]!),
        ),
      ],
      { axis, batchDims: 0 },
      {
        outputs: [
          { name: last && acc === undefined && w.every((v) => v === 1) ? outName : `${tag}/gather`, shape, dtype: F32 },
        ],
      },
    )[0]!;
    if (w.some((v) => v !== 1))
      y = c.b.op(
        'MUL',
        [y, c.b.constant(`${tag}/weight`, F32, along, w)],
        { fusedActivationFunction: 0 },
        { outputs: [{ name: last && acc === undefined ? outName : `${tag}/weighted`, shape, dtype: F32 }] },
      )[0]!;
    acc =
      acc === undefined
        ? y
        : c.b.op(
            'ADD',
            [acc, y],
            { fusedActivationFunction: 0 },
            { outputs: [{ name: last ? outName : `${tag}/sum`, shape, dtype: F32 }] },
          )[0]!;
  }
  if (extrapolates) {
    const fill = t.extrapolated.map((e) => (e ? extrapolation : 0));
    const k = c.b.constant(`${name}/extrapolated`, F32, along, fill);
    acc =
      acc === undefined
        ? c.b.op(
            'ADD',
            [
              c.b.op(
                'MUL',
                [x, c.b.constant(`${name}/zero`, F32, [], [0])],
                { fusedActivationFunction: 0 },
                {
                  outputs: [{ name: `${name}/zeros`, shape: inShape, dtype: F32 }],
                },
              )[0]!,
              k,
            ],
            { fusedActivationFunction: 0 },
            { outputs: [{ name: outName, shape, dtype: F32 }] },
          )[0]!
        : c.b.op(
            'ADD',
            [acc, k],
            { fusedActivationFunction: 0 },
            { outputs: [{ name: outName, shape, dtype: F32 }] },
          )[0]!;
  }
  return acc!;
}

/**
 * Resizes the NHWC tensor `x` over H and W (physical axes 1 and 2) by tables, W first (axes left as they are are
 * skipped); the last step is named `name`.
 */
export function tableResize(c: OnnxCtx, x: number, h: ResizeAxis, w: ResizeAxis, m: ResizeMode, name: string): number {
  const steps = [
    { axis: 2, a: w, t: axisTable(w, m), tag: 'resize_w' },
    { axis: 1, a: h, t: axisTable(h, m), tag: 'resize_h' },
  ].filter((s) => !isIdentity(s.t, s.a));
  if (steps.length === 0) return c.b.reshape(x, c.b.g.tensor(x).shape, { name });
  let y = x;
  steps.forEach((s, i) => {
    y = resizeAxis(
      c,
      y,
      s.axis,
      s.a,
      s.t,
      m.extrapolation,
      `${c.name}/${s.tag}`,
      i === steps.length - 1 ? name : `${c.name}/${s.tag}`,
    );
  });
  return y;
}
