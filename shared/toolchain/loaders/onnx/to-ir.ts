import { KilnError } from '../../../common/errors.js';
import { ModelBuilder } from '../../ir/builder.js';
import type { DType } from '../../ir/dtype.js';
import type { IrModel } from '../../ir/model.js';
import { pinnedShape, type ConvertOptions } from '../options.js';
import {
  Attrs,
  Materializer,
  constVal,
  dtypeOf,
  logicalShape,
  tensorVal,
  type OnnxCtx,
  type Value,
} from './context.js';
import { FOLDS } from './fold.js';
import { channelsLast, norm, unapplyPerm } from './layout.js';
import { CONST_ONLY, ONNX_OPS } from './ops.js';
import { ONNX_TYPE_NAMES, constOf, onnxDtype, tensorFromOnnx, type ConstVal } from './tensor.js';
import { SEQUENCE_OPS, convertSequenceNode, type OnnxSequence } from './sequences.js';
import { CONTROL_FLOW_OPS, MAX_UNROLLED_NODES, allNodes, convertControlFlow, declaredShapes } from './control-flow.js';
import { TRAINING_DOMAIN, TRAINING_OPS } from './ops/optimizers.js';
import { propagateStaticShapes } from './shape-propagation.js';
import type { OnnxModel, OnnxNode, OnnxValueInfo } from './types.js';

export const MIN_OPSET = 1;
export const MAX_OPSET = 22;

/** How each graph input is laid out in the converted model. */
export interface InputLayout {
  name: string;
  layout: 'as exported' | 'NHWC';
}

const LEGACY_BROADCAST = new Set([
  'Add',
  'Sub',
  'Mul',
  'Div',
  'Pow',
  'Equal',
  'Less',
  'Greater',
  'And',
  'Or',
  'Xor',
  'PRelu',
]);
const SUBGRAPH_OPS = new Set(['SequenceMap']);
/** Ops that take uint32 inputs, computing on them in int64 (ops.ts widens them). */
const UINT32_OPS = new Set(['Max', 'Min', 'Mod', 'Pow', 'Cast', 'Identity']);

const nodeLabel = (n: OnnxNode): string =>
  `${n.name || n.output[0] || '?'} (${n.domain ? `${n.domain}.` : ''}${n.opType})`;

function listNodes(nodes: OnnxNode[], max = 6): string {
  const s = nodes.slice(0, max).map(nodeLabel);
  return s.join(', ') + (nodes.length > max ? `, and ${nodes.length - max} more` : '');
}

/** The default-domain opset the model imports. */
export function opsetOf(m: OnnxModel, label: string): number {
  const imp = m.opsetImport.find((o) => !o.domain || o.domain === 'ai.onnx');
  const v = Number(imp?.version ?? 1);
  if (v < MIN_OPSET)
    throw new KilnError(
      'E_UNSUPPORTED_OP',
      `${label} uses ONNX opset ${v}; Kiln converts opsets ${MIN_OPSET} to ${MAX_OPSET}`,
      {
        hint: 'Export again with a newer opset (torch.onnx.export(..., opset_version=13))',
      },
    );
  if (v > MAX_OPSET)
    throw new KilnError(
      'E_UNSUPPORTED_OP',
      `${label} uses ONNX opset ${v}; Kiln converts opsets ${MIN_OPSET} to ${MAX_OPSET}`,
      {
        hint: `Export with opset_version=${MAX_OPSET} or lower`,
      },
    );
  return v;
}

/** Refuses, before conversion, every node whose op Kiln cannot convert (in control-flow bodies too), all named at once. */
export function checkOps(nodes: OnnxNode[]): void {
  const bad = allNodes(nodes).filter((n) =>
    n.domain === TRAINING_DOMAIN
      ? !(n.opType in TRAINING_OPS)
      : (n.domain && n.domain !== 'ai.onnx') ||
        !(n.opType in ONNX_OPS || n.opType in FOLDS || SEQUENCE_OPS.has(n.opType) || CONTROL_FLOW_OPS.has(n.opType)),
  );
  if (bad.length === 0) return;
  const ops = [...new Set(bad.map((n) => (n.domain && n.domain !== 'ai.onnx' ? `${n.domain}.${n.opType}` : n.opType)))];
  const flow = ops.filter((o) => SUBGRAPH_OPS.has(o));
  throw new KilnError(
    'E_UNSUPPORTED_OP',
    `unsupported ONNX ops in the model: ${ops.join(', ')} (nodes ${listNodes(bad)})`,
    {
      hint: flow.length
        ? 'SequenceMap runs a graph per sequence element, and TFLite has no sequences: export a static graph (torch.jit.trace instead of scripting)'
        : 'These ops have no TFLite builtin equivalent; replace them in the model before export (docs/onnx.md lists what converts)',
      details: { unsupportedOps: ops, nodes: bad.map((n) => n.name || n.output[0] || '') },
    },
  );
}

