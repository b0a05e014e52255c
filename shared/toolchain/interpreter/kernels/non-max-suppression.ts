import { badOp } from '../errors.js';
import type { Kernel } from '../kernel.js';

/**
 * NON_MAX_SUPPRESSION_V4 (non_max_suppression.cc, reference_ops::NonMaxSuppression with soft_nms_sigma 0), float32:
 * candidates with score > score_threshold go into a max-heap by score; the top is taken unless its IoU with an
 * already selected box (checked newest first) is ≥ iou_threshold. Outputs the selected indices (zero-padded to
 * max_output_size) and their count. The heap is libstdc++'s std::priority_queue (push_heap / pop_heap over a deque),
 * so equal scores come out in the order TFLite's build takes them; IoU is computed in float32 as the kernel does.
 */

interface Candidate {
  index: number;
  score: number;
  /** suppress_begin_index: the first selected box this candidate has not been compared with. */
  begin: number;
}

const f = Math.fround;

/** libstdc++ std::__push_heap with comparator a.score < b.score. */
function pushUp(h: Candidate[], hole0: number, top: number, value: Candidate): void {
  let hole = hole0;
  let parent = Math.floor((hole - 1) / 2);
  while (hole > top && h[parent]!.score < value.score) {
    h[hole] = h[parent]!;
    hole = parent;
    parent = Math.floor((hole - 1) / 2);
  }
  h[hole] = value;
}

/** std::priority_queue::push. */
export function heapPush(h: Candidate[], c: Candidate): void {
  h.push(c);
  pushUp(h, h.length - 1, 0, c);
}

/** std::priority_queue::pop (std::pop_heap with std::__adjust_heap, then pop_back). */
export function heapPop(h: Candidate[]): void {
  const len = h.length - 1;
  if (len > 0) {
    const value = h[len]!;
    h[len] = h[0]!;
    let hole = 0;
    let child = 0;
    while (child < Math.floor((len - 1) / 2)) {
      child = 2 * (child + 1);
      if (h[child]!.score < h[child - 1]!.score) child--;
      h[hole] = h[child]!;
      hole = child;
    }
    if ((len & 1) === 0 && child === Math.floor((len - 2) / 2)) {
      child = 2 * (child + 1);
      h[hole] = h[child - 1]!;
      hole = child - 1;
    }
    pushUp(h, hole, 0, value);
  }
  h.pop();
}

export function iou(b: ArrayLike<number>, i: number, j: number): number {
  const [iy1, ix1, iy2, ix2] = [b[4 * i]!, b[4 * i + 1]!, b[4 * i + 2]!, b[4 * i + 3]!];
  const [jy1, jx1, jy2, jx2] = [b[4 * j]!, b[4 * j + 1]!, b[4 * j + 2]!, b[4 * j + 3]!];
  const iyMin = Math.min(iy1, iy2);
  const iyMax = Math.max(iy1, iy2);
  const ixMin = Math.min(ix1, ix2);
  const ixMax = Math.max(ix1, ix2);
  const jyMin = Math.min(jy1, jy2);
  const jyMax = Math.max(jy1, jy2);
  const jxMin = Math.min(jx1, jx2);
  const jxMax = Math.max(jx1, jx2);
  const areaI = f(f(iyMax - iyMin) * f(ixMax - ixMin));
  const areaJ = f(f(jyMax - jyMin) * f(jxMax - jxMin));
  if (areaI <= 0 || areaJ <= 0) return 0;
  const inter = f(
    Math.max(f(Math.min(iyMax, jyMax) - Math.max(iyMin, jyMin)), 0) *
      Math.max(f(Math.min(ixMax, jxMax) - Math.max(ixMin, jxMin)), 0),
  );
  return f(inter / f(f(areaI + areaJ) - inter));
}

/**
 * Hard NMS (soft_nms_sigma 0) as TFLite runs it: selected indices, in selection order. As in TFLite's loop, a
 * candidate that is not suppressed goes back into the heap (its score still above the threshold) and is compared
 * again, from the selection it joined onwards, when it comes out on top once more (normally suppressed by itself).
 */
export function nonMaxSuppression(
  boxes: ArrayLike<number>,
  scores: ArrayLike<number>,
  maxOutput: number,
  iouThreshold: number,
  scoreThreshold: number,
): number[] {
  const heap: Candidate[] = [];
  for (let i = 0; i < scores.length; i++)
    if (scores[i]! > scoreThreshold) heapPush(heap, { index: i, score: scores[i]!, begin: 0 });
  const selected: number[] = [];
  const want = Math.min(heap.length, maxOutput);
  while (selected.length < want && heap.length > 0) {
    const top = heap[0]!;
    heapPop(heap);
    let suppressed = false;
    for (let j = selected.length - 1; j >= top.begin; j--) {
      if (iou(boxes, top.index, selected[j]!) >= iouThreshold) {
        suppressed = true;
        break;
      }
      if (top.score <= scoreThreshold) break;
    }
    if (suppressed) continue;
    const next = { ...top, begin: selected.length };
    selected.push(top.index);
    if (next.score > scoreThreshold) heapPush(heap, next);
  }
  return selected;
}

export const nonMaxSuppressionV4: Kernel = (k) => {
  if (k.numInputs !== 5)
    throw badOp(
      k.op,
      `takes 5 inputs (V4; soft NMS is NON_MAX_SUPPRESSION_V5, which Kiln does not emit), has ${k.numInputs}`,
    );
  for (const i of [0, 1, 3, 4])
    if (k.dtype(i) !== 'float32') throw badOp(k.op, `input ${i} is ${k.dtype(i)}; the interpreter runs float32 NMS`);
  const bs = k.shape(0);
  if (bs.length !== 2 || bs[1] !== 4) throw badOp(k.op, `boxes must be [num_boxes, 4], are [${bs.join(', ')}]`);
  const n = bs[0]!;
  if (k.shape(1).length !== 1 || k.shape(1)[0] !== n) throw badOp(k.op, `scores must be [${n}]`);
  const max = k.constInts(2);
  if (!max) throw badOp(k.op, 'max_output_size (input 2) must be a constant');
  const m = max[0]!;
  if (m < 0) throw badOp(k.op, `max_output_size ${m} is negative`);
  const boxes = k.input(0) as Float32Array;
  const scores = k.input(1) as Float32Array;
  const iouT = k.input(3) as Float32Array;
  const scoreT = k.input(4) as Float32Array;
  const out = k.output(0, [m]) as Int32Array;
  const count = k.output(1, []) as Int32Array;
  return () => {
    const sel = nonMaxSuppression(boxes, scores, m, iouT[0]!, scoreT[0]!);
    out.fill(0);
    sel.forEach((v, i) => (out[i] = v));
    count[0] = sel.length;
  };
};
