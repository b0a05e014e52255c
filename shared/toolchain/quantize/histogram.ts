/**
 * A streaming histogram whose bins are anchored at 0 with a power-of-two width: bin g covers [g·w, (g+1)·w). When new
 * values fall outside the window, the window shifts or the width doubles (merging bin pairs exactly), so the result
 * does not depend on how the data was split into batches beyond the order-independent counts — and it serializes
 * exactly (integers and a power of two).
 *
 * The final width is the smallest w₀·2^k whose window of HISTOGRAM_BINS bins covers every value seen, w₀ being the
 * width the first batch chose. So histograms of parts of the data, each started at w₀ (`withWidth`), merge (`merge`)
 * into exactly the histogram of all the data added in one go, in any order: calibration on several threads relies on
 * this.
 */

export const HISTOGRAM_BINS = 2048;
/** The fast path counts consecutive values in 4 banks so that runs of one bin do not wait on each other. */
const BANKS = 4;
const BANK1 = HISTOGRAM_BINS;
const BANK2 = 2 * HISTOGRAM_BINS;
const BANK3 = 3 * HISTOGRAM_BINS;

/**
 * Per-call counts of the fast path, BANKS banks of HISTOGRAM_BINS, shared by every histogram of this thread: `observe`
 * is synchronous and leaves it zeroed. A module constant rather than a field: V8 then keeps the array's address and
 * length out of the counting loop (about twice as fast on calibration data).
 */
const SCRATCH = new Int32Array(BANKS * HISTOGRAM_BINS);

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

/**
 * The [min, max] found by the last successful countInWindow / finiteExtremes call. Module variables rather than a
 * returned pair: V8 may optimize those functions during their first, long loop (on-stack replacement), before the
 * code after the loop has run, and code there that needs type feedback (a comparison, an array literal, a typed-array
 * store) then deoptimizes on every call — three times slower. A module variable store needs none.
 */
let foundMin = 0;
let foundMax = 0;

/**
 * Counts every value into SCRATCH (window bin ⌊v·inv⌋ − start) and finds their min/max (foundMin/foundMax), in one
 * pass, if every value falls inside the window of HISTOGRAM_BINS bins; otherwise (a value outside it, NaN or
 * ±Infinity) leaves SCRATCH zeroed and returns false. `values` is not empty. Four values per step, one bank each:
 * about 1.5× faster than one at a time, more so once V8 must check typed arrays for detached buffers in loops (after
 * any ArrayBuffer anywhere in the process was transferred).
 */
function countInWindow(values: Float32Array, inv: number, start: number): boolean {
  const n = values.length;
  const banks = SCRATCH;
  let lo = values[0]!;
  let hi = lo;
  let i = 0;
  for (; i + 3 < n; i += 4) {
    const a = values[i]!;
    const b = values[i + 1]!;
    const c = values[i + 2]!;
    const d = values[i + 3]!;
    // v·inv is exact (inv is a power of two) and start an integer: ⌊x⌋ = ⌊v·inv⌋ − start, the bin add() uses.
    const xa = a * inv - start;
    const xb = b * inv - start;
    const xc = c * inv - start;
    const xd = d * inv - start;
    if (!(
      xa >= 0 &&
      xa < HISTOGRAM_BINS &&
      xb >= 0 &&
      xb < HISTOGRAM_BINS &&
      xc >= 0 &&
      xc < HISTOGRAM_BINS &&
      xd >= 0 &&
      xd < HISTOGRAM_BINS
    )) {
      banks.fill(0);
      return false;
    }
    banks[xa | 0]!++;
    banks[(xb | 0) + BANK1]!++;
    banks[(xc | 0) + BANK2]!++;
    banks[(xd | 0) + BANK3]!++;
    if (a < lo) lo = a;
    else if (a > hi) hi = a;
    if (b < lo) lo = b;
    else if (b > hi) hi = b;
    if (c < lo) lo = c;
    else if (c > hi) hi = c;
    if (d < lo) lo = d;
    else if (d > hi) hi = d;
  }
  for (; i < n; i++) {
    const v = values[i]!;
    const x = v * inv - start;
    if (!(x >= 0 && x < HISTOGRAM_BINS)) {
      banks.fill(0);
      return false;
    }
    banks[x | 0]!++;
    if (v < lo) lo = v;
    else if (v > hi) hi = v;
  }
  foundMin = lo;
  foundMax = hi;
  return true;
}

/** Min and max of the finite values (foundMin/foundMax); false when there is none. */
function finiteExtremes(values: Float32Array): boolean {
  const n = values.length;
  let i = 0;
  while (i < n && !Number.isFinite(values[i]!)) i++;
  if (i === n) return false;
  let lo = values[i]!;
  let hi = lo;
  for (; i < n; i++) {
    const v = values[i]!;
    if (v < lo) {
      if (v !== -Infinity) lo = v;
    } else if (v > hi) {
      if (v !== Infinity) hi = v;
    }
  }
  foundMin = lo;
  foundMax = hi;
  return true;
}

export class Histogram {
  /** Bin width (a power of two); 0 until the first value, unless the histogram was started with `withWidth`. */
  width = 0;
  /** Global index of counts[0]. */
  private start = 0;
  private counts = new Float64Array(HISTOGRAM_BINS);
  /** Global indices of the first and last nonempty bins (valid when total > 0). */
  private lo = 0;
  private hi = -1;
  total = 0;

