/**
 * ONNX sequence ops. TFLite has no sequence type, but a sequence whose make-up is known when converting (built from
 * tensors by SequenceConstruct/Insert/Erase, or SplitToSequence, at constant positions) is just a list of tensors:
 * SequenceAt picks one, SequenceLength is a constant, ConcatFromSequence is a Concat. Ops that need a tensor are
 * emitted as ordinary ONNX nodes (Split, Squeeze, Unsqueeze, Concat at opset 11, whose sizes and axes are attributes).
 * A sequence position or split computed at run time, or a sequence the graph returns, is refused.
 */

import { KilnError } from '../../../common/errors.js';
import { normAxis } from '../../ir/axis.js';
import { constVal, type Value } from './context.js';
import { makeConst } from './tensor.js';
import type { OnnxAttr, OnnxNode } from './types.js';

/** A sequence: its element count and, when known, the names of the values it holds. */
export interface OnnxSequence {
  length: number;
  items?: string[];
  /** Why the items are unknown. */
  why?: string;
}

export interface SequenceScope {
  values: Map<string, Value>;
  seqs: Map<string, OnnxSequence>;
  /** Logical shape of a value. */
  shape(v: Value): number[];
  /** Converts an ordinary ONNX node (opset 11). */
  emit(node: OnnxNode): void;
}

export const SEQUENCE_OPS = new Set([
  'SequenceEmpty',
  'SequenceConstruct',
  'SequenceInsert',
  'SequenceErase',
  'SequenceAt',
  'SequenceLength',
  'SplitToSequence',
  'ConcatFromSequence',
]);

const ints = (name: string, v: number[]): OnnxAttr =>
  ({ name, type: 7, ints: v, floats: [], strings: [], tensors: [], graphs: [] }) as OnnxAttr;
const int = (name: string, i: number): OnnxAttr =>
  ({ name, type: 2, i, floats: [], ints: [], strings: [], tensors: [], graphs: [] }) as OnnxAttr;
const attrI = (n: OnnxNode, k: string, d: number): number => {
  const a = n.attribute.find((x) => x.name === k);
  return a?.i !== undefined ? Number(a.i) : a ? 0 : d;
};

export function convertSequenceNode(node: OnnxNode, s: SequenceScope): void {
  const name = node.name || node.output[0] || node.opType;
  const refuse = (why: string): KilnError =>
    new KilnError('E_UNSUPPORTED_OP', `node ${name} (${node.opType}): ${why}`, {
      hint: 'TFLite has no sequence type: Kiln converts sequences whose elements and positions are fixed in the graph',
      details: { unsupportedOps: [node.opType], nodes: [name] },
    });
  const seq = (i: number): OnnxSequence => {
    const q = s.seqs.get(node.input[i] ?? '');
    if (!q) throw refuse(`input ${i} (${node.input[i]}) is not a sequence built in the graph`);
    return q;
  };
  const items = (q: OnnxSequence): string[] => {
    if (!q.items) throw refuse(`its sequence's elements are not known when converting (${q.why})`);
    return q.items;
  };
  const constInt = (i: number): number | undefined => {
    const n = node.input[i];
    if (!n) return undefined;
    const v = s.values.get(n);
    if (v?.kind !== 'const') throw refuse(`input ${i} (${n}) must be a constant, but it is computed at run time`);
    return Number(v.c.v[0]);
  };
  const position = (p: number, len: number, insert = false): number => {
    const max = insert ? len : len - 1;
    const q = p < 0 ? p + len : p;
    if (q < 0 || q > max) throw refuse(`position ${p} is outside a sequence of ${len}`);
    return q;
  };
  const out = node.output[0]!;
  const setSeq = (q: OnnxSequence): void => void s.seqs.set(out, q);
  switch (node.opType) {
    case 'SequenceEmpty':
      return setSeq({ length: 0, items: [] });
    case 'SequenceConstruct':
      return setSeq({ length: node.input.length, items: [...node.input] });
    case 'SequenceInsert': {
      const list = [...items(seq(0))];
      const p = constInt(2);
      list.splice(p === undefined ? list.length : position(p, list.length, true), 0, node.input[1]!);
      return setSeq({ length: list.length, items: list });
    }
    case 'SequenceErase': {
      const list = [...items(seq(0))];
      const p = constInt(1);
      list.splice(p === undefined ? list.length - 1 : position(p, list.length), 1);
      return setSeq({ length: list.length, items: list });
    }
    case 'SequenceAt': {
      const list = items(seq(0));
      const v = s.values.get(list[position(constInt(1)!, list.length)]!)!;
      s.values.set(out, v);
      return;
    }
    case 'SequenceLength':
      s.values.set(out, constVal(makeConst('int64', [], [seq(0).length])));
      return;
    case 'SplitToSequence':
      return setSeq(splitToSequence(node, s, refuse));
    case 'ConcatFromSequence': {
      const list = items(seq(0));
      if (list.length === 0) throw refuse('an empty sequence');
      const r = s.shape(s.values.get(list[0]!)!).length;
      const newAxis = attrI(node, 'new_axis', 0) === 1;
      const axis = normAxis(attrI(node, 'axis', 0), newAxis ? r + 1 : r);
      const parts = newAxis
        ? list.map((n, k) => {
            const o = `${out}/item${k}`;
            s.emit({ input: [n], output: [o], name: o, opType: 'Unsqueeze', attribute: [ints('axes', [axis])] });
            return o;
          })
        : list;
      s.emit({ input: parts, output: [out], name, opType: 'Concat', attribute: [int('axis', axis)] });
      return;
    }
  }
}

function splitToSequence(node: OnnxNode, s: SequenceScope, refuse: (why: string) => KilnError): OnnxSequence {
  const out = node.output[0]!;
  const x = s.values.get(node.input[0]!)!;
  const shape = s.shape(x);
  const axis = normAxis(attrI(node, 'axis', 0), shape.length);
  const dim = shape[axis]!;
  const splitName = node.input[1];
  const split = splitName ? s.values.get(splitName) : undefined;
  let sizes: number[];
  if (!split) sizes = new Array<number>(dim).fill(1);
  else if (split.kind !== 'const') {
    const sv = s.shape(split);
    if (sv.length !== 1) throw refuse(`input 1 (${splitName}) must be a constant, but it is computed at run time`);
    return { length: sv[0]!, why: `the split sizes ${splitName} are computed at run time` };
  } else if (split.c.shape.length === 0) {
    const k = Number(split.c.v[0]);
    sizes = Array.from({ length: Math.ceil(dim / k) }, (_v, i) => Math.min(k, dim - i * k));
  } else sizes = Array.from(split.c.v, Number);
  if (sizes.reduce((a, b) => a + b, 0) !== dim)
    throw refuse(`split sizes ${sizes.join(', ')} do not add up to dimension ${axis} (${dim})`);
  const squeeze = !split && attrI(node, 'keepdims', 1) === 0;
  const parts = sizes.map((_v, k) => `${out}/part${k}`);
  s.emit({
    input: [node.input[0]!],
    output: parts,
    name: `${out}/split`,
    opType: 'Split',
    attribute: [int('axis', axis), ints('split', sizes)],
  });
  if (!squeeze) return { length: parts.length, items: parts };
  const items = parts.map((p) => {
    const o = `${p}/squeezed`;
    s.emit({ input: [p], output: [o], name: o, opType: 'Squeeze', attribute: [ints('axes', [axis])] });
    return o;
  });
  return { length: items.length, items };
}
