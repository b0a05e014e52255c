import { Histogram, type HistogramJSON } from './histogram.js';
import { asymmetricParams } from './quant-params.js';

export const RANGE_METHODS = ['minmax', 'percentile', 'mse'] as const;
export type RangeMethod = (typeof RANGE_METHODS)[number];

/** What calibration recorded for one tensor. */
export interface TensorStat {
  min: number;
  max: number;
  hist: HistogramJSON;
}

/** Percentile kept by the `percentile` method (each tail loses (100 − p) / 2 %). */
export const DEFAULT_PERCENTILE = 99.99;

/** The clipping range for one tensor, always inside [min, max]. */
export function chooseRange(stat: TensorStat, method: RangeMethod, percentile = DEFAULT_PERCENTILE): [number, number] {
  if (method === 'minmax' || stat.hist.counts.length === 0) return [stat.min, stat.max];
  const { edges, counts } = Histogram.fromJSON(stat.hist).bins();
  const width = stat.hist.width;
  const r =
    method === 'percentile' ? percentileRange(edges, counts, width, percentile) : mseRange(edges, counts, width, stat);
  return [Math.max(stat.min, r[0]), Math.min(stat.max, r[1])];
}

function percentileRange(edges: Float64Array, counts: Float64Array, width: number, p: number): [number, number] {
  const total = counts.reduce((a, b) => a + b, 0);
  const tail = (total * (100 - p)) / 200;
  let acc = 0;
  let lo = edges[0]!;
  for (let i = 0; i < counts.length; i++) {
    acc += counts[i]!;
    if (acc > tail) {
      lo = edges[i]!;
      break;
    }
  }
  acc = 0;
  let hi = edges[edges.length - 1]! + width;
  for (let i = counts.length - 1; i >= 0; i--) {
    acc += counts[i]!;
    if (acc > tail) {
      hi = edges[i]! + width;
      break;
    }
  }
  return [lo, hi];
}

/** Number of candidate clipping points tried on each side of zero by the `mse` method. */
const MSE_STEPS = 24;

/**
 * The range whose int8 grid gives the least squared error over the histogram: each bin's values (at its center) are
 * quantized with the candidate's parameters — clipped outside, rounded inside — exactly as the kernels would.
 * Candidates shrink [min, 0] and [0, max] in MSE_STEPS linear steps each.
 */
function mseRange(edges: Float64Array, counts: Float64Array, width: number, stat: TensorStat): [number, number] {
  const lo0 = Math.min(stat.min, 0);
  const hi0 = Math.max(stat.max, 0);
  const lows: number[] = [];
  const highs: number[] = [];
  for (let k = 0; k < MSE_STEPS; k++) {
    if (lo0 < 0 || k === 0) lows.push((lo0 * (MSE_STEPS - k)) / MSE_STEPS);
    if (hi0 > 0 || k === 0) highs.push((hi0 * (MSE_STEPS - k)) / MSE_STEPS);
  }
  let best: [number, number] = [lo0, hi0];
  let bestCost = Infinity;
  for (const lo of lows)
    for (const hi of highs) {
      if (!(hi > lo)) continue;
      const { scale, zeroPoint } = asymmetricParams(lo, hi);
      let cost = 0;
      for (let i = 0; i < counts.length && cost < bestCost; i++) {
        const x = edges[i]! + width / 2;
        const q = Math.min(127, Math.max(-128, Math.round(x / scale) + zeroPoint));
        const d = x - scale * (q - zeroPoint);
        cost += counts[i]! * d * d;
      }
      if (cost < bestCost) {
        bestCost = cost;
        best = [lo, hi];
      }
    }
  return best;
}