  /**
   * An empty histogram whose first values are binned at `width` (doubled as they need) instead of a width chosen from
   * them: a part of the data started at the first batch's width merges exactly with the other parts.
   */
  static withWidth(width: number): Histogram {
    if (!(width > 0) || 2 ** Math.round(Math.log2(width)) !== width)
      throw new RangeError(`a histogram width is a power of two, not ${width}`);
    const h = new Histogram();
    h.width = width;
    return h;
  }

  /**
   * Adds every finite value and returns their [min, max] (null when there is none). One pass over the data when every
   * value falls inside the current window (the usual case once a tensor has been seen: bins are counted in a scratch
   * array together with min/max); otherwise — first call, a value outside the window, NaN or ±Infinity — a min/max pass,
   * the window widened to cover it (as `add` does), then the counting pass. Every path counts each value in the same
   * bin as `add`.
   */
  observe(values: Float32Array): [number, number] | null {
    if (this.total > 0 && values.length > 0 && countInWindow(values, 1 / this.width, this.start)) {
      const lo = foundMin;
      const hi = foundMax;
      this.lo = Math.min(this.lo, Math.floor(lo / this.width));
      this.hi = Math.max(this.hi, Math.floor(hi / this.width));
      this.flush(values.length);
      return [lo, hi];
    }
    if (!finiteExtremes(values)) return null;
    const lo = foundMin;
    const hi = foundMax;
    this.place(lo, hi);
    // The window now covers [lo, hi]: one counting pass unless there are NaN or ±Infinity to skip.
    if (countInWindow(values, 1 / this.width, this.start)) this.flush(values.length);
    else this.count(values, lo, hi);
    return [lo, hi];
  }

  /** Adds values; `vmin`/`vmax` are their (finite) extremes. Non-finite values are ignored. */
  add(values: Float32Array, vmin: number, vmax: number): void {
    if (!(vmax >= vmin)) return;
    this.place(vmin, vmax);
    this.count(values, vmin, vmax);
  }

  /** Sets the width and window for a first [vmin, vmax], or widens the window to cover it too. */
  private place(vmin: number, vmax: number): void {
    if (this.total > 0) return this.fit(vmin, vmax);
    // Indices stay well inside the safe-integer range: the width is at least 2^-30 of the largest magnitude.
    const magnitude = Math.max(Math.abs(vmin), Math.abs(vmax));
    if (this.width === 0)
      this.width = pow2AtLeast(Math.max((vmax - vmin) / (HISTOGRAM_BINS - 1), magnitude * 2 ** -30));
    // A width given by `withWidth` (the first batch's) doubles until the indices are below 2^31 too. That never takes
    // it past the width of the whole: for the first batch's largest magnitude m₀ (its width w₀ ≥ m₀·2^-30, or m₀ = 0)
    // and a magnitude M ≥ 2^31·w₀ ≥ 2·m₀ here, the whole spans more than M/2, so its width is above M/4100.
    while (magnitude >= this.width * 2 ** 31) this.width *= 2;
    while (Math.floor(vmax / this.width) - Math.floor(vmin / this.width) >= HISTOGRAM_BINS) this.width *= 2;
    this.start = Math.floor(vmin / this.width);
    this.counts.fill(0);
    this.lo = Math.floor(vmin / this.width);
    this.hi = Math.floor(vmax / this.width);
  }

  /** Counts the values in [vmin, vmax], inside the window. */
  private count(values: Float32Array, vmin: number, vmax: number): void {
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

  /** Moves the fast path's counts of `n` values from SCRATCH into the window. */
  private flush(n: number): void {
    const counts = this.counts;
    // The four banks, written out: a loop over them here makes observe several times slower in V8.
    for (let k = 0; k < HISTOGRAM_BINS; k++) {
      const c = SCRATCH[k]! + SCRATCH[k + BANK1]! + SCRATCH[k + BANK2]! + SCRATCH[k + BANK3]!;
      if (c !== 0) {
        counts[k]! += c;
        SCRATCH[k] = 0;
        SCRATCH[k + BANK1] = 0;
        SCRATCH[k + BANK2] = 0;
        SCRATCH[k + BANK3] = 0;
      }
    }
    this.total += n;
  }

  /**
   * Adds another histogram's counts. The result has the larger of the two widths, doubled while the window cannot
   * cover both (bin pairs merged exactly, as `fit` does): for parts of one data set started at the same width, the
   * histogram of the whole, whatever the split and the order of the merges.
   */
  merge(other: Histogram): void {
    if (other.total === 0) return;
    const parts = this.total > 0 ? [this, other] : [other];
    let width = Math.max(this.width, other.width);
    // Bin g of a part (width w ≤ width) is bin ⌊g / (width / w)⌋ at `width`: exact, every width is a power of two.
    const span = (w: number): [number, number] => [
      Math.min(...parts.map((p) => Math.floor(p.lo / (w / p.width)))),
      Math.max(...parts.map((p) => Math.floor(p.hi / (w / p.width)))),
    ];
    let [lo, hi] = span(width);
    while (hi - lo + 1 > HISTOGRAM_BINS) {
      width *= 2;
      [lo, hi] = span(width);
    }
    const next = new Float64Array(HISTOGRAM_BINS);
    for (const p of parts) {
      const factor = width / p.width;
      for (let g = p.lo; g <= p.hi; g++) {
        const c = p.counts[g - p.start]!;
        if (c !== 0) next[Math.floor(g / factor) - lo]! += c;
      }
    }
    this.width = width;
    this.counts = next;
    this.start = lo;
    this.lo = lo;
    this.hi = hi;
    this.total += other.total;
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
