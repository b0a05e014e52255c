/**
 * A streaming histogram whose bins are anchored at 0 with a power-of-two width: bin g covers [g·w, (g+1)·w). When new
 * values fall outside the window, the window shifts or the width doubles (merging bin pairs exactly), so the result
 * does not depend on how the data was split into batches beyond the order-independent counts — and it serializes
 * exactly (integers and a power of two).
 */

export const HISTOGRAM_BINS = 2048;

export interface HistogramJSON {
  /** Bin width, a power of two. */
  width: number;
  /** Global index of the first stored bin (bin g covers [g·width, (g+1)·width)). */
  start: number;
  /** Counts from `start` on; the first and the last are nonzero. */
  counts: number[];
}

function pow2AtLeast(x: number): number {
  return 2 ** Math.ceil(Math.log2(Math.max(x, 2 ** -60)));
}

export class Histogram {
  width = 0;
  /** Global index of counts[0]. */
  private start = 0;
  private counts = new Float64Array(HISTOGRAM_BINS);
  /** Global indices of the first and last nonempty bins (valid when total > 0). */
  private lo = 0;
  private hi = -1;
  total = 0;
  /** Per-call counts of the fast path (zero between calls). */
  private scratch: Int32Array | null = null;

  /**
   * Adds every finite value and returns their [min, max] (null when there is none). One pass over the data when every
   * value falls inside the current window (the usual case once a tensor has been seen: bins are counted in a scratch
   * array together with min/max); otherwise — first call, a value outside the window, NaN or ±Infinity — a min/max pass
   * then `add`. Both paths count each value in the same bin.
   */
  observe(values: Float32Array): [number, number] | null {
    if (this.total > 0 && values.length > 0) {
      const scratch = (this.scratch ??= new Int32Array(HISTOGRAM_BINS));
      const inv = 1 / this.width;
      const start = this.start;
      const n = values.length;
      let lo = values[0]!;
      let hi = lo;
      let i = 0;
      for (; i < n; i++) {
        const v = values[i]!;
        // v·inv is exact (inv is a power of two) and start an integer: ⌊x⌋ = ⌊v·inv⌋ − start, the bin add() uses.
        const x = v * inv - start;
        if (!(x >= 0 && x < HISTOGRAM_BINS)) break;
        scratch[x | 0]!++;
        if (v < lo) lo = v;
        else if (v > hi) hi = v;
      }
      if (i === n) {
        const counts = this.counts;
        for (let k = 0; k < HISTOGRAM_BINS; k++) {
          const c = scratch[k]!;
          if (c !== 0) {
            counts[k]! += c;
            scratch[k] = 0;
          }
        }
        this.lo = Math.min(this.lo, Math.floor(lo * inv));
        this.hi = Math.max(this.hi, Math.floor(hi * inv));
        this.total += n;
        return [lo, hi];
      }
      scratch.fill(0);
    }
    let lo = Infinity;
    let hi = -Infinity;
    for (let i = 0; i < values.length; i++) {
      const v = values[i]!;
      if (v < lo && v !== -Infinity) lo = v;
      if (v > hi && v !== Infinity) hi = v;
    }
    if (!(hi >= lo)) return null;
    this.add(values, lo, hi);
    return [lo, hi];
  }

  /** Adds values; `vmin`/`vmax` are their (finite) extremes. Non-finite values are ignored. */
  add(values: Float32Array, vmin: number, vmax: number): void {
    if (!(vmax >= vmin)) return;
    if (this.total === 0) {
      // Indices stay well inside the safe-integer range: the width is at least 2^-30 of the largest magnitude.
      this.width = pow2AtLeast(
        Math.max((vmax - vmin) / (HISTOGRAM_BINS - 1), Math.max(Math.abs(vmin), Math.abs(vmax)) * 2 ** -30),
      );
      while (Math.floor(vmax / this.width) - Math.floor(vmin / this.width) >= HISTOGRAM_BINS) this.width *= 2;
      this.start = Math.floor(vmin / this.width);
      this.counts.fill(0);
      this.lo = Math.floor(vmin / this.width);
      this.hi = Math.floor(vmax / this.width);
    } else {
      this.fit(vmin, vmax);
    }
    const inv = 1 / this.width;
    const start = this.start;
    const counts = this.counts;
    let n = 0;
    for (let i = 0; i < values.length; i++) {
      const v = values[i]!;
      if (v >= vmin && v <= vmax) {
        counts[Math.floor(v * inv) - start]! += 1;
        n++;
      }
    }
    this.total += n;
  }

  /** Makes the window cover [vmin, vmax] together with what it already holds. */
  private fit(vmin: number, vmax: number): void {
    let lo = Math.min(this.lo, Math.floor(vmin / this.width));
    let hi = Math.max(this.hi, Math.floor(vmax / this.width));
    let factor = 1;
    while (hi - lo + 1 > HISTOGRAM_BINS) {
      factor *= 2;
      lo = Math.min(Math.floor(this.lo / factor), Math.floor(vmin / (this.width * factor)));
      hi = Math.max(Math.floor(this.hi / factor), Math.floor(vmax / (this.width * factor)));
    }
    if (factor === 1 && lo >= this.start && hi < this.start + HISTOGRAM_BINS) {
      this.lo = lo;
      this.hi = hi;
      return;
    }
    const next = new Float64Array(HISTOGRAM_BINS);
    for (let g = this.lo; g <= this.hi; g++) {
      const c = this.counts[g - this.start]!;
      if (c !== 0) next[Math.floor(g / factor) - lo]! += c;
    }
    this.width *= factor;
    this.counts = next;
    this.start = lo;
    this.lo = lo;
    this.hi = hi;
  }

  /** Nonempty bins as (lower edge, count) pairs in order, in float64. */
  bins(): { edges: Float64Array; counts: Float64Array } {
    const n = this.total === 0 ? 0 : this.hi - this.lo + 1;
    const edges = new Float64Array(n);
    const counts = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      edges[i] = (this.lo + i) * this.width;
      counts[i] = this.counts[this.lo + i - this.start]!;
    }
    return { edges, counts };
  }

  toJSON(): HistogramJSON {
    if (this.total === 0) return { width: 0, start: 0, counts: [] };
    let first = this.lo;
    let last = this.hi;
    while (first < last && this.counts[first - this.start] === 0) first++;
    while (last > first && this.counts[last - this.start] === 0) last--;
    return {
      width: this.width,
      start: first,
      counts: Array.from(this.counts.subarray(first - this.start, last - this.start + 1)),
    };
  }

  static fromJSON(j: HistogramJSON): Histogram {
    const h = new Histogram();
    if (j.counts.length === 0) return h;
    if (j.counts.length > HISTOGRAM_BINS) throw new RangeError(`a histogram has at most ${HISTOGRAM_BINS} bins`);
    h.width = j.width;
    h.start = j.start;
    h.lo = j.start;
    h.hi = j.start + j.counts.length - 1;
    h.counts.set(j.counts);
    h.total = j.counts.reduce((a, b) => a + b, 0);
    return h;
  }
}
