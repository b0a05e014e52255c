/**
 * ONNX control flow (If, Loop, Scan) as straight-line TFLite. Kiln's graphs have one subgraph, so a body is converted
 * in place, its nodes renamed per use, seeing the enclosing values (ONNX's outer scope):
 *
 * - If: a constant condition converts the branch it picks. A run-time condition converts both branches and picks
 *   their outputs with SELECT_V2, so the branches must return the same shapes and types (both are computed).
 * - Scan: the scan length is a static dimension, so the body is unrolled once per element (per batch entry too, at
 *   opset 8); scan inputs are GATHERs, scan outputs are stacked with CONCATENATION.
 * - Loop: unrolled a known number of times. That count is the length the model declares for a scan output (the loop
 *   must then run exactly so often), or a constant trip count. With a constant trip count and a condition computed
 *   at run time, the carried values stop changing once the condition turns false (SELECT_V2 on a running flag);
 *   scan outputs then need a declared length. Otherwise the loop runs a number of times known only at run time:
 *   that needs TFLite's WHILE with subgraphs, which Kiln does not emit, and it is refused saying so.
 *
 * Helper nodes (Gather, Unsqueeze, Concat, Where, And) go through the ordinary op table at opset 11.
 */

import { KilnError } from '../../../common/errors.js';
import { normAxis } from '../../ir/axis.js';
import { constVal, type Value } from './context.js';
import { constOf, makeConst, tensorFromOnnx } from './tensor.js';
import type { OnnxAttr, OnnxGraph, OnnxNode } from './types.js';

export const CONTROL_FLOW_OPS = new Set(['If', 'Loop', 'Scan']);

/** At most this many body nodes are emitted by unrolling, over the whole model (nested loops included). */
export const MAX_UNROLLED_NODES = 20_000;

export interface FlowScope {
  values: Map<string, Value>;
  /** Fixed shapes the enclosing graph declares, by value name. */
  declared: ReadonlyMap<string, number[]>;
  opset: number;
  /** Body nodes the model may still unroll (shared by every control-flow node, nested ones included). */
  budget: { nodes: number };
  shape(v: Value): number[];
  /** Converts a node (control flow included) into `values` at `opset`. */
  convert(node: OnnxNode, values: Map<string, Value>, declared: ReadonlyMap<string, number[]>, opset: number): void;
}

const HELPER_OPSET = 11;

const attrOf = (name: string, a: Partial<OnnxAttr>): OnnxAttr =>
  ({ name, floats: [], ints: [], strings: [], tensors: [], graphs: [], ...a }) as OnnxAttr;

/** The fixed shapes a graph declares for its outputs and value_info. */
export function declaredShapes(g: OnnxGraph): Map<string, number[]> {
  const declared = new Map<string, number[]>();
  for (const vi of [...g.valueInfo, ...g.output]) {
    const dims = vi.type?.tensorType?.shape?.dim;
    if (dims && dims.every((d) => d.dimValue !== undefined && Number(d.dimValue) >= 0))
      declared.set(
        vi.name,
        dims.map((d) => Number(d.dimValue)),
      );
  }
  return declared;
}

/** Every node of a graph and of the graphs its nodes hold, depth first. */
export function allNodes(nodes: OnnxNode[]): OnnxNode[] {
  return nodes.flatMap((n) => [
    n,
    ...n.attribute.flatMap((a) => [...(a.g ? [a.g] : []), ...a.graphs]).flatMap((g) => allNodes(g.node)),
  ]);
}

/** A body's values: its own, and through them the enclosing scope's (read, never copied: unrolling stays linear). */
class Scope extends Map<string, Value> {
  constructor(private readonly outer: ReadonlyMap<string, Value>) {
    super();
  }
  override get(k: string): Value | undefined {
    return super.has(k) ? super.get(k) : this.outer.get(k);
  }
  override has(k: string): boolean {
    return super.has(k) || this.outer.has(k);
  }
}

