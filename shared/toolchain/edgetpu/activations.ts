import type { Graph } from '../ir/graph.js';
import type { Op } from '../ir/types.js';
import { activationBytes, NARROW_BYTES_PER_TILE, peakActivationPerTile, TILES } from './memory.js';

/**
 * Activation memory: what edgetpu_compiler 16 does with activations that exceed a tile's narrow memory, as Kiln
 * models it. Each rule below names its evidence; docs/edgetpu-ops.md ("Activation memory") has the same table.
 *
 * Facts:
 *  - Narrow (activation) memory is 196,608 B per tile × 16 tiles [D, docs/specs/edgetpu-compiler.md §2.2, §10.1].
 *  - The compiler streams large activations in row bands: the real compiled DeepLab v3 513×513 (shared/models) has an
 *    op working set of 248,070 B per tile (1.26 × narrow) and records used_narrow_memory_bytes_per_tile = 192,744, just
 *    under the 196,608 B capacity: it filled the narrow memory and streamed the rest. Every real pair records ≤ 196,608
 *    (MobileNet v1 0.25/128: 8,996; MobileNet-EdgeTPU 0.75: 65,284; SSD segment: 150,820) [V].
 *  - Chains of spatially local ops compile far beyond the narrow memory: VGG16/VGG19 224 (2.04 ×, Coral publishes their
 *    Edge TPU latency, docs/specs/edgetpu-compiler.md §10.3) and Coral's own compiled PoseNet/BodyPix MobileNet v1 0.75 output stride 16
 *    (google-coral/project-posenet models/mobilenet/posenet_mobilenet_v1_075_721_1281_quant_decoder_edgetpu.tflite;
 *    google-coral/project-bodypix models/bodypix_mobilenet_v1_075_1280_720_16_quant_decoder_edgetpu.tflite,
 *    …_720_1280_…, …_1024_768_…): 5.30 × narrow per tile in Kiln's rebuild (LARGEST_KNOWN_COMPILED_PER_TILE).
 *  - The reported "large activation tensors" failures (google-coral/edgetpu issues 439, 449, 512, 608, 653; also
 *    671) are all detection/face models with layout-changing ops on the Edge TPU (reshape/transpose of detection
 *    heads, NCHW imports with transposes): YOLOv5s fails at 352 and 512 but compiles at 384 and 416 (issue 512), and
 *    compiles at 512 when -i ends the Edge TPU part before the head's transpose/reshape (ultralytics/yolov5 PR 3630).
 *    The failure is not monotonic in size: no size threshold reproduces it, so Kiln does not refuse these models, it
 *    predicts a compile with confidence "low" and names the op.
 *
 * The only refusal left is the case no streaming can serve: one op's minimal resident set (one row band: kernel-height
 * input rows + one output row, all channels; the whole tensors for ops that cannot be banded) exceeds the whole chip's
 * narrow memory (16 × 196,608 B). No real model is known to reach it, so the refusal itself carries confidence "low".
 */

/** Largest per-tile working set among models known to compile: Kiln's rebuild of PoseNet MobileNet v1 0.75, 721×1281, OS16. */
export const LARGEST_KNOWN_COMPILED_PER_TILE = 1_041_305;
/** All narrow memory of the chip. */
export const CHIP_NARROW_BYTES = TILES * NARROW_BYTES_PER_TILE;

export type ActivationRule = 'fits' | 'streamed' | 'streamed-beyond-known' | 'streamed-layout-op' | 'band-too-large';

export interface ActivationVerdict {
  rule: ActivationRule;
  /** false only for 'band-too-large'. */
  compiles: boolean;
  confidence: 'high' | 'low';
  /** Why, with the figures and the evidence. */
  reason: string;
  /** Largest op working set (inputs + outputs, channels padded to 4) per tile, and its op. */
  peakWorkingSetPerTile: number;
  peakOp: number;
  /** Largest minimal resident set (row band, or whole tensors for layout ops) over the chip, and its op. */
  peakBandBytes: number;
  bandOp: number;
  /**
   * Edge TPU ops that change the row layout (cannot be streamed in row bands) on tensors larger than one tile's narrow
   * memory. Small ones (the flatten before VGG16's classifier, 2 × 25,088 B) are in models known to compile.
   */
  layoutOps: number[];
}

