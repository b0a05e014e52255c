import { badOp, unsupportedType } from '../errors.js';
import { readFlexMap } from '../../tflite/flex-map.js';
import type { Kernel, KernelArgs } from '../kernel.js';
import { qp } from '../quant.js';

const f32 = Math.fround;

interface Params {
  maxDetections: number;
  maxClassesPerDetection: number;
  detectionsPerClass: number;
  useRegularNms: boolean;
  scoreThreshold: number;
  iouThreshold: number;
  numClasses: number;
  scale: { y: number; x: number; h: number; w: number };
}

function params(k: KernelArgs): Params {
  if (!k.op.customOptions) throw badOp(k.op, 'the custom options are missing');
  const m = readFlexMap(k.op.customOptions);
  const num = (key: string, dflt?: number): number => {
    const v = m.scalar(key);
    if (typeof v === 'number') return v;
    if (typeof v === 'boolean') return v ? 1 : 0;
    if (dflt === undefined) throw badOp(k.op, `custom option ${key} is missing`);
    return dflt;
  };
  return {
    maxDetections: num('max_detections'),
    maxClassesPerDetection: num('max_classes_per_detection', 1),
    detectionsPerClass: num('detections_per_class', 100),
    useRegularNms: !!num('use_regular_nms', 0),
    scoreThreshold: f32(num('nms_score_threshold')),
    iouThreshold: f32(num('nms_iou_threshold')),
    numClasses: num('num_classes'),
    scale: { y: f32(num('y_scale')), x: f32(num('x_scale')), h: f32(num('h_scale')), w: f32(num('w_scale')) },
  };
}

/** Values of input i as float32, dequantized like the kernel's Dequantizer: (float(q) − zp) · scale. */
function floatReader(k: KernelArgs, i: number): () => Float32Array {
  const d = k.dtype(i);
  const x = k.input(i);
  if (d === 'float32') return () => x as Float32Array;
  if (d !== 'uint8' && d !== 'int8') throw unsupportedType(k.op, `${d} input ${i}`);
  const { scale, zp } = qp(k.tensor(i));
  const out = new Float32Array(x.length);
  return () => {
    for (let j = 0; j < x.length; j++) out[j] = f32((x[j] as number) - zp) * scale;
    return out;
  };
}

/** Indices of values sorted by decreasing value, stable. */
function decreasingArgSort(values: Float32Array | number[], idx: number[]): number[] {
  return idx.sort((a, b) => (values[b]! > values[a]! ? 1 : values[b]! < values[a]! ? -1 : a - b));
}

