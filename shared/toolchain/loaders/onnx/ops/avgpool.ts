/**
 * AveragePool with count_include_pad=0 over explicit padding (or ceil_mode's overhang): TFLite's AVERAGE_POOL_2D
 * divides by the whole window over the zero-padded input, so the result is multiplied by a constant map of
 * window size / valid taps per output position (computed at conversion time from the static geometry).
 */

import { emitPad } from '../../emit.js';
import type { OnnxCtx } from '../context.js';
import type { Window } from '../geometry.js';
import { F32 } from './common.js';

/** Per output position along one axis: how many of the window's taps fall inside the input [0, size). */
export function validTaps(size: number, k: number, s: number, before: number, after: number): number[] {
  const out = Math.floor((size + before + after - k) / s) + 1;
  return Array.from({ length: out }, (_v, o) => {
    const start = o * s - before;
    return Math.min(size, start + k) - Math.max(0, start);
  });
}

export function excludePadAveragePool(c: OnnxCtx, x: number, win: Window, hw: [number, number], name: string): number {
  const [kh, kw] = win.kernel as [number, number];
  const [sh, sw] = win.strides as [number, number];
  const [ph, pw] = win.pads as [[number, number], [number, number]];
  const th = validTaps(hw[0], kh, sh, ph[0], ph[1]);
  const tw = validTaps(hw[1], kw, sw, pw[0], pw[1]);
  if ([...th, ...tw].some((n) => n <= 0))
    throw c.refuse('a pooling window that covers padding only', 'Reduce the pads to less than the kernel size');
  const padded = emitPad(c.b, x, [[0, 0], ph, pw, [0, 0]], `${c.name}/pad`);
  const pooled = c.b.pool(
    'AVERAGE_POOL_2D',
    padded,
    { filter: [kh, kw], stride: [sh, sw], padding: 'VALID' },
    { name: `${c.name}/window_mean` },
  );
  const map = th.flatMap((a) => tw.map((b) => (kh * kw) / (a * b)));
  const scale = c.b.constant(`${c.name}/valid_scale`, F32, [1, th.length, tw.length, 1], map);
  return c.b.binary('MUL', pooled, scale, {}, { name });
}
