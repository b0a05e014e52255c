import { KilnError } from '../../../common/errors.js';
import type { DType } from '../../ir/dtype.js';
import { pinnedShape, type ConvertOptions } from '../options.js';
import { tfDtype } from './tensor-proto.js';
import { attr, dataInputs, parseRef, refString, shapeOf, type NodeJson, type Ref, type TfGraph } from './types.js';

export interface GraphInput {
  name: string;
  dtype: DType;
  shape: number[];
}

/** The part of a TF graph to convert: nodes in topological order from the inputs to the outputs. */
export interface CutGraph {
  nodes: NodeJson[];
  inputs: GraphInput[];
  outputs: Ref[];
  /** Nodes the user turned into inputs (cut points). */
  cut: string[];
}

/** Ops that never produce model outputs (bookkeeping, checkpointing, initialization). */
const NOT_OUTPUTS = new Set([
  'NoOp',
  'Const',
  'Placeholder',
  'PlaceholderWithDefault',
  'VarHandleOp',
  'VariableV2',
  'Variable',
  'AssignVariableOp',
  'Assign',
  'SaveV2',
  'RestoreV2',
  'MergeV2Checkpoints',
  'ShardedFilename',
  'StringJoin',
  'StaticRegexFullMatch',
  'ReadVariableOp',
]);

/** Output dtype attribute names, in the order TF ops use them. */
const TYPE_ATTRS = ['T', 'dtype', 'DstT', 'out_type', 'output_type', 'Tout'];

export function nodeDtype(n: NodeJson): string | undefined {
  for (const k of TYPE_ATTRS) {
    const t = attr.type(n, k);
    if (t) return t;
  }
  return undefined;
}

const notFound = (what: string, name: string, nodes: Map<string, NodeJson>): KilnError => {
  const close = [...nodes.keys()]
    .filter((k) => k.toLowerCase().includes(name.toLowerCase().split('/').pop()!.split(':')[0]!))
    .slice(0, 5);
  return new KilnError('E_BAD_ARGUMENT', `${what}: the graph has no node "${name}"`, {
    hint: close.length
      ? `Similar nodes: ${close.join(', ')}`
      : 'Check the node name (kiln inspect on the source, or Netron)',
  });
};

/**
 * Applies the cut points (--inputs turns a node into a Placeholder of the given shape; --outputs picks the outputs;
 * defaults: the signature, else the graph's sink nodes) and keeps only what the outputs need, in topological order.
 */
export function cutGraph(g: TfGraph, opts: ConvertOptions): CutGraph {
  const byName = new Map(g.nodes.map((n) => [n.name, n]));
  // outputs
  let outputs: Ref[];
  if (opts.outputs?.length) {
    outputs = opts.outputs.map((s) => {
      const r = parseRef(s)!;
      if (!byName.has(r.node)) throw notFound('--outputs', s, byName);
      return r;
    });
  } else if (g.signature) {
    outputs = g.signature.outputs.map((o) => o.ref);
  } else {
    const used = new Set<string>();
    for (const n of g.nodes) for (const r of dataInputs(n)) used.add(r.node);
    outputs = g.nodes
      .filter((n) => !used.has(n.name) && !NOT_OUTPUTS.has(n.op))
      .map((n) => ({ node: n.name, index: 0 }));
    if (outputs.length === 0)
      throw new KilnError('E_BAD_ARGUMENT', `${g.label}: cannot tell the graph's outputs`, {
        hint: 'Name them with --outputs',
      });
  }
  // cut points
  const cut: string[] = [];
  for (const spec of opts.inputs ?? []) {
    const name = parseRef(spec.name)!.node;
    const n = byName.get(name);
    if (!n) throw notFound('--inputs', spec.name, byName);
    if (n.op === 'Placeholder') continue;
    const dt = nodeDtype(n) ?? 'DT_FLOAT';
    byName.set(name, {
      name,
      op: 'Placeholder',
      input: [],
      attr: { dtype: { type: dt }, shape: { shape: { dim: spec.shape.map((d) => ({ size: String(d) })) } } },
    });
    cut.push(name);
  }
  // prune (data edges only) and order
  const needed = new Set<string>();
  const order: NodeJson[] = [];
  const state = new Map<string, 1 | 2>();
  for (const o of outputs) {
    const stack: [string, boolean][] = [[o.node, false]];
    while (stack.length > 0) {
      const [name, done] = stack.pop()!;
      if (done) {
        state.set(name, 2);
        order.push(byName.get(name)!);
        continue;
      }
      if (state.get(name) === 2) continue;
      if (state.get(name) === 1)
        throw new KilnError('E_BAD_ARGUMENT', `${g.label}: the graph has a cycle through ${name}`, {
          hint: 'Graphs with loops (tf.while_loop) cannot be converted',
        });
      const n = byName.get(name);
      if (!n) throw new KilnError('E_BAD_ARGUMENT', `${g.label}: node ${name} is referenced but not defined`);
      state.set(name, 1);
      needed.add(name);
      stack.push([name, true]);
      for (const r of dataInputs(n)) {
        if (cut.includes(r.node) && r.index !== 0)
          throw new KilnError(
            'E_BAD_ARGUMENT',
            `cut point ${r.node}: output ${r.index} of it is used too; only output 0 can become an input`,
          );
        if (state.get(r.node) !== 2) stack.push([r.node, false]);
      }
    }
  }
  const nodes = order.map((n) => ({ ...n, input: (n.input ?? []).filter((s) => !s.startsWith('^')) }));
  // inputs, in a stable order: cut points as given, then signature order, then graph order
  const placeholders = nodes.filter((n) => n.op === 'Placeholder');
  const rank = (n: NodeJson): number => {
    const c = (opts.inputs ?? []).findIndex((s) => parseRef(s.name)!.node === n.name);
    if (c >= 0) return c;
    const s = g.signature?.inputs.findIndex((i) => i.ref.node === n.name) ?? -1;
    return s >= 0 ? 1000 + s : 2000 + g.nodes.findIndex((x) => x.name === n.name);
  };
  placeholders.sort((a, b) => rank(a) - rank(b));
  const inputs = placeholders.map((n) => placeholderInput(n, g, opts));
  return { nodes, inputs, outputs: outputs.map((o) => ({ ...o })), cut };
}

function placeholderInput(n: NodeJson, g: TfGraph, opts: ConvertOptions): GraphInput {
  const dt = attr.type(n, 'dtype') ?? 'DT_FLOAT';
  const dtype = dt === 'DT_STRING' ? 'string' : tfDtype(dt, `input ${n.name}`);
  const pinned = pinnedShape(opts, n.name);
  if (pinned) return { name: n.name, dtype, shape: pinned };
  const sigShape = g.signature?.inputs.find((i) => i.ref.node === n.name)?.shape;
  const declared = attr.shape(n, 'shape') ?? (sigShape ? shapeOf(sigShape) : null);
  if (declared === null || declared === undefined) {
    throw new KilnError('E_SHAPE', `input ${n.name} has no declared shape`, {
      hint: `Give it with --inputs ${n.name}:1,...`,
    });
  }
  const shape = declared.map((d, i) => {
    if (d >= 0) return d;
    if (i === 0) return 1;
    throw new KilnError(
      'E_SHAPE',
      `input ${n.name} has an unknown dimension ${i} ([${declared.map((x) => (x < 0 ? '?' : x)).join(',')}])`,
      {
        hint: `Pin it with --inputs ${n.name}:${declared.map((x, j) => (j === 0 ? 1 : x < 0 ? 'N' : x)).join(',')}`,
      },
    );
  });
  return { name: n.name, dtype, shape };
}

export { refString };
