import type { VerifyReport } from './schema.js';

/** Geometry of the op graph drawing (computed here, drawn by the template as SVG). Pure. */
export interface GraphLayout {
  width: number;
  height: number;
  boxes: { x: number; y: number; w: number; h: number; label: string; title: string; onEdgeTpu: boolean }[];
  edges: { x1: number; y1: number; x2: number; y2: number; cut: boolean }[];
  /** Edges between Edge TPU and CPU ops: where the model is cut. */
  cuts: number;
}

const BOX_W = 150;
const BOX_H = 24;
const GAP_X = 20;
const GAP_Y = 22;
const PAD = 10;

/** Layered layout: an op's row is its longest path from the graph inputs; ops in a row keep execution order. */
export function layoutGraph(graph: VerifyReport['graph']): GraphLayout {
  const n = graph.nodes.length;
  const rank = new Array<number>(n).fill(0);
  const preds: number[][] = Array.from({ length: n }, () => []);
  for (const [a, b] of graph.edges) if (a < n && b < n) preds[b]!.push(a);
  for (let i = 0; i < n; i++) for (const p of preds[i]!) if (p < i) rank[i] = Math.max(rank[i]!, rank[p]! + 1);
  const slot = new Array<number>(n).fill(0);
  const perRank = new Map<number, number>();
  for (let i = 0; i < n; i++) {
    const r = rank[i]!;
    slot[i] = perRank.get(r) ?? 0;
    perRank.set(r, slot[i]! + 1);
  }
  const cols = Math.max(1, ...perRank.values());
  const rows = n === 0 ? 0 : Math.max(...rank) + 1;
  const width = PAD * 2 + cols * BOX_W + (cols - 1) * GAP_X;
  const x = (i: number): number => {
    const count = perRank.get(rank[i]!)!;
    const rowW = count * BOX_W + (count - 1) * GAP_X;
    return (width - rowW) / 2 + slot[i]! * (BOX_W + GAP_X);
  };
  const y = (i: number): number => PAD + rank[i]! * (BOX_H + GAP_Y);
  const boxes = graph.nodes.map((nd, i) => ({
    x: x(i),
    y: y(i),
    w: BOX_W,
    h: BOX_H,
    label: nd.opcode.length > 22 ? `${nd.opcode.slice(0, 21)}…` : nd.opcode,
    title: `#${nd.index} ${nd.opcode} → ${nd.name} (${nd.onEdgeTpu ? 'Edge TPU' : 'CPU'})`,
    onEdgeTpu: nd.onEdgeTpu,
  }));
  let cuts = 0;
  const edges = graph.edges
    .filter(([a, b]) => a < n && b < n)
    .map(([a, b]) => {
      const cut = graph.nodes[a]!.onEdgeTpu !== graph.nodes[b]!.onEdgeTpu;
      if (cut) cuts++;
      return { x1: x(a) + BOX_W / 2, y1: y(a) + BOX_H, x2: x(b) + BOX_W / 2, y2: y(b), cut };
    });
  return { width, height: PAD * 2 + rows * BOX_H + Math.max(0, rows - 1) * GAP_Y, boxes, edges, cuts };
}

/** Bars of the per-layer SNR chart (longer = better; below 20 dB marked). Pure. */
export interface LayerBars {
  width: number;
  height: number;
  scaleDb: number;
  bars: { y: number; w: number; label: string; snr: string; worst: boolean; low: boolean }[];
}

const BAR_H = 14;
const LABEL_W = 260;
const CHART_W = 420;

export function layerBars(layers: VerifyReport['layers']): LayerBars {
  const scaleDb = 60;
  const worst = new Set(layers.worst.map((l) => l.tensor));
  const bars = layers.all.map((l, i) => ({
    y: i * (BAR_H + 4),
    w: Math.max(1, (Math.max(0, Math.min(scaleDb, l.snrDb)) / scaleDb) * CHART_W),
    label: l.tensor.length > 40 ? `…${l.tensor.slice(-39)}` : l.tensor,
    snr: `${l.snrDb.toFixed(1)} dB`,
    worst: worst.has(l.tensor),
    low: l.snrDb < 20,
  }));
  return { width: LABEL_W + CHART_W + 80, height: bars.length * (BAR_H + 4) + 20, scaleDb, bars };
}

export const CHART = { labelWidth: LABEL_W, chartWidth: CHART_W, barHeight: BAR_H };