/** Rules with their evidence, in the order they are checked (first match wins). */
export const ACTIVATION_RULES: readonly {
  rule: ActivationRule;
  compiles: boolean;
  confidence: 'high' | 'low';
  evidence: string;
}[] = [
  {
    rule: 'band-too-large',
    compiles: false,
    confidence: 'low',
    evidence:
      'one row band of an op does not fit in the 16 tiles × 196,608 B of narrow memory, so it cannot be streamed; no real model is known to reach this',
  },
  {
    rule: 'fits',
    compiles: true,
    confidence: 'high',
    evidence:
      'the working set fits the narrow memory of a tile, as in the compiled real pairs (used_narrow_memory_bytes_per_tile ≤ 196,608)',
  },
  {
    rule: 'streamed-layout-op',
    compiles: true,
    confidence: 'low',
    evidence:
      'activations exceed a tile and the Edge TPU part has layout-changing ops (reshape/transpose) on tensors larger than a tile: reported "large activation tensors" failures (google-coral/edgetpu 439, 449, 512, 608, 653) have this pattern, but the same pattern also compiles (YOLOv5s 384/416 in google-coral/edgetpu 512), so Kiln cannot tell',
  },
  {
    rule: 'streamed-beyond-known',
    compiles: true,
    confidence: 'low',
    evidence:
      'activations are streamed in row bands, but the working set exceeds the largest one known to compile (Coral PoseNet MobileNet v1 0.75 721×1281); no failure of a streamable chain is known either',
  },
  {
    rule: 'streamed',
    compiles: true,
    confidence: 'high',
    evidence:
      'activations are streamed in row bands, as the real compiler does for DeepLab v3 513 (used narrow memory 192,744 B per tile), VGG16 and Coral PoseNet/BodyPix up to 721×1281',
  },
];

const opt = (op: Op): Record<string, unknown> => (op.options ?? {}) as Record<string, unknown>;
const nonUnit = (shape: readonly number[]) => shape.filter((d) => d !== 1);

/** Ops that move data across rows: they need their whole input and output resident (no row bands). */
export function isLayoutOp(g: Graph, op: Op): boolean {
  if (op.type === 'TRANSPOSE' || op.type === 'BATCH_MATMUL') return true;
  if (op.type === 'RESHAPE' || op.type === 'SQUEEZE' || op.type === 'EXPAND_DIMS') {
    const a = nonUnit(g.tensor(op.inputs[0]!).shape);
    const b = nonUnit(g.tensor(op.outputs[0]!).shape);
    return a.length !== b.length || a.some((d, i) => d !== b[i]);
  }
  return false;
}

/** Input rows one output row needs [I]: the (dilated) kernel height for windowed ops, 2 for resizes, else 1. */
function rowsPerOutputRow(g: Graph, op: Op): number {
  const o = opt(op);
  const w = op.inputs[1] !== undefined && op.inputs[1] >= 0 ? g.tensor(op.inputs[1]).shape : [];
  switch (op.type) {
    case 'CONV_2D':
    case 'DEPTHWISE_CONV_2D':
      return ((w[1] ?? 1) - 1) * Number(o.dilationHFactor ?? 1) + 1;
    case 'TRANSPOSE_CONV': {
      const k = g.tensor(op.inputs[1]!).shape[1] ?? 1;
      return Math.ceil(k / Number(o.strideH ?? 1));
    }
    case 'AVERAGE_POOL_2D':
    case 'MAX_POOL_2D':
    case 'L2_POOL_2D':
      return Number(o.filterHeight ?? 1);
    case 'RESIZE_BILINEAR':
    case 'RESIZE_NEAREST_NEIGHBOR':
      return 2;
    default:
      return 1;
  }
}

