/** ONNX Resize attributes → the per-axis tables of resize-tables.ts (or a refusal naming the case). */

import type { OnnxCtx } from '../context.js';
import { runtimeRoiResize } from './resize-crop.js';
import { COORDINATE_MODES, tableResize, type ResizeMode } from './resize-tables.js';

const NEAREST_MODES = ['round_prefer_floor', 'round_prefer_ceil', 'floor', 'ceil'];
const MODES: Record<string, ResizeMode['mode']> = {
  nearest: 'nearest',
  linear: 'linear',
  bilinear: 'linear',
  cubic: 'cubic',
};

/**
 * Resize of the NHWC tensor `x` (ONNX shape `s` → `size`, NCHW) by constant index/weight tables over H and W. `scales`
 * are ONNX's per-axis scales (the given ones, or size / input size).
 */
export function resizeByTables(
  c: OnnxCtx,
  x: number,
  s: number[],
  size: number[],
  scales: number[],
  modeAttr: string,
  ctm: string,
  nearestMode: string,
): number {
  const m = resizeModeOf(c, modeAttr, ctm, nearestMode);
  let roi: number[] | undefined;
  if (ctm === 'tf_crop_and_resize') {
    if (!c.has(1)) throw c.refuse('tf_crop_and_resize without a roi input');
    if (!c.isConst(1)) return runtimeRoiResize(c, x, s, size, scales, m);
    roi = Array.from(c.const(1).v);
    if (roi.length !== 8 || roi[0] !== 0 || roi[1] !== 0 || roi[4] !== 1 || roi[5] !== 1)
      throw c.refuse('tf_crop_and_resize cropping batch or channels');
  }
  const axis = (i: number) => ({
    inSize: s[i]!,
    outSize: size[i]!,
    scale: scales[i]!,
    ...(roi ? { roi: [roi[i]!, roi[i + 4]!] as [number, number] } : {}),
  });
  return tableResize(c, x, axis(2), axis(3), m, c.out());
}

/** The interpolation attributes, checked (refused naming the attribute Kiln does not convert). */
export function resizeModeOf(c: OnnxCtx, modeAttr: string, ctm: string, nearestMode: string): ResizeMode {
  const mode = MODES[modeAttr];
  if (!mode) throw c.refuse(`${modeAttr} interpolation`, 'ONNX resizes with nearest, linear or cubic interpolation');
  if (!COORDINATE_MODES.includes(ctm))
    throw c.refuse(`coordinate_transformation_mode ${ctm}`, `Kiln converts ${COORDINATE_MODES.join(', ')}`);
  if (mode === 'nearest' && !NEAREST_MODES.includes(nearestMode))
    throw c.refuse(`nearest_mode ${nearestMode}`, `Kiln converts ${NEAREST_MODES.join(', ')}`);
  if (c.attr.i('antialias', 0) === 1) throw c.refuse('antialiased resize (antialias=1)');
  const policy = c.attr.s('keep_aspect_ratio_policy', 'stretch');
  if (policy !== 'stretch') throw c.refuse(`keep_aspect_ratio_policy ${policy}`, 'Give the exact sizes (stretch)');
  return {
    mode,
    ctm,
    nearestMode,
    cubicA: c.attr.f('cubic_coeff_a', -0.75),
    excludeOutside: c.attr.i('exclude_outside', 0) === 1,
    extrapolation: c.attr.f('extrapolation_value', 0),
  };
}
