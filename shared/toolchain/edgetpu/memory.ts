import type { Graph } from '../ir/graph.js';
import type { Op } from '../ir/types.js';
import { dtypeBytes } from '../ir/dtype.js';
import { numElements } from '../ir/graph.js';
import { OPS } from '../ops/catalog.js';
import type { OpSpec } from '../ops/types.js';

/**
 * Parameter sizes and caching (docs/specs/edgetpu-compiler.md §8). The compiler's layout is closed; Kiln uses one documented rule, calibrated on
 * the parameter blobs of the real compiled pairs (DWN1 PARAMETER_CACHING executables, docs/specs/edgetpu-compiler.md §5.4):
 *
 *   padded bytes of a weight layer = round_up(Cout, 16) × (round_up(K, 16) + 24)
 *
 * where Cout is the number of output channels (depthwise: channels) and K the weights per output channel
 * (kh·kw·Cin; depthwise kh·kw). The 16-channel rounding matches the 4×4 tile array, the 16-byte rounding the
 * weight-row alignment, and the 24 bytes per channel hold bias and requantization data. Other constant operands
 * (e.g. a constant ADD/MUL operand) count as their raw size rounded up to 16. Shape-type parameters (reshape shape,
 * axes, pad amounts, resize sizes) are folded into instructions and count nothing.
 *
 * Fit on the real pairs (raw → real → Kiln): MobileNet v1 0.25/128 478,812 → 566,912 → 565,120 (−0.3 %);
 * DeepLab v3 TPU part 576,832 → 766,720 → 773,376 (+0.9 %); MobileNet-EdgeTPU 0.75 3,022,580 → 3,740,736 → 3,495,040
 * (−6.6 %; that pair was made by an older compiler, 14.1 era, with a different layout).
 */
export const PARAM = { channelAlign: 16, rowAlign: 16, perChannelBytes: 24, otherAlign: 16 } as const;

/**
 * On-chip parameter cache available to one model (docs/specs/edgetpu-compiler.md §8: ~8 MB SRAM, observed used + remaining 7.0–7.9 MiB for
 * typical CNNs). Kiln's default is 7.9 MiB; it is an option (`cacheCapacityBytes`) because the real value depends on
 * the model's own footprint, which the compiler does not publish.
 */
export const DEFAULT_CACHE_CAPACITY = Math.round(7.9 * 1024 * 1024);

/** Activation ("narrow") memory per tile and the tile count (docs/specs/edgetpu-compiler.md §2.2, §10.1). */
export const NARROW_BYTES_PER_TILE = 196_608;
export const TILES = 16;
const roundUp = (x: number, m: number): number => Math.ceil(x / m) * m;

/** How each op's constant inputs are stored (the op catalog's `params`): a weight layer, data operands, or nothing. */
const paramsOf = (type: string): OpSpec['params'] => OPS[type]?.params;

export interface LayerParams {
  op: number;
  rawBytes: number;
  paddedBytes: number;
}

/** Raw constant bytes of an op (libcoral's parameter size: sum of constant input buffers). */
export function rawParamBytes(g: Graph, op: Op): number {
  let s = 0;
  for (const t of op.inputs) if (t >= 0 && g.isConstant(t)) s += g.tensor(t).data!.length;
  return s;
}

export function layerParams(g: Graph, op: Op): LayerParams {
  const raw = rawParamBytes(g, op);
  const w = paramsOf(op.type);
  if (w && w !== 'data') {
    const wt = g.tensor(op.inputs[w.weights]!);
    const cout = w.channelsAxis === 'first' ? wt.shape[0]! : wt.shape[wt.shape.length - 1]!;
    const k = numElements(wt.shape) / Math.max(1, cout);
    return {
      op: op.id,
      rawBytes: raw,
      paddedBytes: roundUp(cout, PARAM.channelAlign) * (roundUp(k, PARAM.rowAlign) + PARAM.perChannelBytes),
    };
  }
  if (w === 'data') {
    let s = 0;
    for (const t of op.inputs) if (t >= 0 && g.isConstant(t)) s += roundUp(g.tensor(t).data!.length, PARAM.otherAlign);
    return { op: op.id, rawBytes: raw, paddedBytes: s };
  }
  return { op: op.id, rawBytes: raw, paddedBytes: 0 };
}

export interface CacheResult {
  cachedBytes: number;
  streamedBytes: number;
  /** Ops whose parameters are streamed. */
  streamedOps: number[];
}

/**
 * Caching policy [I]: parameters are cached layer by layer in execution order while they fit; from the first layer
 * that does not fit, that layer and every later one are streamed (the compiler caches a prefix).
 */
export function cacheLayers(layers: readonly LayerParams[], capacity: number): CacheResult {
  let cached = 0;
  let streamed = 0;
  let full = false;
  const streamedOps: number[] = [];
  for (const l of layers) {
    if (l.paddedBytes === 0) continue;
    if (!full && cached + l.paddedBytes <= capacity) {
      cached += l.paddedBytes;
    } else {
      full = true;
      streamed += l.paddedBytes;
      streamedOps.push(l.op);
    }
  }
  return { cachedBytes: cached, streamedBytes: streamed, streamedOps };
}

/** Bytes an activation occupies on chip: channels padded to 4 (docs/specs/edgetpu-compiler.md §5.4 output layout). */
export function activationBytes(shape: readonly number[], dtype: Parameters<typeof dtypeBytes>[0]): number {
  if (shape.length === 0) return dtypeBytes(dtype);
  const z = shape[shape.length - 1]!;
  return (numElements(shape) / Math.max(1, z)) * roundUp(z, 4) * Math.max(1, dtypeBytes(dtype));
}

/**
 * Largest per-tile activation working set over the given ops [I, docs/specs/edgetpu-compiler.md §2.2]: (inputs + outputs of one op, channels
 * padded to 4) / 16 tiles. Above NARROW_BYTES_PER_TILE the compiler streams activations in row bands (see activations.ts).
 */
export function peakActivationPerTile(g: Graph, ops: readonly number[]): { bytes: number; op: number } {
  let best = { bytes: 0, op: -1 };
  for (const id of ops) {
    const op = g.ops[id]!;
    let s = 0;
    for (const t of [...op.inputs, ...op.outputs]) {
      if (t < 0 || g.isConstant(t)) continue;
      const x = g.tensor(t);
      s += activationBytes(x.shape, x.dtype);
    }
    const perTile = Math.ceil(s / TILES);
    if (perTile > best.bytes) best = { bytes: perTile, op: id };
  }
  return best;
}

/** Layer sizes of a TPU boundary tensor as the compiler records them (docs/specs/edgetpu-compiler.md §5.4 rule). */
export function inputLayerBytes(shape: readonly number[]): number {
  return roundUp(numElements(shape), 8);
}
export function outputLayerBytes(shape: readonly number[]): number {
  const z = shape.length ? shape[shape.length - 1]! : 1;
  return roundUp((numElements(shape) / Math.max(1, z)) * roundUp(z, 4), 8);
}
