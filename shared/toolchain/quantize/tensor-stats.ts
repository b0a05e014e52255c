import { KilnError } from '../../common/errors.js';
import type { AnyTypedArray } from '../ir/dtype.js';
import { Histogram, type HistogramJSON } from './histogram.js';
import type { TensorStat } from './ranges.js';

/** TensorStats as plain data (to send between threads). */
export interface TensorStatsJSON {
  ids: number[];
  min: number[];
  max: number[];
  hists: HistogramJSON[];
}

/** -0 → 0: which of two equal extremes came first depends on the order of the samples; JSON writes both as 0. */
const unsigned = (x: number): number => (x === 0 ? 0 : x);

/**
 * Min/max and histogram of the finite values of each calibrated tensor over the samples observed. Accumulators of
 * different samples merge exactly when every one but the first was started at the first one's histogram widths (the
 * `widths` argument; 0: chosen by the tensor's first values): calibration on several threads gives the statistics of
 * one sequential pass, bit for bit.
 */
export class TensorStats {
  private readonly min: number[];
  private readonly max: number[];
  private readonly hists: Histogram[];

  constructor(
    readonly ids: readonly number[],
    widths?: readonly number[],
  ) {
    if (widths && widths.length !== ids.length)
      throw new RangeError(`${widths.length} histogram widths for ${ids.length} tensors`);
    this.min = ids.map(() => Infinity);
    this.max = ids.map(() => -Infinity);
    this.hists = ids.map((_, k) => (widths?.[k] ? Histogram.withWidth(widths[k]) : new Histogram()));
  }

  /**
   * Adds one sample's tensors (float32 data by tensor id; views are fine, nothing is kept). NaN and ±Infinity are
   * skipped; one pass over each tensor in the usual case (Histogram.observe).
   */
  observe(tensors: ReadonlyMap<number, { data: AnyTypedArray }>, nameOf: (id: number) => string): void {
    this.ids.forEach((id, k) => {
      const v = tensors.get(id);
      if (!v) throw new KilnError('E_INTERNAL', `tensor ${nameOf(id)} was not captured`);
      const r = this.hists[k]!.observe(v.data as Float32Array);
      if (!r) return;
      if (r[0] < this.min[k]!) this.min[k] = r[0];
      if (r[1] > this.max[k]!) this.max[k] = r[1];
    });
  }

  /** Each tensor's histogram width now (0 while it has seen no finite value). */
  widths(): number[] {
    return this.hists.map((h) => (h.total > 0 ? h.width : 0));
  }

  /** Adds another accumulator's statistics (same tensors). */
  merge(other: TensorStats): void {
    if (other.ids.length !== this.ids.length || other.ids.some((id, k) => id !== this.ids[k]))
      throw new RangeError('merging statistics of different tensors');
    this.ids.forEach((_, k) => {
      if (other.min[k]! < this.min[k]!) this.min[k] = other.min[k]!;
      if (other.max[k]! > this.max[k]!) this.max[k] = other.max[k]!;
      this.hists[k]!.merge(other.hists[k]!);
    });
  }

  /**
   * Per-tensor statistics in `ids` order, as stats.json holds them. A tensor without a single finite value is an
   * error naming it.
   */
  results(nameOf: (id: number) => string): ({ id: number; name: string } & TensorStat)[] {
    return this.ids.map((id, k) => {
      const name = nameOf(id);
      const h = this.hists[k]!;
      if (h.total === 0)
        throw new KilnError('E_BAD_ARGUMENT', `tensor ${name} had no finite value on any calibration sample`, {
          hint: 'Check the calibration data and the model',
        });
      return { id, name, min: unsigned(this.min[k]!), max: unsigned(this.max[k]!), hist: h.toJSON() };
    });
  }

  toJSON(): TensorStatsJSON {
    return { ids: [...this.ids], min: [...this.min], max: [...this.max], hists: this.hists.map((h) => h.toJSON()) };
  }

  static fromJSON(j: TensorStatsJSON): TensorStats {
    const s = new TensorStats(j.ids);
    j.ids.forEach((_, k) => {
      s.min[k] = j.min[k]!;
      s.max[k] = j.max[k]!;
      s.hists[k] = Histogram.fromJSON(j.hists[k]!);
    });
    return s;
  }
}