function inputShape(vi: OnnxValueInfo, opts: ConvertOptions): number[] {
  const pinned = pinnedShape(opts, vi.name);
  const tt = vi.type?.tensorType;
  const dims = tt?.shape?.dim;
  if (pinned) {
    if (dims && dims.length !== pinned.length)
      throw new KilnError(
        'E_BAD_ARGUMENT',
        `--inputs ${vi.name}: the model's input has rank ${dims.length}, not ${pinned.length}`,
        {
          hint: `Give ${dims.length} dimensions`,
        },
      );
    dims?.forEach((d, i) => {
      if (d.dimValue !== undefined && Number(d.dimValue) > 0 && Number(d.dimValue) !== pinned[i])
        throw new KilnError(
          'E_BAD_ARGUMENT',
          `--inputs ${vi.name}: dimension ${i} is fixed at ${d.dimValue} in the model, not ${pinned[i]}`,
        );
    });
    return pinned;
  }
  if (!dims)
    throw new KilnError('E_BAD_ARGUMENT', `input ${vi.name} has no shape in the model`, {
      hint: `Give it: --inputs ${vi.name}:1,3,224,224 (or convert.inputs in kiln.json)`,
    });
  return dims.map((d, i) => {
    const v = d.dimValue !== undefined ? Number(d.dimValue) : -1;
    if (v > 0) return v;
    // a symbolic leading (batch) dimension is the usual export; run one example at a time
    if (i === 0) return 1;
    throw new KilnError(
      'E_BAD_ARGUMENT',
      `input ${vi.name}: dimension ${i}${d.dimParam ? ` ("${d.dimParam}")` : ''} is dynamic`,
      {
        hint: `Fix the shape: --inputs ${vi.name}:${dims.map((x, k) => (k === 0 ? 1 : Number(x.dimValue ?? 0) > 0 ? x.dimValue : '<size>')).join(',')} (or convert.inputs in kiln.json)`,
      },
    );
  });
}

