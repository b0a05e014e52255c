import { rng } from '../../../common/rng.js';

/** A classifier head: logits = W·x + b, W row-major [classes, size]. */
export interface Head {
  classes: number;
  size: number;
  weights: Float32Array;
  bias: Float32Array;
}

export interface EpochStats {
  epoch: number;
  loss: number;
  accuracy: number;
  validationLoss?: number;
  validationAccuracy?: number;
  /** Wall time of the epoch. */
  ms?: number;
}

export interface Examples {
  x: Float32Array[];
  y: number[];
}

export function logits(head: Head, x: Float32Array): Float64Array {
  const out = new Float64Array(head.classes);
  for (let c = 0; c < head.classes; c++) {
    let s = head.bias[c]!;
    const o = c * head.size;
    for (let i = 0; i < head.size; i++) s += head.weights[o + i]! * x[i]!;
    out[c] = s;
  }
  return out;
}

function softmaxInPlace(z: Float64Array): void {
  let m = -Infinity;
  for (const v of z) m = Math.max(m, v);
  let s = 0;
  for (let i = 0; i < z.length; i++) s += z[i] = Math.exp(z[i]! - m);
  for (let i = 0; i < z.length; i++) z[i]! /= s;
}

export function predict(head: Head, x: Float32Array): number {
  const z = logits(head, x);
  let best = 0;
  for (let c = 1; c < z.length; c++) if (z[c]! > z[best]!) best = c;
  return best;
}

/** Mean cross-entropy and accuracy of a head on examples. Pure. */
export function evaluateHead(head: Head, ex: Examples): { loss: number; accuracy: number } {
  if (ex.x.length === 0) return { loss: 0, accuracy: 0 };
  let loss = 0;
  let right = 0;
  ex.x.forEach((x, k) => {
    const p = logits(head, x);
    softmaxInPlace(p);
    loss -= Math.log(Math.max(p[ex.y[k]!]!, 1e-12));
    let best = 0;
    for (let c = 1; c < p.length; c++) if (p[c]! > p[best]!) best = c;
    if (best === ex.y[k]) right++;
  });
  return { loss: loss / ex.x.length, accuracy: right / ex.x.length };
}

export interface HeadOptions {
  classes: number;
  epochs: number;
  learningRate: number;
  seed: number;
  /** Stop after the epoch that passes this many seconds. */
  timeBudgetSeconds?: number;
  batchSize?: number;
  /** L2 weight decay. */
  decay?: number;
  onEpoch?: (s: EpochStats) => void;
}

/**
 * Softmax regression by mini-batch SGD with momentum (pure arithmetic, seeded order). The step is scaled by the mean
 * squared embedding norm, so one learning rate suits embeddings of any scale. Returns the head of the epoch with the
 * best validation loss (the last epoch when there is no validation set), and every epoch's figures.
 */
export function trainHead(
  train: Examples,
  validation: Examples,
  o: HeadOptions,
): { head: Head; history: EpochStats[] } {
  const size = train.x[0]!.length;
  const C = o.classes;
  const r = rng(o.seed);
  const head: Head = {
    classes: C,
    size,
    weights: Float32Array.from({ length: C * size }, () => (r() - 0.5) * 0.01),
    bias: new Float32Array(C),
  };
  let norm = 0;
  for (const x of train.x) for (const v of x) norm += v * v;
  norm = Math.max(norm / train.x.length, 1e-6);
  const lr = o.learningRate / norm;
  const decay = o.decay ?? 1e-4;
  const batch = o.batchSize ?? 16;
  const vw = new Float64Array(C * size);
  const vb = new Float64Array(C);
  const gw = new Float64Array(C * size);
  const gb = new Float64Array(C);
  const order = train.x.map((_, i) => i);
  const history: EpochStats[] = [];
  let best: { loss: number; head: Head } | undefined;
  const t0 = Date.now();
  for (let epoch = 1; epoch <= o.epochs; epoch++) {
    for (let i = order.length - 1; i > 0; i--) {
      const j = Math.floor(r() * (i + 1));
      [order[i], order[j]] = [order[j]!, order[i]!];
    }
    for (let s = 0; s < order.length; s += batch) {
      const ids = order.slice(s, s + batch);
      gw.fill(0);
      gb.fill(0);
      for (const k of ids) {
        const x = train.x[k]!;
        const p = logits(head, x);
        softmaxInPlace(p);
        p[train.y[k]!]! -= 1;
        for (let c = 0; c < C; c++) {
          const d = p[c]!;
          gb[c]! += d;
          const off = c * size;
          for (let i = 0; i < size; i++) gw[off + i]! += d * x[i]!;
        }
      }
      const n = ids.length;
      for (let i = 0; i < gw.length; i++) {
        vw[i] = 0.9 * vw[i]! + gw[i]! / n + decay * head.weights[i]!;
        head.weights[i]! -= lr * vw[i]!;
      }
      for (let c = 0; c < C; c++) {
        vb[c] = 0.9 * vb[c]! + gb[c]! / n;
        head.bias[c]! -= o.learningRate * vb[c]!;
      }
    }
    const tr = evaluateHead(head, train);
    const stats: EpochStats = { epoch, loss: tr.loss, accuracy: tr.accuracy };
    if (validation.x.length > 0) {
      const va = evaluateHead(head, validation);
      stats.validationLoss = va.loss;
      stats.validationAccuracy = va.accuracy;
    }
    history.push(stats);
    o.onEpoch?.(stats);
    const score = stats.validationLoss ?? stats.loss;
    if (!best || score < best.loss)
      best = { loss: score, head: { ...head, weights: head.weights.slice(), bias: head.bias.slice() } };
    if (o.timeBudgetSeconds !== undefined && (Date.now() - t0) / 1000 > o.timeBudgetSeconds) break;
  }
  return { head: best!.head, history };
}

/**
 * Weight imprinting (Coral's few-shot retraining): each class's weights are the L2-normalized mean of its
 * L2-normalized embeddings, scaled so that the logits of a typical embedding span a few units; no bias. Pure.
 */
export function imprintHead(train: Examples, classes: number): { head: Head; history: EpochStats[] } {
  const size = train.x[0]!.length;
  const sums = Array.from({ length: classes }, () => new Float64Array(size));
  let meanNorm = 0;
  train.x.forEach((x, k) => {
    let n = 0;
    for (const v of x) n += v * v;
    n = Math.sqrt(n) || 1;
    meanNorm += n;
    const s = sums[train.y[k]!]!;
    for (let i = 0; i < size; i++) s[i]! += x[i]! / n;
  });
  meanNorm /= train.x.length;
  const scale = 10 / (meanNorm || 1);
  const weights = new Float32Array(classes * size);
  sums.forEach((s, c) => {
    let n = 0;
    for (const v of s) n += v * v;
    n = Math.sqrt(n) || 1;
    for (let i = 0; i < size; i++) weights[c * size + i] = (s[i]! / n) * scale;
  });
  const head: Head = { classes, size, weights, bias: new Float32Array(classes) };
  const tr = evaluateHead(head, train);
  return { head, history: [{ epoch: 1, loss: tr.loss, accuracy: tr.accuracy }] };
}
