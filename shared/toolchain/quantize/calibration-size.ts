/**
 * Is the calibration set big enough? Calibration takes each tensor's range from the samples' extremes. If the samples
 * and a new input are drawn alike (exchangeable), the new input holds the largest value of a tensor among the n + 1
 * with probability 1/(n + 1), and the smallest with 1/(n + 1): it falls outside the calibrated range, and is clipped,
 * with probability up to 2/(n + 1), whatever the data. Kiln asks for that risk to be at most about 6%: n ≥ 32.
 */
export const MIN_CALIBRATION_SAMPLES = 32;

/** TFLite's advice for a representative dataset: about 100 to 500 samples. */
export const RECOMMENDED_CALIBRATION_SAMPLES = '100–500';

/** Upper bound on the chance that a new input leaves a tensor's range calibrated on `n` exchangeable samples. */
export const outOfRangeBound = (n: number): number => Math.min(1, 2 / (n + 1));

/** The quantize report's warning for a calibration set of `n` real samples, or null when it is big enough. Pure. */
export function calibrationSizeWarning(n: number): string | null {
  if (n >= MIN_CALIBRATION_SAMPLES) return null;
  const pct = (p: number): string => `${Math.round(p * 100)}%`;
  return (
    `TOO FEW CALIBRATION SAMPLES: ${n} sample${n === 1 ? '' : 's'}. Each tensor's range comes from the samples' ` +
    `extremes, so a new input can fall outside it (and be clipped) with probability up to 2/(n+1) = ` +
    `${pct(outOfRangeBound(n))}; add at least ${MIN_CALIBRATION_SAMPLES - n} more representative input` +
    `${MIN_CALIBRATION_SAMPLES - n === 1 ? '' : 's'} (${MIN_CALIBRATION_SAMPLES} in all: ≤ ` +
    `${pct(outOfRangeBound(MIN_CALIBRATION_SAMPLES))}), ideally ${RECOMMENDED_CALIBRATION_SAMPLES}`
  );
}
