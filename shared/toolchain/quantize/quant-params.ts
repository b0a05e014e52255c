/**
 * Quantization arithmetic of the TFLite int8 spec (tensorflow/lite/tools/optimize/quantization_utils.cc), pure
 * functions: asymmetric activation parameters, symmetric (per-channel) weights, int32 biases.
 */

export interface QParams {
  scale: number;
  zeroPoint: number;
}

export const INT8_MIN = -128;
export const INT8_MAX = 127;
const INT32_MIN = -2147483648;
const INT32_MAX = 2147483647;

/** Scales are stored as float32 in the file: every computation uses the value the runtime will read. */
export const f32 = Math.fround;

/**
 * Asymmetric int8 parameters for a float range, as TFLite's GetAsymmetricQuantizationParams: the range is widened to
 * include 0, scale = (max − min) / 255, zero point = round(−128 − min / scale) clamped to [−128, 127]. A range that is
 * a single point (a tensor that is always 0) gets the range [0, 1] so that no scale is 0.
 */
export function asymmetricParams(min: number, max: number): QParams {
  let lo = Math.min(min, 0);
  let hi = Math.max(max, 0);
  if (!(hi - lo > 1e-30) || !Number.isFinite(hi - lo)) {
    if (!Number.isFinite(lo) || !Number.isFinite(hi)) throw new RangeError(`non-finite range [${min}, ${max}]`);
    lo = 0;
    hi = 1;
  }
  const scale = f32((hi - lo) / (INT8_MAX - INT8_MIN));
  const zpFromMin = INT8_MIN - lo / scale;
  const zeroPoint = zpFromMin < INT8_MIN ? INT8_MIN : zpFromMin > INT8_MAX ? INT8_MAX : Math.round(zpFromMin);
  return { scale, zeroPoint };
}

/** The float range that parameters represent exactly (what the int8 grid covers). */
export function representedRange(p: QParams): [number, number] {
  return [(INT8_MIN - p.zeroPoint) * p.scale, (INT8_MAX - p.zeroPoint) * p.scale];
}

/**
 * Symmetric int8 weights: scale = max|w| / 127 per channel along `axis` (or one scale when axis is null), values in
 * [−127, 127], zero point 0. A channel of zeros gets scale 1.
 */
export function quantizeWeightsSymmetric(
  values: Float32Array,
  shape: readonly number[],
  axis: number | null,
  gridSearch = true,
): { data: Int8Array; scales: number[] } {
  const channels = axis === null ? 1 : shape[axis]!;
  const inner = axis === null ? values.length : shape.slice(axis + 1).reduce((a, b) => a * b, 1);
  const channelOf = (i: number): number => (axis === null ? 0 : Math.floor(i / inner) % channels);
  const maxAbs = new Float64Array(channels);
  for (let i = 0; i < values.length; i++) {
    const c = channelOf(i);
    const a = Math.abs(values[i]!);
    if (a > maxAbs[c]!) maxAbs[c] = a;
  }
  const scales = Array.from(maxAbs, (m) => (m > 0 ? f32(m / INT8_MAX) : 1));
  if (gridSearch) {
    // Members of each channel, for the scale search.
    const members: number[][] = Array.from({ length: channels }, () => []);
    for (let i = 0; i < values.length; i++) members[channelOf(i)]!.push(i);
    for (let c = 0; c < channels; c++)
      if (maxAbs[c]! > 0) scales[c] = gridAlignedScale(values, members[c]!, maxAbs[c]!);
  }
  const data = new Int8Array(values.length);
  for (let i = 0; i < values.length; i++) {
    const q = Math.round(values[i]! / scales[channelOf(i)]!);
    data[i] = q < -INT8_MAX ? -INT8_MAX : q > INT8_MAX ? INT8_MAX : q;
  }
  return { data, scales };
}

/** Smallest level tried for the top weight of a channel by the grid search (scale = max|w| / m). */
const MIN_TOP_LEVEL = 8;
/** A coarser scale is taken only when it cuts the rounding error this much: the weights lie on its grid. */
const GRID_GAIN = 0.01;

/**
 * max|w| / 127, unless the channel's weights already lie on a uniform grid (quantization-aware training, dequantized
 * models): then the scale max|w| / m (integer m in [MIN_TOP_LEVEL, 127]) of that grid, which re-quantizes them without
 * loss. Nothing is ever clipped.
 */
function gridAlignedScale(values: Float32Array, members: number[], maxAbs: number): number {
  const errorAt = (s: number, limit: number): number => {
    let err = 0;
    for (const i of members) {
      const v = values[i]!;
      const d = v - Math.round(v / s) * s;
      err += d * d;
      if (err >= limit) break;
    }
    return err;
  };
  const finest = f32(maxAbs / INT8_MAX);
  const base = errorAt(finest, Infinity);
  if (base === 0) return finest;
  let best = finest;
  let bestErr = base * GRID_GAIN;
  for (let m = INT8_MAX - 1; m >= MIN_TOP_LEVEL; m--) {
    const s = f32(maxAbs / m);
    const err = errorAt(s, bestErr);
    if (err < bestErr) {
      bestErr = err;
      best = s;
    }
  }
  return best;
}

/** Asymmetric int8 quantization of a constant tensor with given parameters (per tensor). */
export function quantizeAsymmetric(values: Float32Array, p: QParams): Int8Array {
  const out = new Int8Array(values.length);
  for (let i = 0; i < values.length; i++) {
    const q = Math.round(values[i]! / p.scale) + p.zeroPoint;
    out[i] = q < INT8_MIN ? INT8_MIN : q > INT8_MAX ? INT8_MAX : q;
  }
  return out;
}

/** Bias scale per channel: input scale × weight scale, rounded to float32 as the runtime checks it. */
export function biasScales(inputScale: number, weightScales: readonly number[]): number[] {
  return weightScales.map((w) => f32(f32(inputScale) * f32(w)));
}

/** int32 bias values: round(b / scale[c]) with the channel along axis 0 (one scale applies to all when there is one). */
export function quantizeBias(values: Float32Array, scales: readonly number[]): Int32Array {
  const out = new Int32Array(values.length);
  for (let i = 0; i < values.length; i++) {
    const s = scales.length === 1 ? scales[0]! : scales[i]!;
    const q = Math.round(values[i]! / s);
    out[i] = q < INT32_MIN ? INT32_MIN : q > INT32_MAX ? INT32_MAX : q;
  }
  return out;
}

/** Real value of a quantized integer. */
export function dequantize(q: number, scale: number, zeroPoint: number): number {
  return scale * (q - zeroPoint);
}