export const detectionPostProcess: Kernel = (k) => {
  const p = params(k);
  const boxShape = k.shape(0);
  const numBoxes = boxShape[1]!;
  const boxLen = boxShape[2]!;
  const numWithBg = k.shape(1)[2]!;
  const labelOffset = numWithBg - p.numClasses;
  const perAnchor = Math.min(p.maxClassesPerDetection, p.numClasses);
  const n = p.maxDetections * p.maxClassesPerDetection;
  const outBoxes = k.output(0, [1, n, 4]) as Float32Array;
  const outClasses = k.output(1, [1, n]) as Float32Array;
  const outScores = k.output(2, [1, n]) as Float32Array;
  const outCount = k.output(3, [1]) as Float32Array;
  const readBoxes = floatReader(k, 0);
  const readScores = floatReader(k, 1);
  const readAnchors = floatReader(k, 2);
  const decoded = new Float32Array(numBoxes * 4);

  const decode = (): void => {
    const enc = readBoxes();
    const anc = readAnchors();
    for (let i = 0; i < numBoxes; i++) {
      const e = i * boxLen;
      const a = i * 4;
      const [ay, ax, ah, aw] = [anc[a]!, anc[a + 1]!, anc[a + 2]!, anc[a + 3]!];
      const yc = f32((enc[e]! / p.scale.y) * ah + ay);
      const xc = f32((enc[e + 1]! / p.scale.x) * aw + ax);
      const hh = f32(0.5 * Math.exp(enc[e + 2]! / p.scale.h) * ah);
      const hw = f32(0.5 * Math.exp(enc[e + 3]! / p.scale.w) * aw);
      decoded[i * 4] = f32(yc - hh);
      decoded[i * 4 + 1] = f32(xc - hw);
      decoded[i * 4 + 2] = f32(yc + hh);
      decoded[i * 4 + 3] = f32(xc + hw);
    }
  };

  const iou = (i: number, j: number): number => {
    const b = decoded;
    const ai = f32(f32(b[i * 4 + 2]! - b[i * 4]!) * f32(b[i * 4 + 3]! - b[i * 4 + 1]!));
    const aj = f32(f32(b[j * 4 + 2]! - b[j * 4]!) * f32(b[j * 4 + 3]! - b[j * 4 + 1]!));
    if (ai <= 0 || aj <= 0) return 0;
    const ymin = Math.max(b[i * 4]!, b[j * 4]!);
    const xmin = Math.max(b[i * 4 + 1]!, b[j * 4 + 1]!);
    const ymax = Math.min(b[i * 4 + 2]!, b[j * 4 + 2]!);
    const xmax = Math.min(b[i * 4 + 3]!, b[j * 4 + 3]!);
    const inter = f32(Math.max(f32(ymax - ymin), 0) * Math.max(f32(xmax - xmin), 0));
    return f32(inter / f32(f32(ai + aj) - inter));
  };

  /** Single-class NMS over `scores` (one per box): indices of the kept boxes, best first. */
  const nms = (scores: Float32Array | number[], maxOut: number): number[] => {
    const keep: number[] = [];
    for (let i = 0; i < numBoxes; i++) if (scores[i]! >= p.scoreThreshold) keep.push(i);
    const keptScores = keep.map((i) => scores[i]!);
    const order = decreasingArgSort(
      keptScores,
      keep.map((_, i) => i),
    );
    const outSize = Math.min(keep.length, maxOut);
    const active = new Uint8Array(keep.length).fill(1);
    let numActive = keep.length;
    const selected: number[] = [];
    for (let i = 0; i < keep.length; i++) {
      if (numActive === 0 || selected.length >= outSize) break;
      if (!active[i]) continue;
      selected.push(keep[order[i]!]!);
      active[i] = 0;
      numActive--;
      for (let j = i + 1; j < keep.length; j++) {
        if (active[j] && iou(keep[order[i]!]!, keep[order[j]!]!) > p.iouThreshold) {
          active[j] = 0;
          numActive--;
        }
      }
    }
    return selected;
  };

  const fast = (scores: Float32Array): number => {
    const maxScores = new Float32Array(numBoxes);
    const classIdx: number[][] = [];
    for (let r = 0; r < numBoxes; r++) {
      const base = r * numWithBg + labelOffset;
      let order: number[];
      if (perAnchor === 1) {
        let best = 0;
        for (let c = 1; c < p.numClasses; c++) if (scores[base + c]! > scores[base + best]!) best = c;
        order = [best];
      } else {
        const vals = Array.from({ length: p.numClasses }, (_, c) => scores[base + c]!);
        order = decreasingArgSort(
          vals,
          vals.map((_, c) => c),
        ).slice(0, perAnchor);
      }
      classIdx.push(order);
      maxScores[r] = scores[base + order[0]!]!;
    }
    const selected = nms(maxScores, p.maxDetections);
    selected.forEach((sel, outIdx) => {
      const base = sel * numWithBg + labelOffset;
      for (let col = 0; col < perAnchor; col++) {
        const o = p.maxClassesPerDetection * outIdx + col;
        outBoxes.set(decoded.subarray(sel * 4, sel * 4 + 4), o * 4);
        outClasses[o] = classIdx[sel]![col]!;
        outScores[o] = scores[base + classIdx[sel]![col]!]!;
      }
    });
    return selected.length;
  };

  const regular = (scores: Float32Array): number => {
    let sorted: { score: number; index: number }[] = [];
    const classScores = new Float32Array(numBoxes);
    for (let col = 0; col < p.numClasses; col++) {
      for (let r = 0; r < numBoxes; r++) classScores[r] = scores[r * numWithBg + col + labelOffset]!;
      const selected = nms(classScores, p.detectionsPerClass);
      const merged = [
        ...sorted,
        ...selected.map((s) => ({ score: classScores[s]!, index: s * numWithBg + col + labelOffset })),
      ];
      merged.sort((a, b) => b.score - a.score);
      sorted = merged.slice(0, Math.min(merged.length, p.maxDetections));
    }
    sorted.forEach((s, o) => {
      const anchor = Math.floor(s.index / numWithBg);
      outBoxes.set(decoded.subarray(anchor * 4, anchor * 4 + 4), o * 4);
      outClasses[o] = s.index - anchor * numWithBg - labelOffset;
      outScores[o] = s.score;
    });
    return sorted.length;
  };

  return () => {
    decode();
    const scores = readScores();
    outBoxes.fill(0);
    outClasses.fill(0);
    outScores.fill(0);
    outCount[0] = p.useRegularNms ? regular(scores) : fast(scores);
  };
};
