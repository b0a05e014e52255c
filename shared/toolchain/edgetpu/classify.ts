import type { Graph } from '../ir/graph.js';
import type { Op, Tensor } from '../ir/types.js';
import { EDGETPU_CUSTOM_CODE } from '../tflite/model.js';
import { LIMITS } from './limits.js';
import { activeDims, opContext, type OpContext } from './op-context.js';
import { CPU_ONLY_ALTERNATIVES, OP_BY_NAME, type LimitId } from './op-table.js';
import { STATUS, type Status } from './strings.js';

/** Which rule of docs/specs/edgetpu-compiler.md §4.1 decided an op's status. */
export type Rule =
  | 'precompiled'
  | 'custom'
  | 'dataType'
  | 'notSupported'
  | 'version'
  | 'paramNotConstant'
  | 'rank'
  | 'twoDOutput'
  | 'limitation'
  | 'mappable';

export interface Verdict {
  /** The op can go to the Edge TPU (the partitioner decides whether it does). */
  mappable: boolean;
  /** Already an edgetpu-custom-op of a compiled input. */
  precompiled: boolean;
  status: Status;
  rule: Rule;
  limit?: LimitId;
  reason: string;
  fix: string | null;
}

const EIGHT_BIT = new Set(['int8', 'uint8']);

function describe(t: Tensor): string {
  return `"${t.name}" (${t.dtype}[${t.shape.join(',')}])`;
}

function alternativeFor(op: Op, layer: string): string {
  const alt = CPU_ONLY_ALTERNATIVES[op.type];
  const base = alt ?? 'replace it by ops from the supported table (docs/edgetpu-ops.md)';
  return `layer "${layer}" (${op.type}${op.customCode ? ` ${op.customCode}` : ''}): ${base}; if it must stay, put it at the end of the model so it does not cut the Edge TPU part`;
}

/** Non-constant tensors the op touches, excluding LSTM variable state (docs/specs/edgetpu-compiler.md §4.1 rule 2 exemption). */
function activations(ctx: OpContext): Tensor[] {
  const { g, op } = ctx;
  const lstm = op.type === 'UNIDIRECTIONAL_SEQUENCE_LSTM';
  const ins = op.inputs.filter((t) => t >= 0 && !g.isConstant(t)).map((t) => g.tensor(t));
  const outs = op.outputs.filter((t) => t >= 0).map((t) => g.tensor(t));
  return [...ins, ...outs].filter((t) => !(lstm && t.isVariable));
}

function dataTypeFix(ctx: OpContext, bad: Tensor): string {
  if (ctx.op.type === 'DEQUANTIZE' || ctx.op.type === 'ARG_MAX' || ctx.op.type === 'CAST')
    return alternativeFor(ctx.op, ctx.layer);
  if (EIGHT_BIT.has(bad.dtype))
    return `compile with -m 12 or newer: int8 tensors such as ${describe(bad)} need Edge TPU runtime 12`;
  if (bad.dtype === 'float32' || bad.dtype === 'float16')
    return `quantize layer "${ctx.layer}" to int8: full-integer post-training quantization with a representative dataset (tensor ${describe(bad)} is ${bad.dtype})`;
  if (bad.dtype === 'int16')
    return `use 8-bit quantization instead of 16x8 for layer "${ctx.layer}" (tensor ${describe(bad)})`;
  return `keep the graph in int8/uint8: tensor ${describe(bad)} of layer "${ctx.layer}" is ${bad.dtype}; remove the op that makes it or move that op after the Edge TPU part`;
}

