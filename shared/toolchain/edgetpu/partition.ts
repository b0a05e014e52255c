import type { Graph } from '../ir/graph.js';
import type { Verdict } from './classify.js';
import { STATUS, type Status } from './strings.js';

/** Why a mappable op was kept off the Edge TPU by the partitioner. */
export type Exclusion =
  { kind: 'subgraph'; blocker: number } | { kind: 'intermediate'; tensor: string } | { kind: 'segment'; ops: number };

export interface Placement {
  /** Edge TPU subgraph (custom op) index, or null when the op runs on the CPU. */
  subgraph: number | null;
  status: Status;
  exclusion?: Exclusion;
}

export interface Partition {
  placements: Placement[];
  numSubgraphs: number;
  /** Op ids of each Edge TPU subgraph, in execution order. */
  subgraphs: number[][];
}

export interface PartitionOptions {
  /** `-a`: every group of mappable ops between CPU ops becomes its own Edge TPU subgraph. */
  multipleSubgraphs?: boolean;
  /** Mappable ops forced to the CPU (downstream of `-i` tensors, or outside a `-d` segment), with the cause. */
  forced?: ReadonlyMap<number, Exclusion>;
}

/** Op ids that consume (transitively) any of the given tensors: what `-i` sends to the CPU (docs/specs/edgetpu-compiler.md §4.4). */
export function downstreamOf(g: Graph, tensors: readonly number[]): Map<number, number> {
  const { consumers } = g.index();
  const out = new Map<number, number>(); // op id → source tensor id
  const stack: [number, number][] = tensors.map((t) => [t, t]);
  while (stack.length > 0) {
    const [t, src] = stack.pop()!;
    for (const c of consumers[t] ?? []) {
      if (out.has(c)) continue;
      out.set(c, src);
      for (const o of g.ops[c]!.outputs) if (o >= 0) stack.push([o, src]);
    }
  }
  return out;
}

/**
 * The partitioner (docs/specs/edgetpu-compiler.md §4.2/§4.3). Every op gets a "stage": a mappable op's stage is the highest stage among its
 * producers, where passing through a CPU op that depends on Edge TPU stage s yields s + 1. Stage-0 mappable ops form
 * the single Edge TPU subgraph of the default mode — exactly the convex region of §4.2: a mappable op is excluded only
 * when it depends on a CPU op that itself depends on the region; CPU ops fed only by graph inputs block nothing, and
 * independent branches stay mapped. With `-a` every stage is its own subgraph. Already compiled edgetpu-custom-ops of
 * a compiled input keep their own subgraph each and act as barriers for new ones.
 */
export function partition(g: Graph, verdicts: readonly Verdict[], opts: PartitionOptions = {}): Partition {
  const { producer } = g.index();
  const n = g.ops.length;
  const isTpu = (id: number) => verdicts[id]!.mappable && !verdicts[id]!.precompiled && !opts.forced?.has(id);
  const level = new Int32Array(n); // stage for TPU ops, level for CPU ops
  const via = new Int32Array(n).fill(-1); // CPU op that raised the level
  for (const op of g.topoOrder()) {
    let best = 0;
    let bestVia = -1;
    for (const t of op.inputs) {
      if (t < 0) continue;
      const p = producer[t]!;
      if (p < 0) continue;
      let v: number;
      let w: number;
      if (isTpu(p)) {
        v = level[p]! + (isTpu(op.id) ? 0 : 1);
        w = isTpu(op.id) ? via[p]! : op.id;
      } else {
        v = level[p]!;
        w = via[p]!;
      }
      if (v > best) {
        best = v;
        bestVia = w;
      }
    }
    level[op.id] = best;
    via[op.id] = bestVia;
  }

  const placements: Placement[] = verdicts.map((v) => ({ subgraph: null, status: v.status }));
  const subgraphs: number[][] = [];
  for (let id = 0; id < n; id++) {
    if (verdicts[id]!.precompiled) {
      placements[id] = { subgraph: subgraphs.length, status: STATUS.mapped };
      subgraphs.push([id]);
    }
  }
  const firstNew = subgraphs.length;
  const stages = [...new Set(g.ops.filter((o) => isTpu(o.id)).map((o) => level[o.id]!))].sort((a, b) => a - b);
  const stageIndex = new Map(stages.map((s, i) => [s, i]));
  for (const op of g.ops) {
    const id = op.id;
    const forced = opts.forced?.get(id);
    if (verdicts[id]!.mappable && !verdicts[id]!.precompiled && forced) {
      placements[id] = { subgraph: null, status: STATUS.moreThanOneSubgraph, exclusion: forced };
      continue;
    }
    if (!isTpu(id)) continue;
    const stage = level[id]!;
    if (!opts.multipleSubgraphs && stage !== stages[0]) {
      placements[id] = {
        subgraph: null,
        status: STATUS.moreThanOneSubgraph,
        exclusion: { kind: 'subgraph', blocker: via[id]! },
      };
      continue;
    }
    const k = firstNew + stageIndex.get(stage)!;
    while (subgraphs.length <= k) subgraphs.push([]);
    subgraphs[k]!.push(id);
    placements[id] = { subgraph: k, status: STATUS.mapped };
  }
  return { placements, numSubgraphs: subgraphs.filter((s) => s.length > 0).length, subgraphs };
}
