/**
 * Accuracy accumulators for raw anchor detectors, pose models and embeddings (float output vs dequantized int8 output,
 * per sample). Pure; evaluate.ts feeds them.
 */

/**
 * Raw detector heads (no TFLite_Detection_PostProcess: BlazeFace, raw SSD heads): the anchors float is confident about
 * (score ≥ minScore, after a sigmoid when the scores are logits) and whether int8 is confident about them too, with the
 * mean absolute difference of their first four box values (output units).
 */
export interface AnchorCounts {
  reference: number;
  predicted: number;
  matched: number;
  sumBoxError: number;
}

export const emptyAnchors = (): AnchorCounts => ({ reference: 0, predicted: 0, matched: 0, sumBoxError: 0 });

const sigmoid = (x: number): number => 1 / (1 + Math.exp(-x));

/** Confidence per anchor: the highest of its C scores, as a probability (logits go through a sigmoid). */
function anchorConfidence(v: ArrayLike<number>, anchors: number, logits: boolean): Float64Array {
  const c = Math.max(1, Math.floor(v.length / anchors));
  const out = new Float64Array(anchors).fill(-Infinity);
  for (let a = 0; a < anchors; a++) for (let j = 0; j < c; j++) out[a] = Math.max(out[a]!, v[a * c + j]!);
  return logits ? out.map(sigmoid) : out;
}

export function addAnchors(
  acc: AnchorCounts,
  ref: { scores: ArrayLike<number>; boxes: ArrayLike<number> },
  got: { scores: ArrayLike<number>; boxes: ArrayLike<number> },
  anchors: number,
  minScore: number,
): void {
  let logits = false;
  for (let i = 0; i < ref.scores.length; i++) if (ref.scores[i]! < 0 || ref.scores[i]! > 1) logits = true;
  const f = anchorConfidence(ref.scores, anchors, logits);
  const q = anchorConfidence(got.scores, anchors, logits);
  const k = Math.floor(ref.boxes.length / anchors);
  for (let a = 0; a < anchors; a++) {
    if (q[a]! >= minScore) acc.predicted++;
    if (f[a]! < minScore) continue;
    acc.reference++;
    if (q[a]! < minScore) continue;
    acc.matched++;
    let err = 0;
    for (let j = 0; j < 4; j++) err += Math.abs(ref.boxes[a * k + j]! - got.boxes[a * k + j]!);
    acc.sumBoxError += err / 4;
  }
}

/** Pose: keypoints int8 puts where float puts them (within a tolerance). */
export interface KeypointCounts {
  keypoints: number;
  within: number;
  sumDistance: number;
  /** Tolerance used, in the output's units (0.05 for normalized coordinates, 1 cell for heatmaps). */
  tolerance: number;
  unit: string;
}

export const emptyKeypoints = (): KeypointCounts => ({
  keypoints: 0,
  within: 0,
  sumDistance: 0,
  tolerance: 0,
  unit: '',
});

/** Coordinates [..., K, 2|3] (y, x, [score]): normalized when every |coordinate| ≤ 1.5, else tolerance 5% of the span. */
export function addKeypointCoords(
  acc: KeypointCounts,
  ref: ArrayLike<number>,
  got: ArrayLike<number>,
  d: number,
): void {
  const k = Math.floor(ref.length / d);
  let span = 0;
  for (let i = 0; i < k; i++) span = Math.max(span, Math.abs(ref[i * d]!), Math.abs(ref[i * d + 1]!));
  const normalized = span <= 1.5;
  const tol = normalized ? 0.05 : 0.05 * Math.max(span, 1e-9);
  acc.tolerance = tol;
  acc.unit = normalized ? 'normalized coordinates' : 'output units (5% of the largest coordinate)';
  for (let i = 0; i < k; i++) {
    const dist = Math.hypot(ref[i * d]! - got[i * d]!, ref[i * d + 1]! - got[i * d + 1]!);
    acc.keypoints++;
    acc.sumDistance += dist;
    if (dist <= tol) acc.within++;
  }
}

/** Heatmaps [1,H,W,K]: the peak cell per keypoint, within one cell. */
export function addKeypointHeatmaps(
  acc: KeypointCounts,
  ref: ArrayLike<number>,
  got: ArrayLike<number>,
  w: number,
  k: number,
): void {
  acc.tolerance = 1;
  acc.unit = 'heatmap cells';
  const peak = (v: ArrayLike<number>, j: number): number => {
    let best = -Infinity;
    let at = 0;
    for (let p = 0; p * k + j < v.length; p++)
      if (v[p * k + j]! > best) {
        best = v[p * k + j]!;
        at = p;
      }
    return at;
  };
  for (let j = 0; j < k; j++) {
    const a = peak(ref, j);
    const b = peak(got, j);
    const dy = Math.floor(a / w) - Math.floor(b / w);
    const dx = (a % w) - (b % w);
    acc.keypoints++;
    acc.sumDistance += Math.hypot(dy, dx);
    if (Math.abs(dy) <= 1 && Math.abs(dx) <= 1) acc.within++;
  }
}

/** Embeddings: cosine similarity of the int8 vector with the float one. */
export interface EmbeddingCounts {
  samples: number;
  sumCosine: number;
  minCosine: number;
}

export const emptyEmbedding = (): EmbeddingCounts => ({ samples: 0, sumCosine: 0, minCosine: 1 });

export function cosine(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let ab = 0;
  let aa = 0;
  let bb = 0;
  for (let i = 0; i < a.length; i++) {
    ab += a[i]! * b[i]!;
    aa += a[i]! * a[i]!;
    bb += b[i]! * b[i]!;
  }
  if (aa === 0 && bb === 0) return 1;
  return aa === 0 || bb === 0 ? 0 : ab / Math.sqrt(aa * bb);
}

export function addEmbedding(acc: EmbeddingCounts, ref: ArrayLike<number>, got: ArrayLike<number>): void {
  const c = cosine(ref, got);
  acc.samples++;
  acc.sumCosine += c;
  acc.minCosine = Math.min(acc.minCosine, c);
}
