/** Accuracy metrics between a float model's outputs and its int8 model's (dequantized) outputs. Pure functions. */

/** Index of the largest value (first one on ties). */
export function argmax(v: ArrayLike<number>, offset = 0, length = v.length - offset): number {
  let best = 0;
  for (let i = 1; i < length; i++) if (v[offset + i]! > v[offset + best]!) best = i;
  return best;
}

/** Indices of the k largest values, largest first (stable on ties). */
export function topK(v: ArrayLike<number>, k: number): number[] {
  const idx = Array.from({ length: v.length }, (_, i) => i);
  idx.sort((a, b) => v[b]! - v[a]! || a - b);
  return idx.slice(0, k);
}

/** Sums for SNR / error over any number of arrays. */
export interface ErrorSums {
  n: number;
  sumSqRef: number;
  sumSqErr: number;
  maxAbs: number;
}

export const emptySums = (): ErrorSums => ({ n: 0, sumSqRef: 0, sumSqErr: 0, maxAbs: 0 });

export function addErrors(acc: ErrorSums, ref: ArrayLike<number>, got: ArrayLike<number>): void {
  for (let i = 0; i < ref.length; i++) {
    const d = ref[i]! - got[i]!;
    acc.sumSqRef += ref[i]! * ref[i]!;
    acc.sumSqErr += d * d;
    const a = Math.abs(d);
    if (a > acc.maxAbs) acc.maxAbs = a;
  }
  acc.n += ref.length;
}

export const SNR_CAP_DB = 200;

/** 10·log10(Σ ref² / Σ err²), capped at ±200 dB (200 = identical). */
export function snrDb(s: ErrorSums): number {
  if (s.sumSqErr === 0) return SNR_CAP_DB;
  if (s.sumSqRef === 0) return -SNR_CAP_DB;
  return Math.max(-SNR_CAP_DB, Math.min(SNR_CAP_DB, 10 * Math.log10(s.sumSqRef / s.sumSqErr)));
}

/** Classification: top-1/top-5 against labels (when given) for both models, and top-1 agreement between them. */
export interface ClassificationCounts {
  samples: number;
  labelled: number;
  floatTop1: number;
  floatTop5: number;
  int8Top1: number;
  int8Top5: number;
  agreeTop1: number;
}

export const emptyClassification = (): ClassificationCounts => ({
  samples: 0,
  labelled: 0,
  floatTop1: 0,
  floatTop5: 0,
  int8Top1: 0,
  int8Top5: 0,
  agreeTop1: 0,
});

export function addClassification(
  acc: ClassificationCounts,
  floatScores: ArrayLike<number>,
  int8Scores: ArrayLike<number>,
  label: number | null,
): void {
  const f5 = topK(floatScores, 5);
  const q5 = topK(int8Scores, 5);
  acc.samples++;
  if (f5[0] === q5[0]) acc.agreeTop1++;
  if (label === null) return;
  acc.labelled++;
  if (f5[0] === label) acc.floatTop1++;
  if (q5[0] === label) acc.int8Top1++;
  if (f5.includes(label)) acc.floatTop5++;
  if (q5.includes(label)) acc.int8Top5++;
}

/** Segmentation: per-pixel class agreement and the confusion needed for mean IoU (float mask as reference). */
export interface SegmentationCounts {
  pixels: number;
  agree: number;
  /** Per class: [intersection, union]. */
  perClass: Map<number, [number, number]>;
}

export const emptySegmentation = (): SegmentationCounts => ({ pixels: 0, agree: 0, perClass: new Map() });

/** Class mask of [H·W·C] scores (argmax over the last axis), or the values themselves when C = 1 (a mask already). */
export function classMask(v: ArrayLike<number>, channels: number): Int32Array {
  const n = Math.floor(v.length / channels);
  const out = new Int32Array(n);
  for (let p = 0; p < n; p++) out[p] = channels === 1 ? Math.round(v[p]!) : argmax(v, p * channels, channels);
  return out;
}

