import type { Graph } from '../../toolchain/ir/graph.js';
import type { OpTiming } from '../../toolchain/interpreter/index.js';

export type { OpTiming };

export interface OpProfile {
  /** Position in execution order. */
  index: number;
  type: string;
  /** The implementation the op ran on (e.g. "wasm qgemm8 + wasm im2col", "js"). */
  kernel: string;
  /** Shape of the op's first output. */
  output: number[];
  /** Median ms over the timed runs. */
  ms: number;
  /** Share of the summed op time, 0..1. */
  share: number;
}

export interface KernelProfile {
  kernel: string;
  /** Op types that ran on this kernel. */
  types: string[];
  ops: number;
  ms: number;
  share: number;
}

export interface RunProfile {
  /** Sum of the per-op medians. */
  totalMs: number;
  ops: OpProfile[];
  /** Per kernel (and op type), most time first. */
  kernels: KernelProfile[];
}

export function median(xs: readonly number[]): number {
  if (xs.length === 0) return 0;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** Per-op medians over several runs' timings (each run lists the ops in the same order), grouped per kernel. */
export function profileOf(graph: Graph, runs: readonly (readonly OpTiming[])[]): RunProfile {
  const first = runs[0] ?? [];
  const byId = new Map(graph.ops.map((op) => [op.id, op]));
  const ops = first.map((t, i) => {
    const op = byId.get(t.opId);
    const out = op && op.outputs[0] !== undefined && op.outputs[0] >= 0 ? graph.tensor(op.outputs[0]).shape : [];
    return {
      index: i,
      type: t.type,
      kernel: t.kernel,
      output: [...out],
      ms: median(runs.map((r) => r[i]?.ms ?? 0)),
      share: 0,
    };
  });
  const totalMs = ops.reduce((a, o) => a + o.ms, 0);
  const kernels = new Map<string, KernelProfile>();
  for (const o of ops) {
    o.share = totalMs > 0 ? o.ms / totalMs : 0;
    const k = kernels.get(o.kernel) ?? { kernel: o.kernel, types: [], ops: 0, ms: 0, share: 0 };
    if (!k.types.includes(o.type)) k.types.push(o.type);
    k.ops++;
    k.ms += o.ms;
    k.share = totalMs > 0 ? k.ms / totalMs : 0;
    kernels.set(o.kernel, k);
  }
  return { totalMs, ops, kernels: [...kernels.values()].sort((a, b) => b.ms - a.ms) };
}

const pct = (x: number): string => `${(x * 100).toFixed(1).padStart(5)}%`;

/** The profile as text: per kernel first, then every op in execution order. */
export function formatProfile(p: RunProfile): string {
  const lines = [`  profile (median per op, ${p.totalMs.toFixed(2)} ms in ops)`, '  per kernel:'];
  for (const k of p.kernels) {
    lines.push(
      `    ${k.ms.toFixed(3).padStart(9)} ms ${pct(k.share)}  ${k.kernel}  (${k.ops} × ${k.types.join(', ')})`,
    );
  }
  lines.push('  per op:');
  for (const o of p.ops) {
    lines.push(
      `    #${String(o.index).padEnd(4)} ${o.ms.toFixed(3).padStart(9)} ms ${pct(o.share)}  ${o.type} [${o.output.join(',')}]  ${o.kernel}`,
    );
  }
  return lines.join('\n');
}
