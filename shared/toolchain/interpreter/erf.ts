/**
 * The error function in float64, to about 1e-15: its Maclaurin series below |x| = 2.5 (the largest term is about 16,
 * so little is lost to cancellation), and erfc's continued fraction (Lentz) above, where erfc(x) < 4.1e-4.
 */
export function erf(x: number): number {
  const a = Math.abs(x);
  if (!Number.isFinite(a)) return Number.isNaN(x) ? NaN : Math.sign(x);
  let r: number;
  if (a < 2.5) {
    // erf(x) = 2/√π · Σ (−1)^n x^(2n+1) / (n! (2n+1))
    let term = a;
    let sum = a;
    const x2 = a * a;
    for (let n = 1; n < 80; n++) {
      term *= -x2 / n;
      const add = term / (2 * n + 1);
      sum += add;
      if (Math.abs(add) < 1e-17 * Math.abs(sum)) break;
    }
    r = (2 / Math.sqrt(Math.PI)) * sum;
  } else {
    // erfc(x) = e^(−x²)/√π · 1/(x + (1/2)/(x + 1/(x + (3/2)/(x + 2/(x + …)))))
    const tiny = 1e-300;
    let f = a;
    let c = a;
    let d = 0;
    for (let n = 1; n < 200; n++) {
      const an = n / 2;
      d = a + an * d;
      d = Math.abs(d) < tiny ? 1 / tiny : 1 / d;
      c = a + an / c;
      if (Math.abs(c) < tiny) c = tiny;
      const delta = c * d;
      f *= delta;
      if (Math.abs(delta - 1) < 1e-16) break;
    }
    r = 1 - Math.exp(-a * a) / Math.sqrt(Math.PI) / f;
  }
  return x < 0 ? -r : r;
}