export function addSegmentation(acc: SegmentationCounts, ref: Int32Array, got: Int32Array): void {
  const inter = new Map<number, number>();
  const count = (m: Map<number, number>, k: number) => m.set(k, (m.get(k) ?? 0) + 1);
  const refN = new Map<number, number>();
  const gotN = new Map<number, number>();
  for (let i = 0; i < ref.length; i++) {
    count(refN, ref[i]!);
    count(gotN, got[i]!);
    if (ref[i] === got[i]) {
      acc.agree++;
      count(inter, ref[i]!);
    }
  }
  acc.pixels += ref.length;
  for (const c of new Set([...refN.keys(), ...gotN.keys()])) {
    const i = inter.get(c) ?? 0;
    const u = (refN.get(c) ?? 0) + (gotN.get(c) ?? 0) - i;
    const prev = acc.perClass.get(c) ?? [0, 0];
    acc.perClass.set(c, [prev[0] + i, prev[1] + u]);
  }
}

export function meanIoU(acc: SegmentationCounts): number {
  const ious = [...acc.perClass.values()].filter(([, u]) => u > 0).map(([i, u]) => i / u);
  return ious.length === 0 ? 1 : ious.reduce((s, x) => s + x, 0) / ious.length;
}

/** One detection: box [ymin, xmin, ymax, xmax] (TFLite_Detection_PostProcess layout), class and score. */
export interface Detection {
  box: [number, number, number, number];
  cls: number;
  score: number;
}

export function iou(a: Detection['box'], b: Detection['box']): number {
  const ih = Math.max(0, Math.min(a[2], b[2]) - Math.max(a[0], b[0]));
  const iw = Math.max(0, Math.min(a[3], b[3]) - Math.max(a[1], b[1]));
  const inter = ih * iw;
  const area = (x: Detection['box']) => Math.max(0, x[2] - x[0]) * Math.max(0, x[3] - x[1]);
  const union = area(a) + area(b) - inter;
  return union <= 0 ? 0 : inter / union;
}

/** Detection: float detections as reference, int8 detections matched greedily by score at IoU ≥ threshold, same class. */
export interface DetectionCounts {
  reference: number;
  predicted: number;
  matched: number;
  sumIoU: number;
}

export const emptyDetection = (): DetectionCounts => ({ reference: 0, predicted: 0, matched: 0, sumIoU: 0 });

export function addDetections(acc: DetectionCounts, ref: Detection[], got: Detection[], threshold = 0.5): void {
  const used = new Set<number>();
  const sortedGot = got.map((d, i) => ({ d, i })).sort((a, b) => b.d.score - a.d.score);
  acc.reference += ref.length;
  acc.predicted += got.length;
  for (const r of [...ref].sort((a, b) => b.score - a.score)) {
    let best = -1;
    let bestIoU = threshold;
    for (const { d, i } of sortedGot) {
      if (used.has(i) || d.cls !== r.cls) continue;
      const v = iou(r.box, d.box);
      if (v >= bestIoU) {
        best = i;
        bestIoU = v;
      }
    }
    if (best >= 0) {
      used.add(best);
      acc.matched++;
      acc.sumIoU += bestIoU;
    }
  }
}

/**
 * Detections from the four outputs of TFLite_Detection_PostProcess (boxes [1,N,4], classes [1,N], scores [1,N],
 * count [1]), keeping those with score ≥ minScore.
 */
export function detectionsOf(
  boxes: ArrayLike<number>,
  classes: ArrayLike<number>,
  scores: ArrayLike<number>,
  count: number,
  minScore: number,
): Detection[] {
  const out: Detection[] = [];
  const n = Math.min(Math.max(0, Math.round(count)), scores.length);
  for (let i = 0; i < n; i++) {
    if (scores[i]! < minScore) continue;
    out.push({
      box: [boxes[4 * i]!, boxes[4 * i + 1]!, boxes[4 * i + 2]!, boxes[4 * i + 3]!],
      cls: Math.round(classes[i]!),
      score: scores[i]!,
    });
  }
  return out;
}