function tensorBand(g: Graph, t: number, rows: number, whole: boolean): number {
  const x = g.tensor(t);
  const bytes = activationBytes(x.shape, x.dtype);
  if (whole || x.shape.length !== 4) return bytes;
  const h = Math.max(1, x.shape[1]!);
  return (bytes / h) * Math.min(h, rows);
}

/** Minimal resident set of one op over the chip: one row band, or the whole tensors for a layout op. */
export function bandBytes(g: Graph, op: Op): number {
  const whole = isLayoutOp(g, op);
  const rows = rowsPerOutputRow(g, op);
  let s = 0;
  for (const t of op.inputs) if (t >= 0 && !g.isConstant(t)) s += tensorBand(g, t, rows, whole);
  for (const t of op.outputs) if (t >= 0) s += tensorBand(g, t, 1, whole);
  return s;
}

const RULE = new Map(ACTIVATION_RULES.map((r) => [r.rule, r]));

/** Kiln's activation-memory verdict for the ops the compiler would put on the Edge TPU. */
export function assessActivations(g: Graph, ops: readonly number[]): ActivationVerdict {
  const peak = peakActivationPerTile(g, ops);
  let band = { bytes: 0, op: -1 };
  const layoutOps: number[] = [];
  for (const id of ops) {
    const op = g.ops[id]!;
    const b = bandBytes(g, op);
    if (b > band.bytes) band = { bytes: b, op: id };
    if (isLayoutOp(g, op) && b > NARROW_BYTES_PER_TILE) layoutOps.push(id);
  }
  const name = (id: number) =>
    id < 0 ? '-' : `op ${id} (${g.ops[id]!.type}, "${g.tensor(g.ops[id]!.outputs[0]!).name}")`;
  const x = (n: number) =>
    `${(n / NARROW_BYTES_PER_TILE).toFixed(2)} × the ${NARROW_BYTES_PER_TILE}-byte narrow memory of a tile`;
  let rule: ActivationRule;
  let detail: string;
  if (band.bytes > CHIP_NARROW_BYTES) {
    rule = 'band-too-large';
    detail = `${name(band.op)} needs at least ${band.bytes} bytes resident at once (one row band), more than the ${CHIP_NARROW_BYTES} bytes of narrow memory of all ${TILES} tiles`;
  } else if (peak.bytes <= NARROW_BYTES_PER_TILE) {
    rule = 'fits';
    detail = `largest working set ${peak.bytes} bytes per tile (${name(peak.op)})`;
  } else if (layoutOps.length > 0) {
    rule = 'streamed-layout-op';
    detail = `largest working set ${peak.bytes} bytes per tile (${x(peak.bytes)}, ${name(peak.op)}); layout-changing ${name(layoutOps[0]!)}${layoutOps.length > 1 ? ` and ${layoutOps.length - 1} more` : ''}`;
  } else if (peak.bytes > LARGEST_KNOWN_COMPILED_PER_TILE) {
    rule = 'streamed-beyond-known';
    detail = `largest working set ${peak.bytes} bytes per tile (${x(peak.bytes)}, ${name(peak.op)}); largest known to compile ${LARGEST_KNOWN_COMPILED_PER_TILE}`;
  } else {
    rule = 'streamed';
    detail = `largest working set ${peak.bytes} bytes per tile (${x(peak.bytes)}, ${name(peak.op)})`;
  }
  const r = RULE.get(rule)!;
  return {
    rule,
    compiles: r.compiles,
    confidence: r.confidence,
    reason: `${detail}: ${r.evidence}`,
    peakWorkingSetPerTile: peak.bytes,
    peakOp: peak.op,
    peakBandBytes: band.bytes,
    bandOp: band.op,
    layoutOps,
  };
}