/** Converts an ONNX ModelProto to float IR. */
export function onnxToIr(m: OnnxModel, label: string, opts: ConvertOptions): { model: IrModel; layout: InputLayout[] } {
  const g = m.graph;
  if (!g)
    throw new KilnError('E_BAD_ARGUMENT', `${label} holds no graph`, { hint: 'Upload the .onnx the exporter wrote' });
  const opset = opsetOf(m, label);
  checkOps(g.node);
  if (g.sparseInitializer.length > 0)
    throw new KilnError('E_UNSUPPORTED_TYPE', `${label} has sparse initializers, which Kiln does not read`, {
      hint: 'Store the weights dense (onnx.helper / torch export do by default)',
    });
  const b = new ModelBuilder();
  const mat = new Materializer(b);
  const values = new Map<string, Value>();
  for (const t of g.initializer)
    values.set(t.name ?? '', constVal(constOf(tensorFromOnnx(t, `initializer ${t.name}`), `initializer ${t.name}`)));
  const layout: InputLayout[] = [];
  const nhwc = opts.inputLayout === 'nhwc';
  for (const vi of g.input) {
    if (values.has(vi.name)) continue;
    const tt = vi.type?.tensorType;
    if (!tt)
      throw new KilnError('E_UNSUPPORTED_TYPE', `input ${vi.name} is not a tensor (sequence, map or optional)`, {
        hint: 'Kiln converts models with tensor inputs',
      });
    const dtype = onnxDtype(tt.elemType, `input ${vi.name}`);
    const readBy = g.node.filter((n) => n.input.includes(vi.name));
    // uint32 is a TFLite tensor type CAST takes, so ops that compute on it in int64 (UINT32_OPS) can read it
    const uint32Ok = dtype === 'uint32' && readBy.every((n) => UINT32_OPS.has(n.opType));
    if (!uint32Ok && !(['float32', 'int32', 'int64', 'bool', 'uint8', 'int8', 'int16'] as DType[]).includes(dtype)) {
      // name the ops that would compute on it: none has a TFLite kernel for this type
      const readers = g.node.filter((n) => n.input.includes(vi.name));
      const ops = [...new Set(readers.map((n) => n.opType))];
      throw new KilnError(
        'E_UNSUPPORTED_TYPE',
        `input ${vi.name} is ${ONNX_TYPE_NAMES[tt.elemType ?? 0]}` +
          (readers.length ? `, read by ${listNodes(readers)}` : '') +
          `; Kiln converts models whose inputs are float32, int32, int64, bool, uint8, int8 or int16 (the types TFLite 2.9's kernels compute on), and uint32 read only by Max, Min, Mod, Pow, Cast or Identity`,
        {
          hint: 'Export the model with float32 inputs (model.float() before torch.onnx.export)',
          details: { unsupportedOps: ops, nodes: readers.map((n) => n.name || n.output[0] || '') },
        },
      );
    }
    const shape = inputShape(vi, opts);
    const asNhwc = nhwc && shape.length === 4 && dtype === 'float32';
    const perm = asNhwc ? channelsLast(4) : null;
    const phys = perm ? perm.map((p) => shape[p]!) : shape;
    values.set(vi.name, tensorVal(b.input(vi.name, phys, dtype), perm));
    layout.push({ name: vi.name, layout: asNhwc ? 'NHWC' : 'as exported' });
  }
  // the shapes the model declares for its values (outputs and value_info), where every dimension is fixed
  const declared = declaredShapes(g);
  // and the shapes that follow from those through shape-keeping nodes (a Range feeding element-wise math to an output)
  const fixed = new Map(declared);
  for (const [name, v] of values) fixed.set(name, logicalShape(b, v));
  for (const [name, s] of propagateStaticShapes(g.node, fixed)) if (!declared.has(name)) declared.set(name, s);
  const seqs = new Map<string, OnnxSequence>();
  const shape = (v: Value): number[] => logicalShape(b, v);
  const budget = { nodes: MAX_UNROLLED_NODES };
  // one node of the graph or of a control-flow body, converted into `vals`
  const convert = (
    node: OnnxNode,
    vals: Map<string, Value>,
    decl: ReadonlyMap<string, number[]>,
    ops: number,
  ): void => {
    if (node.domain && node.domain !== 'ai.onnx') convertNode(b, mat, vals, node, ops, decl);
    else if (SEQUENCE_OPS.has(node.opType))
      convertSequenceNode(node, {
        values: vals,
        seqs,
        shape,
        emit: (n: OnnxNode) => convertNode(b, mat, vals, n, 11, decl),
      });
    else if (CONTROL_FLOW_OPS.has(node.opType))
      convertControlFlow(node, { values: vals, declared: decl, opset: ops, budget, shape, convert });
    else convertNode(b, mat, vals, node, ops, decl);
  };
  for (const node of g.node) convert(node, values, declared, opset);
  const outIds = g.output.map((o) => {
    if (seqs.has(o.name))
      throw new KilnError('E_UNSUPPORTED_TYPE', `output ${o.name} is a sequence; TFLite models return tensors`, {
        hint: 'Return the tensors (ConcatFromSequence, or one output per element)',
      });
    const v = values.get(o.name);
    if (!v) throw new KilnError('E_BAD_ARGUMENT', `output ${o.name} is not produced by any node`);
    let id = mat.tensor(v, null, o.name);
    // a graph output must be computed: a constant result (shape arithmetic) or an input passed through is copied once
    if (b.g.isConstant(id) || b.g.inputs.includes(id) || b.g.outputs.includes(id)) {
      const s = b.g.tensor(id).shape;
      id = b.reshape(id, s, { name: o.name });
    }
    b.output(id);
    b.g.tensor(id).name = o.name;
    return id;
  });
  void outIds;
  const model = b.build(
    `Kiln: converted from ONNX ${label} (opset ${opset}${m.producerName ? `, ${m.producerName}` : ''})`,
  );
  return { model, layout };
}

