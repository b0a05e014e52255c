import { KilnError } from '../../../common/errors.js';
import { parseRef, refString, type FunctionJson, type NodeJson, type Ref } from './types.js';

/** Output argument names of multi-output ops, so that "node:arg:i" in a function body maps to an output index. */
const OUTPUT_ARGS: Record<string, string[]> = {
  FusedBatchNorm: ['y', 'batch_mean', 'batch_variance', 'reserve_space_1', 'reserve_space_2'],
  FusedBatchNormV2: ['y', 'batch_mean', 'batch_variance', 'reserve_space_1', 'reserve_space_2'],
  FusedBatchNormV3: ['y', 'batch_mean', 'batch_variance', 'reserve_space_1', 'reserve_space_2', 'reserve_space_3'],
  TopKV2: ['values', 'indices'],
  Unique: ['y', 'idx'],
  DecodeWav: ['audio', 'sample_rate'],
};

const CALL_OPS = new Set(['StatefulPartitionedCall', 'PartitionedCall']);

/**
 * Inlines function calls (StatefulPartitionedCall / PartitionedCall, and direct calls of library functions) into one
 * flat graph, as TF's grappler does before tfjs converts a SavedModel: body nodes are renamed "<call>/<node>",
 * arguments bound to the call's inputs, and every use of a call output redirected to the returned tensor. Returns the
 * flat nodes and an alias map for refs that named call outputs (signature outputs often do).
 */
export function inlineFunctions(
  nodes: NodeJson[],
  functions: Map<string, FunctionJson>,
): { nodes: NodeJson[]; resolve: (r: Ref) => Ref } {
  const alias = new Map<string, Ref>();
  let work = nodes;
  for (let depth = 0; depth < 32; depth++) {
    const next: NodeJson[] = [];
    let inlined = 0;
    for (const n of work) {
      const fname = CALL_OPS.has(n.op) ? n.attr?.['f']?.func?.name : functions.has(n.op) ? n.op : undefined;
      const fn = fname ? functions.get(fname) : undefined;
      if (!fname) {
        next.push(n);
        continue;
      }
      if (!fn)
        throw new KilnError(
          'E_BAD_ARGUMENT',
          `node ${n.name} calls function ${fname}, which the graph does not define`,
        );
      next.push(...expand(n, fn, alias));
      inlined++;
    }
    work = next;
    if (inlined === 0) break;
  }
  const resolve = (r: Ref): Ref => {
    let cur = r;
    for (let i = 0; i < 64; i++) {
      const a = alias.get(refString(cur));
      if (!a) return cur;
      cur = a;
    }
    throw new KilnError('E_BAD_ARGUMENT', `function outputs alias each other in a cycle at ${refString(r)}`);
  };
  const out = work.map((n) => ({
    ...n,
    input: (n.input ?? []).map((s) => {
      const r = parseRef(s);
      return r ? refString(resolve(r)) : s;
    }),
  }));
  return { nodes: out, resolve };
}

function expand(call: NodeJson, fn: FunctionJson, alias: Map<string, Ref>): NodeJson[] {
  const prefix = `${call.name}/`;
  const callInputs = (call.input ?? []).filter((s) => !s.startsWith('^'));
  const args = new Map<string, string>();
  (fn.signature.inputArg ?? []).forEach((a, i) => {
    const v = callInputs[i];
    if (v === undefined)
      throw new KilnError('E_BAD_ARGUMENT', `call ${call.name} of ${fn.signature.name} lacks argument ${a.name}`);
    args.set(a.name, v);
  });
  const body = fn.nodeDef ?? [];
  const opOf = new Map(body.map((n) => [n.name, n.op]));
  const mapRef = (s: string): string | null => {
    if (s.startsWith('^')) {
      const c = s.slice(1);
      return args.has(c) ? null : `^${prefix}${c}`;
    }
    const parts = s.split(':');
    if (parts.length === 1) {
      const a = args.get(parts[0]!);
      return a ?? `${prefix}${parts[0]}`;
    }
    const [node, arg, idx] =
      parts.length === 3 ? [parts[0]!, parts[1]!, Number(parts[2])] : [parts[0]!, '', Number(parts[1])];
    if (args.has(node) && parts.length === 2) return args.get(node)!;
    const names = OUTPUT_ARGS[opOf.get(node) ?? ''];
    const k = names && arg ? names.indexOf(arg) : -1;
    const index = k >= 0 ? k + idx : idx;
    return index === 0 ? `${prefix}${node}` : `${prefix}${node}:${index}`;
  };
  const out = body.map((n) => ({
    ...n,
    name: `${prefix}${n.name}`,
    input: (n.input ?? []).map(mapRef).filter((x): x is string => x !== null),
  }));
  (fn.signature.outputArg ?? []).forEach((o, k) => {
    const r = fn.ret?.[o.name];
    if (!r) return;
    const mapped = mapRef(r);
    if (mapped) alias.set(k === 0 ? call.name : `${call.name}:${k}`, parseRef(mapped)!);
  });
  return out;
}