/** The first status of docs/specs/edgetpu-compiler.md §4.1 that matches the op (before partitioning; "mapped" means mappable). */
export function classifyOp(g: Graph, op: Op, minRuntime: number): Verdict {
  const ctx = opContext(g, op, minRuntime);
  const cpu = (status: Status, rule: Rule, reason: string, fix: string, limit?: LimitId): Verdict => ({
    mappable: false,
    precompiled: false,
    status,
    rule,
    reason,
    fix,
    ...(limit ? { limit } : {}),
  });

  // 1. custom ops
  if (op.type === 'CUSTOM') {
    if (op.customCode === EDGETPU_CUSTOM_CODE) {
      return {
        mappable: true,
        precompiled: true,
        status: STATUS.mapped,
        rule: 'precompiled',
        reason: 'already compiled for the Edge TPU (edgetpu-custom-op of a compiled input)',
        fix: null,
      };
    }
    return cpu(
      STATUS.unsupportedDataType,
      'custom',
      `custom op "${op.customCode ?? ''}" is not an Edge TPU op; it runs on the CPU`,
      alternativeFor(op, ctx.layer),
    );
  }

  // 2. data types
  const quantizeFromFloat = op.type === 'QUANTIZE' && g.tensor(op.inputs[0]!).dtype === 'float32';
  if (!quantizeFromFloat) {
    const bad = activations(ctx).find((t) => !EIGHT_BIT.has(t.dtype) || (t.dtype === 'int8' && minRuntime < 12));
    if (bad) {
      const why = EIGHT_BIT.has(bad.dtype)
        ? `tensor ${describe(bad)} is int8, which needs Edge TPU runtime 12 (target is ${minRuntime})`
        : `tensor ${describe(bad)} is ${bad.dtype}; the Edge TPU computes on 8-bit quantized tensors only`;
      return cpu(STATUS.unsupportedDataType, 'dataType', why, dataTypeFix(ctx, bad));
    }
  }

  // 3. op type / min runtime
  const entry = OP_BY_NAME.get(op.type);
  if (!entry) {
    return cpu(
      STATUS.notSupported,
      'notSupported',
      `${op.type} is not in the Edge TPU's supported-operations table`,
      alternativeFor(op, ctx.layer),
    );
  }
  if (entry.minRuntime > minRuntime) {
    return cpu(
      STATUS.notSupported,
      'notSupported',
      `${op.type} needs Edge TPU runtime ${entry.minRuntime}; the target runtime (-m) is ${minRuntime}`,
      `compile with -m ${entry.minRuntime} or newer, or replace layer "${ctx.layer}" (${op.type}) with ops available at runtime ${minRuntime}`,
    );
  }

  // 4. op version
  if (op.version > entry.maxVersion) {
    return cpu(
      STATUS.versionNotSupported,
      'version',
      `${op.type} version ${op.version} is newer than compiler 16 maps (up to version ${entry.maxVersion})`,
      `re-convert so layer "${ctx.layer}" uses ${op.type} version ≤ ${entry.maxVersion} (int8/uint8 tensors, no newer options such as int16 or hybrid kernels), or use an older TFLite converter`,
    );
  }

  // 5. parameters constant
  for (const i of entry.constInputs) {
    const t = op.inputs[i];
    if (t === undefined || t < 0) continue;
    if (!g.isConstant(t)) {
      return cpu(
        STATUS.paramNotConstant,
        'paramNotConstant',
        `input ${i} of ${op.type} (${describe(g.tensor(t))}) is computed at run time, but the Edge TPU needs it as a compile-time constant`,
        `make input ${i} of layer "${ctx.layer}" a constant (e.g. trained weights or a fixed shape), not the output of another op or a model input`,
      );
    }
  }

  // 6. rank rule on activations
  const badRank = activations(ctx).find(
    (t) => t.shape.length >= 4 && t.shape.slice(0, t.shape.length - 3).some((d) => d !== 1),
  );
  if (badRank) {
    return cpu(
      STATUS.unsupportedRank,
      'rank',
      `tensor ${describe(badRank)} has dimensions > 1 outside the 3 innermost (e.g. batch > 1)`,
      `use batch size 1 and fold the outer dimensions of ${describe(badRank)} into the 3 innermost (RESHAPE) around layer "${ctx.layer}"`,
    );
  }

  // 7. FC/Softmax 2-D output
  if (op.type === 'FULLY_CONNECTED' || op.type === 'SOFTMAX') {
    const out = g.tensor(op.outputs[0]!);
    if (activeDims(out.shape) >= 2) {
      return cpu(
        STATUS.twoDOutput,
        'twoDOutput',
        `the output ${describe(out)} has 2 or more dimensions larger than 1; the Edge TPU maps only 1-D outputs here`,
        op.type === 'FULLY_CONNECTED'
          ? `flatten the input of layer "${ctx.layer}" to [1, N] (RESHAPE), or use a 1×1 CONV_2D on the [1,H,W,C] tensor instead of a FULLY_CONNECTED with keep_num_dims`
          : `apply layer "${ctx.layer}" to a [1, N] tensor (RESHAPE before it), or move the softmax to the host`,
      );
    }
  }

  // 8. limitations
  for (const id of entry.limits) {
    const lim = LIMITS[id];
    if (lim.violated(ctx)) return cpu(STATUS.unspecifiedLimitation, 'limitation', lim.reason(ctx), lim.fix(ctx), id);
  }

  return {
    mappable: true,
    precompiled: false,
    status: STATUS.mapped,
    rule: 'mappable',
    reason: 'supported and mapped',
    fix: null,
  };
}

export function classifyGraph(g: Graph, minRuntime: number): Verdict[] {
  return g.ops.map((op) => classifyOp(g, op, minRuntime));
}
