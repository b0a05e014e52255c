import type { ModelResult } from '../../edgetpu/compile-model.js';
import { inputLayerBytes, outputLayerBytes } from '../../edgetpu/memory.js';
import type { Graph } from '../../ir/graph.js';
import { dtypeBytes } from '../../ir/dtype.js';
import { opWork, type OpClass } from './macs.js';

/**
 * What the latency model needs from a compile (device-independent): per Edge TPU op its class and MACs, the cached and
 * streamed parameter bytes, the bytes crossing the host link, the CPU ops with their work, and the TPU↔CPU switches.
 */
export interface LatencyPlan {
  tpuOps: number;
  /** Padded MACs per op class on the Edge TPU. */
  macs: Record<OpClass, number>;
  /** Activation elements moved by elementwise/pool/concat ops on the Edge TPU. */
  tpuElements: number;
  cachedBytes: number;
  streamedBytes: number;
  /** Bytes sent to / read from the Edge TPU per inference (boundary tensors, compiler layer layout). */
  inputBytes: number;
  outputBytes: number;
  cpuOps: { index: number; opcode: string; macs: number; elements: number }[];
  /** Changes between Edge TPU and CPU execution along the op order (0 when everything maps). */
  switches: number;
  /** Where the memory figures came from (Kiln's cache rule or a compiled model's DWN1 package). */
  memorySource: ModelResult['memory']['source'];
}

/** Boundary tensors of the Edge TPU part: activations entering it from outside and leaving it. */
function boundary(g: Graph, onTpu: readonly boolean[]): { ins: number[]; outs: number[] } {
  const { producer, consumers } = g.index();
  const ins = new Set<number>();
  const outs = new Set<number>();
  const graphOut = new Set(g.outputs);
  g.ops.forEach((op, i) => {
    if (!onTpu[i]) return;
    for (const t of op.inputs) if (t >= 0 && !g.isConstant(t) && (producer[t]! < 0 || !onTpu[producer[t]!])) ins.add(t);
    for (const t of op.outputs) if (t >= 0 && (graphOut.has(t) || consumers[t]!.some((c) => !onTpu[c]))) outs.add(t);
  });
  return { ins: [...ins], outs: [...outs] };
}

const layerBytes = (g: Graph, t: number, rule: (s: readonly number[]) => number): number => {
  const x = g.tensor(t);
  return rule(x.shape) * Math.max(1, dtypeBytes(x.dtype));
};

export function latencyPlan(g: Graph, r: ModelResult): LatencyPlan {
  if (r.failure) throw new Error(`latencyPlan needs a successful compile (${r.failure.message})`);
  const onTpu = g.ops.map((_, i) => r.operations[i]?.onEdgeTpu ?? false);
  const macs: Record<OpClass, number> = { conv: 0, depthwise: 0, fc: 0, elementwise: 0 };
  let tpuElements = 0;
  const cpuOps: LatencyPlan['cpuOps'] = [];
  g.ops.forEach((op, i) => {
    const w = opWork(g, op);
    if (onTpu[i]) {
      macs[w.cls] += w.paddedMacs;
      if (w.cls === 'elementwise') tpuElements += w.elements;
    } else {
      cpuOps.push({ index: i, opcode: r.operations[i]!.opcode, macs: w.macs, elements: w.elements });
    }
  });
  let switches = 0;
  for (let i = 1; i < onTpu.length; i++) if (onTpu[i] !== onTpu[i - 1]) switches++;
  const { ins, outs } = boundary(g, onTpu);
  return {
    tpuOps: onTpu.filter(Boolean).length,
    macs,
    tpuElements,
    cachedBytes: r.memory.onChipUsedBytes,
    streamedBytes: r.memory.offChipStreamedBytes,
    inputBytes: ins.reduce((s, t) => s + layerBytes(g, t, inputLayerBytes), 0),
    outputBytes: outs.reduce((s, t) => s + layerBytes(g, t, outputLayerBytes), 0),
    cpuOps,
    switches,
    memorySource: r.memory.source,
  };
}

/** Total MACs of a graph as the layers define them (for reports and the CPU-only reference). */
export function graphMacs(g: Graph): number {
  return g.ops.reduce((s, op) => s + opWork(g, op).macs, 0);
}