export function convertControlFlow(node: OnnxNode, s: FlowScope): void {
  const name = node.name || node.output[0] || node.opType;
  const refuse = (why: string, hint?: string): KilnError =>
    new KilnError('E_UNSUPPORTED_OP', `node ${name} (${node.opType}): ${why}`, {
      hint:
        hint ??
        'Export a static graph (torch.jit.trace rather than scripting), or fix the loop counts and shapes in the model',
      details: { unsupportedOps: [node.opType], nodes: [name] },
    });
  const graphAttr = (k: string): OnnxGraph => {
    const g = node.attribute.find((a) => a.name === k)?.g;
    if (!g) throw refuse(`has no ${k} graph`);
    return g;
  };
  const intAttr = (k: string, d: number): number => {
    const a = node.attribute.find((x) => x.name === k);
    return a?.i !== undefined ? Number(a.i) : a ? 0 : d;
  };
  const intsAttr = (k: string): number[] | undefined => node.attribute.find((a) => a.name === k)?.ints.map(Number);
  const input = (i: number): Value | undefined => {
    const n = node.input[i];
    if (!n) return undefined;
    const v = s.values.get(n);
    if (!v)
      throw new KilnError(
        'E_BAD_ARGUMENT',
        `node ${name} (${node.opType}) reads ${n}, which no node or input produces`,
      );
    return v;
  };

  // helper nodes: names no ONNX value can take
  let serial = 0;
  const helper = (opType: string, inputs: Value[], attribute: OnnxAttr[] = []): Value => {
    const k = serial++;
    const ins = inputs.map((v, i) => {
      const n = `\u0000${name}/${opType}${k}/in${i}`;
      s.values.set(n, v);
      return n;
    });
    const out = `\u0000${name}/${opType}${k}`;
    s.convert(
      { name: `${name}/${opType.toLowerCase()}${k}`, opType, input: ins, output: [out], attribute },
      s.values,
      new Map(),
      HELPER_OPSET,
    );
    return s.values.get(out)!;
  };
  const intConst = (i: number): Value => constVal(makeConst('int64', [], [i]));
  const pick = (x: Value, i: number, axis: number): Value =>
    helper('Gather', [x, intConst(i)], [attrOf('axis', { type: 2, i: axis })]);
  const stack = (items: Value[], axis: number): Value => {
    const parts = items.map((v) => helper('Unsqueeze', [v], [attrOf('axes', { type: 7, ints: [axis] })]));
    return parts.length === 1 ? parts[0]! : helper('Concat', parts, [attrOf('axis', { type: 2, i: axis })]);
  };
  const select = (cond: Value, a: Value, b: Value): Value => helper('Where', [cond, a, b]);

  const run = (g: OnnxGraph, bind: Value[], label: string): Value[] => {
    s.budget.nodes -= g.node.length;
    if (s.budget.nodes < 0)
      throw refuse(
        `unrolling the model's control flow would emit more than ${MAX_UNROLLED_NODES} nodes`,
        'Use shorter loops, or export them unrolled',
      );
    if (bind.length !== g.input.length) throw refuse(`its body takes ${g.input.length} inputs, not ${bind.length}`);
    const vals = new Scope(s.values);
    for (const t of g.initializer)
      vals.set(t.name ?? '', constVal(constOf(tensorFromOnnx(t, `initializer ${t.name}`), `initializer ${t.name}`)));
    g.input.forEach((vi, i) => vals.set(vi.name, bind[i]!));
    const declared = declaredShapes(g);
    for (const n of g.node)
      s.convert({ ...n, name: `${name}/${label}/${n.name || n.output[0] || n.opType}` }, vals, declared, s.opset);
    return g.output.map((o) => {
      const v = vals.get(o.name);
      if (!v)
        throw refuse(
          o.type?.sequenceType || o.type?.optionalType
            ? `its ${label} graph returns ${o.name}, a ${o.type.sequenceType ? 'sequence' : 'optional'}: TFLite models hold tensors only`
            : `its ${label} graph's output ${o.name} is not produced by any node`,
        );
      return v;
    });
  };
  const setOutputs = (outs: Value[]): void =>
    outs.forEach((v, k) => {
      const o = node.output[k];
      if (o) s.values.set(o, v);
    });
  const isTrue = (v: Value | undefined): boolean => v?.kind === 'const' && v.c.v.length === 1 && Number(v.c.v[0]) !== 0;

  switch (node.opType) {
    case 'If': {
      const cond = input(0);
      if (!cond) throw refuse('has no condition');
      const thenG = graphAttr('then_branch');
      const elseG = graphAttr('else_branch');
      if (cond.kind === 'const') {
        setOutputs(run(Number(cond.c.v[0]) !== 0 ? thenG : elseG, [], Number(cond.c.v[0]) !== 0 ? 'then' : 'else'));
        return;
      }
      const a = run(thenG, [], 'then');
      const b = run(elseG, [], 'else');
      if (a.length !== b.length) throw refuse(`its branches return ${a.length} and ${b.length} values`);
      setOutputs(
        a.map((x, k) => {
          const y = b[k]!;
          const sx = s.shape(x).join('×') || 'scalar';
          const sy = s.shape(y).join('×') || 'scalar';
          if (sx !== sy)
            throw refuse(
              `the condition is computed at run time and its branches return output ${k} in different shapes (${sx}, ${sy})`,
              "TFLite's IF needs subgraphs, which Kiln does not emit: make both branches return the same shape",
            );
          return select(cond, x, y);
        }),
      );
      return;
    }
    case 'Scan':
      return setOutputs(scan());
    case 'Loop':
      return setOutputs(loop());
  }

  function scan(): Value[] {
    const body = graphAttr('body');
    const m = intAttr('num_scan_inputs', -1);
    if (m < 1) throw refuse('has no num_scan_inputs');
    if (s.opset < 9) {
      // opset 8: input 0 is sequence_lens, and every input has a leading batch axis
      const lens = input(0);
      const all = node.input.slice(1).map((_n, i) => input(i + 1)!);
      const n = all.length - m;
      const batch = s.shape(all[0]!)[0]!;
      const dirs = intsAttr('directions') ?? [];
      const perBatch: Value[][] = [];
      for (let bi = 0; bi < batch; bi++) {
        if (lens && lens.kind !== 'const') throw refuse('sequence_lens is computed at run time');
        const xs = all.map((v) => pick(v, bi, 0));
        const len = s.shape(xs[n]!)[0]!;
        if (lens && Number(lens.c.v[bi]) !== len)
          throw refuse(`sequence_lens ${Number(lens.c.v[bi])} differs from the scan length ${len}`);
        perBatch.push(unroll(body, xs.slice(0, n), xs.slice(n), new Array<number>(m).fill(0), dirs, [], [], `b${bi}`));
      }
      return perBatch[0]!.map((_v, k) =>
        stack(
          perBatch.map((o) => o[k]!),
          0,
        ),
      );
    }
    const all = node.input.map((_n, i) => input(i)!);
    const n = all.length - m;
    return unroll(
      body,
      all.slice(0, n),
      all.slice(n),
      intsAttr('scan_input_axes') ?? [],
      intsAttr('scan_input_directions') ?? [],
      intsAttr('scan_output_axes') ?? [],
      intsAttr('scan_output_directions') ?? [],
      '',
    );
  }

  function unroll(
    body: OnnxGraph,
    init: Value[],
    xs: Value[],
    inAxes: number[],
    inDirs: number[],
    outAxes: number[],
    outDirs: number[],
    tag: string,
  ): Value[] {
    const axes = xs.map((x, j) => normAxis(inAxes[j] ?? 0, s.shape(x).length));
    const lens = xs.map((x, j) => s.shape(x)[axes[j]!]!);
    const len = lens[0]!;
    if (lens.some((l) => l !== len)) throw refuse(`its scan inputs have different lengths (${lens.join(', ')})`);
    if (len === 0) throw refuse('its scan inputs are empty');
    if (len * body.node.length > s.budget.nodes)
      throw refuse(
        `unrolling its ${len} steps would emit more than ${MAX_UNROLLED_NODES} nodes`,
        'Use a shorter scan, or export it unrolled',
      );
    let state = init;
    const scans: Value[][] = [];
    for (let t = 0; t < len; t++) {
      const slices = xs.map((x, j) => pick(x, inDirs[j] === 1 ? len - 1 - t : t, axes[j]!));
      const outs = run(body, [...state, ...slices], `${tag ? `${tag}/` : ''}step${t}`);
      state = outs.slice(0, init.length);
      scans.push(outs.slice(init.length));
    }
    const k = scans[0]!.length;
    const stacked = Array.from({ length: k }, (_v, j) => {
      const items = scans.map((o) => o[j]!);
      if (outDirs[j] === 1) items.reverse();
      return stack(items, normAxis(outAxes[j] ?? 0, s.shape(items[0]!).length + 1));
    });
    return [...state, ...stacked];
  }

  function loop(): Value[] {
    const body = graphAttr('body');
    const trip = input(0);
    const cond0 = input(1);
    const init = node.input.slice(2).map((_n, i) => input(i + 2)!);
    const nScan = body.output.length - 1 - init.length;
    if (nScan < 0) throw refuse(`its body returns ${body.output.length} values for ${init.length} carried ones`);
    const scanLens = Array.from({ length: nScan }, (_v, j) => s.declared.get(node.output[init.length + j] ?? '')?.[0]);
    const declaredLen = scanLens.find((l) => l !== undefined);
    if (declaredLen !== undefined && scanLens.some((l) => l !== undefined && l !== declaredLen))
      throw refuse(`its scan outputs are declared with different lengths (${scanLens.join(', ')})`);
    const constTrip = trip?.kind === 'const' ? Number(trip.c.v[0]) : undefined;
    const condTrue = cond0 === undefined || isTrue(cond0);
    // `exact`: the loop runs exactly `count` times; otherwise `count` bounds it and a run-time flag gates the state
    let count: number;
    let exact: boolean;
    if (declaredLen !== undefined) {
      count = declaredLen;
      exact = true;
      if (constTrip !== undefined && constTrip < count)
        throw refuse(`its scan outputs are declared with ${count} rows but the trip count is ${constTrip}`);
    } else if (constTrip !== undefined) {
      count = constTrip;
      exact = false;
    } else
      throw refuse(
        trip
          ? 'its trip count is computed at run time and no scan output has a declared length'
          : 'it has no trip count: it runs until its condition turns false',
        "TFLite runs such loops with WHILE and subgraphs, which Kiln does not emit: give the loop a constant trip count, or declare its scan outputs' shapes",
      );
    if (count * body.node.length > s.budget.nodes)
      throw refuse(
        `unrolling its ${count} iterations would emit more than ${MAX_UNROLLED_NODES} nodes`,
        'Use a shorter loop, or export it unrolled',
      );
    if (count === 0) {
      if (nScan > 0) throw refuse('its scan outputs would be empty');
      return init;
    }
    let state = init;
    let active: Value = cond0 ?? constVal(makeConst('bool', [], [1]));
    let gated = !exact && !condTrue;
    const scans: Value[][] = [];
    for (let k = 0; k < count; k++) {
      const outs = run(body, [intConst(k), active, ...state], `iter${k}`);
      const next = outs.slice(1, 1 + init.length);
      state = gated ? next.map((v, j) => select(active, v, state[j]!)) : next;
      scans.push(outs.slice(1 + init.length));
      const condOut = outs[0]!;
      if (!exact && !isTrue(condOut)) {
        if (nScan > 0)
          throw refuse(
            'its condition can end it early, so its scan outputs have a length known only at run time, and the model declares none',
            "Declare the scan outputs' shapes in the model (value_info or graph outputs)",
          );
        active = gated ? helper('And', [active, condOut]) : condOut;
        gated = true;
      }
    }
    const stacked = Array.from({ length: nScan }, (_v, j) =>
      stack(
        scans.map((o) => o[j]!),
        0,
      ),
    );
    return [...state, ...stacked];
  }
}
