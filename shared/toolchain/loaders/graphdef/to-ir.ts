import { KilnError } from '../../../common/errors.js';
import { ModelBuilder } from '../../ir/builder.js';
import { bytesOf, typedView, type DType } from '../../ir/dtype.js';
import type { IrModel } from '../../ir/model.js';
import type { ConvertOptions } from '../options.js';
import { foldOp } from '../rewrites/fold-constants.js';
import { concatBuffers, type SourceModel, type TfjsArtifacts } from '../source.js';
import { toFloat32, toNumbers, type HostTensor } from '../tensor.js';
import type { WeightSpec } from '../tfjs/weights.js';
import { checkConvertible } from './check.js';
import type { LoadedGraph } from './load.js';
import { TF_OPS, type TfOpCtx } from './ops.js';
import { cutGraph, type CutGraph } from './prune.js';
import { dataInputs, refString, type AttrJson, type NodeJson } from './types.js';

/** A constant as the IR can hold it: int64 narrowed to int32 (shape operands), float64/float16 to float32. */
function irConstant(b: ModelBuilder, name: string, t: HostTensor): number {
  switch (t.dtype) {
    case 'float32':
    case 'int32':
    case 'uint8':
    case 'int8':
    case 'int16':
    case 'bool':
      return b.constant(name, t.dtype, t.shape, typedView(t.dtype, t.data));
    case 'float64':
    case 'float16':
      return b.constant(name, 'float32', t.shape, toFloat32(t));
    case 'int64': {
      const v = toNumbers(t);
      if (v.some((x) => x > 2147483647 || x < -2147483648))
        throw new KilnError('E_UNSUPPORTED_TYPE', `constant ${name} holds int64 values beyond int32`);
      return b.constant(name, 'int32', t.shape, Int32Array.from(v));
    }
    default:
      throw new KilnError(
        'E_UNSUPPORTED_TYPE',
        `constant ${name} is of type ${t.dtype}, which a TFLite graph cannot compute with`,
      );
  }
}

const hostOf = (b: ModelBuilder, id: number): HostTensor => {
  const t = b.g.tensor(id);
  return { dtype: t.dtype, shape: t.shape, data: t.data! };
};

const NHWC = Buffer.from('NHWC').toString('base64');
const ONES4 = { list: { i: ['1', '1', '1', '1'] } };
/** Attributes old graphs omit (their OpDef defaults) that tfjs reads without defaults, as the TF.js converter fills them. */
const ATTR_DEFAULTS: Record<string, Record<string, AttrJson>> = {
  Conv2D: { dilations: ONES4, data_format: { s: NHWC }, explicit_paddings: { list: {} } },
  DepthwiseConv2dNative: { dilations: ONES4, data_format: { s: NHWC }, explicit_paddings: { list: {} } },
  MaxPool: { data_format: { s: NHWC } },
  AvgPool: { data_format: { s: NHWC } },
  FusedBatchNorm: { data_format: { s: NHWC } },
  FusedBatchNormV3: { data_format: { s: NHWC } },
  MatMul: { transpose_a: { b: false }, transpose_b: { b: false } },
};

/** The cut graph as a tfjs graph model (constants as weights), so the source can run in tfjs. */
function tfjsArtifacts(cut: CutGraph, consts: Map<string, HostTensor>): TfjsArtifacts {
  const specs: WeightSpec[] = [];
  const parts: Uint8Array[] = [];
  const nodes: NodeJson[] = cut.nodes.map((n) => {
    if (n.op !== 'Const') return ATTR_DEFAULTS[n.op] ? { ...n, attr: { ...ATTR_DEFAULTS[n.op], ...n.attr } } : n;
    const t = consts.get(n.name)!;
    if (t.dtype === 'string') {
      const enc = (t.strings ?? []).flatMap((s) => [new Uint8Array(new Uint32Array([s.length]).buffer), s]);
      specs.push({ name: n.name, shape: t.shape, dtype: 'string' });
      parts.push(...enc);
      return n;
    }
    const asInt =
      t.dtype === 'int32' || t.dtype === 'int64' || t.dtype === 'int16' || t.dtype === 'int8' || t.dtype === 'uint8';
    const dtype = t.dtype === 'bool' ? 'bool' : asInt ? 'int32' : 'float32';
    const data =
      dtype === 'bool'
        ? t.data
        : dtype === 'int32'
          ? bytesOf(Int32Array.from(toNumbers(t)))
          : bytesOf(toFloat32(t).slice());
    specs.push({ name: n.name, shape: t.shape, dtype });
    parts.push(data);
    const tfType = dtype === 'bool' ? 'DT_BOOL' : dtype === 'int32' ? 'DT_INT32' : 'DT_FLOAT';
    return { ...n, attr: { ...n.attr, dtype: { type: tfType } } };
  });
  return {
    modelTopology: { node: nodes, versions: { producer: 1 } },
    weightSpecs: specs,
    weightData: concatBuffers(parts),
    format: 'graph-model',
  };
}

