/**
 * The constant tables of ONNX's spectral ops, computed in float64 at conversion: DFT matrices (as FULLY_CONNECTED
 * weights), the Hann, Hamming and Blackman windows, and the mel filter bank of MelWeightMatrix. Pure functions.
 */

/** cos and sin of 2π·r/n for integers r and n > 0; exact (0, ±1) at the quarter turns. */
export function turn(r: number, n: number): [number, number] {
  const q = ((r % n) + n) % n;
  if ((4 * q) % n === 0) return QUARTERS[(4 * q) / n]!;
  const a = (2 * Math.PI * q) / n;
  return [Math.cos(a), Math.sin(a)];
}

const QUARTERS: [number, number][] = [
  [1, 0],
  [0, 1],
  [-1, 0],
  [0, -1],
];

export interface DftSpec {
  /** Samples of the input along the transformed axis (the signal is zero-padded or cut to `size`). */
  frame: number;
  /** The DFT length n. */
  size: number;
  /** Frequency bins kept: n, or ⌊n/2⌋+1 when onesided. */
  bins: number;
  /** Parts per input sample: 1 (real) or 2 (real, imaginary). */
  parts: 1 | 2;
  inverse: boolean;
  /** Per-sample weights folded into the matrix (STFT's window); length `frame`. */
  window?: ArrayLike<number>;
}

/**
 * FULLY_CONNECTED weights [2·bins, frame·parts] of the DFT: input column j·parts + r (sample j, part r), output row
 * k·2 + s (bin k, s = 0 real, 1 imaginary). Forward: Y[k] = Σ_j x[j]·e^{−2πi·jk/n}; inverse: (1/n)·Σ_j x[j]·e^{+2πi·jk/n}.
 * Samples from n on contribute nothing (a signal cut to n); samples the input lacks are zeros (a padded signal).
 */
export function dftWeights(s: DftSpec): Float32Array {
  const cols = s.frame * s.parts;
  const w = new Float32Array(2 * s.bins * cols);
  const sign = s.inverse ? -1 : 1;
  const scale = s.inverse ? 1 / s.size : 1;
  const used = Math.min(s.frame, s.size);
  for (let k = 0; k < s.bins; k++)
    for (let j = 0; j < used; j++) {
      const [cos, sin] = turn(j * k, s.size);
      const g = scale * (s.window ? s.window[j]! : 1);
      const re = k * 2 * cols + j * s.parts;
      const im = re + cols;
      // (a + ib)·(cos ∓ i·sin): real a·cos ± b·sin, imaginary b·cos ∓ a·sin
      w[re] = g * cos;
      w[im] = -sign * g * sin;
      if (s.parts === 2) {
        w[re + 1] = sign * g * sin;
        w[im + 1] = g * cos;
      }
    }
  return w;
}

/** 2595·log10(1 + f/700): hertz to mel. */
export const toMel = (hz: number): number => 2595 * Math.log10(1 + hz / 700);

/**
 * The spectrogram bin of each of the mel filter bank's num_mel_bins + 2 edges, as ONNX's reference computes them:
 * mel points evenly spaced from the lower edge in steps of (high − low)/(num_mel_bins + 2), back to hertz, then
 * ⌊(dft_length + 1)·f / sample_rate⌋.
 */
export function melEdges(
  melBins: number,
  dftLength: number,
  sampleRate: number,
  lowHz: number,
  highHz: number,
): number[] {
  const low = toMel(lowHz);
  const step = (toMel(highHz) - low) / (melBins + 2);
  return Array.from({ length: melBins + 2 }, (_v, i) => {
    const hz = 700 * (10 ** ((i * step + low) / 2595) - 1);
    return Math.floor(((dftLength + 1) * hz) / sampleRate);
  });
}

/**
 * The value of filter i at spectrogram bin j, for its edges l ≤ c ≤ h: rising (j − l)/(c − l) on [l, c), 1 at c
 * (when the filter has a rising or a falling side, as the reference writes it), falling (h − j)/(h − c) on (c, h).
 */
export function melValue(j: number, l: number, c: number, h: number): number {
  if (j === c) return l <= c || c < h ? 1 : 0;
  if (l <= j && j < c) return (j - l) / (c - l);
  if (c < j && j < h) return (h - j) / (h - c);
  return 0;
}

/** MelWeightMatrix [⌊dft_length/2⌋ + 1, num_mel_bins] (float64), row-major. */
export function melWeights(
  melBins: number,
  dftLength: number,
  sampleRate: number,
  lowHz: number,
  highHz: number,
): Float64Array {
  const rows = Math.floor(dftLength / 2) + 1;
  const e = melEdges(melBins, dftLength, sampleRate, lowHz, highHz);
  const out = new Float64Array(rows * melBins);
  for (let j = 0; j < rows; j++)
    for (let i = 0; i < melBins; i++) out[j * melBins + i] = melValue(j, e[i]!, e[i + 1]!, e[i + 2]!);
  return out;
}