function convertNode(
  b: ModelBuilder,
  mat: Materializer,
  values: Map<string, Value>,
  node: OnnxNode,
  opset: number,
  declared: ReadonlyMap<string, number[]>,
): void {
  const name = node.name || node.output[0] || node.opType;
  const what = `node ${name} (${node.opType})`;
  const refuse = (why: string, hint?: string): KilnError =>
    new KilnError('E_UNSUPPORTED_OP', `${what}: ${why}`, {
      ...(hint ? { hint } : {}),
      details: { unsupportedOps: [node.opType], nodes: [name] },
    });
  const ins = node.input.map((n) => {
    if (n === '') return undefined;
    const v = values.get(n);
    if (!v)
      throw new KilnError('E_BAD_ARGUMENT', `${what} reads ${n}, which no node or input produces`, {
        hint: 'The model is not topologically sorted or is truncated',
      });
    return v;
  });
  const attr = new Attrs(node, what);
  // opsets before 7: `broadcast=1` aligns B with A from `axis` on (numpy broadcasting aligns from the right)
  if (opset < 7 && attr.i('broadcast', 0) === 1 && ins[0] && ins[1] && LEGACY_BROADCAST.has(node.opType)) {
    const ra = logicalShape(b, ins[0]).length;
    const sb = logicalShape(b, ins[1]);
    const axis = attr.i('axis', ra - sb.length);
    const shape = [...sb, ...new Array<number>(Math.max(0, ra - (axis < 0 ? axis + ra : axis) - sb.length)).fill(1)];
    const v1 = ins[1];
    ins[1] =
      v1.kind === 'const'
        ? constVal({ ...v1.c, shape })
        : tensorVal(b.reshape(mat.tensor(v1, null, `${name}/b`), shape, { name: `${name}/broadcast_b` }));
  }
  const value = (i: number): Value => {
    const v = ins[i];
    if (!v) throw new KilnError('E_BAD_ARGUMENT', `${what} lacks input ${i}`);
    return v;
  };
  // PRelu before opset 7: a 1-D slope runs along the channels (axis 1)
  if (opset < 7 && node.opType === 'PRelu' && ins[0] && ins[1]?.kind === 'const') {
    const sa = logicalShape(b, ins[0]);
    const c1 = ins[1].c;
    if (c1.shape.length === 1 && sa.length > 2 && c1.shape[0] === sa[1] && c1.shape[0] !== 1)
      ins[1] = constVal({ ...c1, shape: [c1.shape[0]!, ...new Array<number>(sa.length - 2).fill(1)] });
  }
  const ctx: OnnxCtx = {
    b,
    node,
    name,
    opset,
    attr,
    n: ins.length,
    has: (i) => ins[i] !== undefined,
    value,
    isConst: (i) => value(i).kind === 'const',
    const: (i) => {
      const v = value(i);
      if (v.kind !== 'const')
        throw refuse(
          `input ${i} (${node.input[i]}) must be a constant, but it is computed at run time`,
          'Fix the input shapes (--inputs) so that shape computations fold away',
        );
      return v.c;
    },
    ints: (i) => Array.from(ctx.const(i).v),
    shape: (i) => logicalShape(b, value(i)),
    rank: (i) => logicalShape(b, value(i)).length,
    dtype: (i) => dtypeOf(b, value(i)),
    perm: (i) => {
      const v = value(i);
      return v.kind === 'tensor' ? v.perm : null;
    },
    tensor: (i, perm = null, as) => mat.tensor(value(i), perm, `${name}/in${i}`, as),
    materialize: (v, perm) => mat.tensor(v, perm, `${name}/value`),
    out: (k = 0) => node.output[k] || `${name}:${k}`,
    declared: (k = 0) => declared.get(node.output[k] ?? ''),
    refuse,
  };
  let outs: Value[] | undefined;
  const inDefault = !node.domain || node.domain === 'ai.onnx';
  const fold = inDefault ? FOLDS[node.opType] : undefined;
  if (fold && ins.every((v) => v === undefined || v.kind === 'const')) {
    try {
      outs = fold({ attr, opset, in: ins.map((v) => (v ? (v as { c: ConstVal }).c : undefined)) })?.map(constVal);
    } catch (e) {
      if (e instanceof KilnError) throw e;
      outs = undefined;
    }
  }
  if (!outs) {
    const conv = inDefault
      ? ONNX_OPS[node.opType]
      : node.domain === TRAINING_DOMAIN
        ? TRAINING_OPS[node.opType]
        : undefined;
    if (!conv) {
      if (CONST_ONLY.has(node.opType))
        throw refuse('its inputs are computed at run time; Kiln evaluates it only on constants');
      throw refuse('no TFLite equivalent');
    }
    outs = conv(ctx);
  }
  outs.forEach((v, k) => {
    const o = node.output[k];
    if (o) values.set(o, v.kind === 'tensor' ? { ...v, perm: norm(v.perm) } : v);
  });
}

export { unapplyPerm };
