import { makeOptions } from '../../ir/op-options.js';
import type { OpSpec } from '../../ir/graph.js';
import { DEQUANTIZE_VERSION, QUANTIZE_VERSION } from '../op-rules.js';
import { isActivation, type Pass, type PassContext } from './context.js';

function convert(type: 'QUANTIZE' | 'DEQUANTIZE', from: number, to: number): OpSpec {
  return {
    type,
    version: type === 'QUANTIZE' ? QUANTIZE_VERSION : DEQUANTIZE_VERSION,
    inputs: [from],
    outputs: [to],
    ...makeOptions(type),
  };
}

function push(map: Map<number, OpSpec[]>, op: number, spec: OpSpec): void {
  const list = map.get(op) ?? [];
  list.push(spec);
  map.set(op, list);
}

/** A new tensor like `id` (same shape), for the other side of a conversion. */
function twin(ctx: PassContext, id: number, suffix: string): number {
  const t = ctx.g.tensor(id);
  return ctx.g.addTensor({ name: `${t.name}${suffix}`, dtype: t.dtype, shape: [...t.shape] }).id;
}

/**
 * Float fallback (when allowed, and for float-tail custom ops): an op without an int8 kernel reads DEQUANTIZE'd copies of
 * its int8 inputs and writes float copies that QUANTIZE back into the int8 tensors the rest of the graph reads (outputs
 * in floatOutputs stay float32).
 */
export const floatFallback: Pass = {
  name: 'float-fallback',
  run(ctx) {
    for (const opId of ctx.floatOps) {
      const op = ctx.g.ops[opId]!;
      op.inputs = op.inputs.map((t) => {
        if (t < 0 || !isActivation(ctx, t)) return t;
        const f = twin(ctx, t, '/float');
        push(ctx.before, opId, convert('DEQUANTIZE', t, f));
        return f;
      });
      op.outputs = op.outputs.map((t) => {
        if (t < 0 || !isActivation(ctx, t) || ctx.floatOutputs.has(t)) return t;
        const f = twin(ctx, t, '/float');
        push(ctx.after, opId, convert('QUANTIZE', f, t));
        return f;
      });
    }
  },
};

/** Replaces tensor `from` by `to` wherever an op reads it. */
function rewireReaders(ctx: PassContext, from: number, to: number): void {
  for (const op of ctx.g.ops) op.inputs = op.inputs.map((t) => (t === from ? to : t));
  for (const list of [...ctx.before.values(), ...ctx.after.values(), ctx.epilogue])
    for (const s of list) s.inputs = s.inputs.map((t) => (t === from ? to : t));
}

/**
 * Model I/O: int8 as is, or uint8 (default) through a QUANTIZE at each end — the only conversions in a fully
 * quantized model. The I/O tensors keep their ids and names (signatures stay valid); the int8 tensors inside are new.
 */
export const ioBoundaries: Pass = {
  name: 'io-boundaries',
  run(ctx) {
    if (ctx.options.io === 'int8') return;
    const toUint8 = (id: number): number => {
      const t = ctx.g.tensor(id);
      const inner = ctx.g.addTensor({
        name: `${t.name}_int8`,
        dtype: 'int8',
        shape: [...t.shape],
        ...(t.quant ? { quant: { ...t.quant } } : {}),
      }).id;
      t.dtype = 'uint8';
      t.quant = { ...t.quant!, zeroPoint: t.quant!.zeroPoint.map((z) => z + 128) };
      return inner;
    };
    for (const id of ctx.g.inputs) {
      if (ctx.g.tensor(id).dtype !== 'int8' || ctx.index.producer[id]! >= 0) continue;
      const inner = toUint8(id);
      rewireReaders(ctx, id, inner);
      ctx.prologue.push(convert('QUANTIZE', id, inner));
    }
    for (const id of ctx.g.outputs) {
      if (ctx.g.tensor(id).dtype !== 'int8' || ctx.g.inputs.includes(id)) continue;
      const inner = toUint8(id);
      rewireReaders(ctx, id, inner);
      for (const op of ctx.g.ops) op.outputs = op.outputs.map((t) => (t === id ? inner : t));
      for (const list of ctx.after.values())
        for (const s of list) s.outputs = s.outputs.map((t) => (t === id ? inner : t));
      ctx.epilogue.push(convert('QUANTIZE', inner, id));
    }
  },
};

/** Puts the inserted conversions into the op list: prologue, then each op with its before/after ops, then epilogue. */
export const emitOps: Pass = {
  name: 'emit-ops',
  run(ctx) {
    const ops = [...ctx.g.ops];
    ctx.g.ops.length = 0;
    const add = (s: OpSpec): void => void ctx.g.addOp(s);
    ctx.prologue.forEach(add);
    for (const op of ops) {
      ctx.before.get(op.id)?.forEach(add);
      const { id: _id, ...spec } = op;
      add(spec);
      ctx.after.get(op.id)?.forEach(add);
    }
    ctx.epilogue.forEach(add);
  },
};