/** Converts a loaded TF graph to float IR: cut, check, then each node through the op table with eager constant folding. */
export function graphToIr(g: LoadedGraph, opts: ConvertOptions): { model: IrModel; source: SourceModel } {
  const cut = cutGraph(g, opts);
  checkConvertible(cut, (op) => op in TF_OPS);
  const b = new ModelBuilder();
  const values = new Map<string, number>();
  for (const inp of cut.inputs) {
    if (inp.dtype === 'string')
      throw new KilnError('E_UNSUPPORTED_TYPE', `input ${inp.name} is a string tensor`, {
        hint: 'Cut the graph after the string processing with --inputs',
      });
    values.set(inp.name, b.input(inp.name, inp.shape, inp.dtype as DType));
  }
  for (const n of cut.nodes) {
    if (n.op === 'Placeholder') continue;
    if (n.op === 'Const') {
      const t = g.consts.get(n.name);
      if (!t)
        throw new KilnError('E_BAD_ARGUMENT', `${g.label}: constant ${n.name} has no value (missing from the weights)`);
      values.set(n.name, irConstant(b, n.name, t));
      continue;
    }
    const ins = dataInputs(n).map((r) => {
      const v = values.get(refString(r));
      if (v === undefined)
        throw new KilnError(
          'E_UNSUPPORTED_OP',
          `node ${n.name} (${n.op}) reads output ${r.index} of ${r.node}, which Kiln does not produce`,
        );
      return v;
    });
    const ctx: TfOpCtx = {
      b,
      node: n,
      name: n.name,
      n: ins.length,
      x: (i) => {
        const v = ins[i];
        if (v === undefined) throw new KilnError('E_BAD_ARGUMENT', `node ${n.name} (${n.op}) lacks input ${i}`);
        return v;
      },
      isConst: (i) => b.g.isConstant(ins[i]!),
      host: (i) => {
        if (!b.g.isConstant(ctx.x(i))) {
          throw new KilnError(
            'E_UNSUPPORTED_OP',
            `node ${n.name} (${n.op}): input ${i} must be a constant, but it is computed at run time`,
            {
              hint: 'Kiln converts static graphs: fix shapes (--inputs) so that shape computations fold away',
            },
          );
        }
        return hostOf(b, ctx.x(i));
      },
      ints: (i) => toNumbers(ctx.host(i)),
      shape: (i) => [...b.g.tensor(ctx.x(i)).shape],
      dtype: (i) => b.g.tensor(ctx.x(i)).dtype,
    };
    const first = b.g.ops.length;
    let outs = TF_OPS[n.op]!(ctx);
    // fold what became constant (shape arithmetic, constant branches) right away, so later ops see the values
    const remap = new Map<number, number>();
    for (let k = first; k < b.g.ops.length; k++) {
      const op = b.g.ops[k]!;
      const out = op.outputs[0];
      const c = foldOp(b.g, op);
      if (c >= 0 && out !== undefined) remap.set(out, c);
    }
    outs = outs.map((t) => remap.get(t) ?? t);
    outs.forEach((t, k) => values.set(k === 0 ? n.name : `${n.name}:${k}`, t));
  }
  const outIds = cut.outputs.map((r) => {
    const v = values.get(refString(r));
    if (v === undefined)
      throw new KilnError('E_BAD_ARGUMENT', `output ${refString(r)} is not produced by the converted graph`);
    return v;
  });
  b.output(...outIds);
  // outputs carry the names the user or the signature knows them by
  const named = new Set<number>();
  cut.outputs.forEach((r, i) => {
    const id = outIds[i]!;
    if (named.has(id) || b.g.inputs.includes(id)) return;
    named.add(id);
    const key = opts.outputs?.length
      ? undefined
      : g.signature?.outputs.find((o) => refString(o.ref) === refString(r))?.key;
    b.g.tensor(id).name = (key ?? refString(r)).replace(/:0$/, '');
  });
  const model = b.build(`Kiln: converted from ${g.format} ${g.label}`);
  const source: SourceModel = {
    kind: 'tfjs-graph',
    artifacts: g.original && cut.cut.length === 0 ? g.original : tfjsArtifacts(cut, g.consts),
    inputs: cut.inputs.map((i) => i.name),
    outputs: cut.outputs.map(refString),
  };
  return { model, source };
}
