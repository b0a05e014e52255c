import type { HostTensor } from '../tensor.js';

/**
 * TensorFlow graphs in the JSON form of their protos (the proto3 JSON mapping, which is also what TF.js model.json
 * holds): int64 as decimal strings, bytes as base64, enums by name. Protobuf-decoded graphs are brought to this form,
 * so that one front end serves TF.js graph models, SavedModels and frozen graphs, and tfjs can run any of them.
 */
export interface ShapeJson {
  dim?: { size?: string | number; name?: string }[];
  unknownRank?: boolean;
}

export interface TensorJson {
  dtype?: string | number;
  tensorShape?: ShapeJson;
  tensorContent?: string;
  halfVal?: number[];
  floatVal?: number[];
  doubleVal?: number[];
  intVal?: number[];
  stringVal?: string[];
  int64Val?: (string | number)[];
  boolVal?: boolean[];
  uint32Val?: number[];
  uint64Val?: (string | number)[];
}

export interface AttrJson {
  s?: string;
  i?: string | number;
  f?: number;
  b?: boolean;
  type?: string | number;
  shape?: ShapeJson;
  tensor?: TensorJson;
  list?: {
    s?: string[];
    i?: (string | number)[];
    f?: number[];
    b?: boolean[];
    type?: (string | number)[];
    shape?: ShapeJson[];
  };
  func?: { name: string; attr?: Record<string, AttrJson> };
  placeholder?: string;
}

export interface NodeJson {
  name: string;
  op: string;
  input?: string[];
  device?: string;
  attr?: Record<string, AttrJson>;
}

export interface FunctionJson {
  signature: { name: string; inputArg?: { name: string }[]; outputArg?: { name: string }[] };
  nodeDef?: NodeJson[];
  ret?: Record<string, string>;
}

/** One end of a data edge: a node's output. */
export interface Ref {
  node: string;
  index: number;
}

export interface SignatureIo {
  key: string;
  ref: Ref;
  dtype?: string;
  shape?: ShapeJson;
}

/** A TF graph ready for the front end: nodes, constant values (Const nodes by name), an optional signature. */
export interface TfGraph {
  label: string;
  nodes: NodeJson[];
  consts: Map<string, HostTensor>;
  functions: Map<string, FunctionJson>;
  signature?: { inputs: SignatureIo[]; outputs: SignatureIo[] };
}

/** "name", "name:1" → Ref; control inputs ("^name") → null. Function-body refs ("n:out:0") are handled elsewhere. */
export function parseRef(s: string): Ref | null {
  if (s.startsWith('^')) return null;
  const m = /^(.*?):(\d+)$/.exec(s);
  return m ? { node: m[1]!, index: Number(m[2]) } : { node: s, index: 0 };
}

export const refString = (r: Ref): string => (r.index === 0 ? r.node : `${r.node}:${r.index}`);

export function dataInputs(n: NodeJson): Ref[] {
  return (n.input ?? []).map(parseRef).filter((r): r is Ref => r !== null);
}

const b64 = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, 'base64'));

export const attr = {
  int(n: NodeJson, k: string, d?: number): number | undefined {
    const v = n.attr?.[k]?.i;
    return v === undefined ? d : Number(v);
  },
  float(n: NodeJson, k: string, d?: number): number | undefined {
    const v = n.attr?.[k]?.f;
    return v === undefined ? d : Number(v);
  },
  bool(n: NodeJson, k: string, d = false): boolean {
    return n.attr?.[k]?.b ?? d;
  },
  str(n: NodeJson, k: string, d?: string): string | undefined {
    const v = n.attr?.[k]?.s;
    return v === undefined ? d : new TextDecoder().decode(b64(v));
  },
  type(n: NodeJson, k: string): string | undefined {
    const v = n.attr?.[k]?.type;
    return v === undefined ? undefined : typeof v === 'number' ? (DT_NAMES[v] ?? `DT_${v}`) : v;
  },
  ints(n: NodeJson, k: string): number[] | undefined {
    const l = n.attr?.[k]?.list;
    return l ? (l.i ?? []).map(Number) : undefined;
  },
  strs(n: NodeJson, k: string): string[] | undefined {
    const l = n.attr?.[k]?.list;
    return l ? (l.s ?? []).map((s) => new TextDecoder().decode(b64(s))) : undefined;
  },
  shape(n: NodeJson, k: string): number[] | null | undefined {
    const s = n.attr?.[k]?.shape;
    if (s === undefined) return undefined;
    return shapeOf(s);
  },
};

export function shapeOf(s: ShapeJson | undefined): number[] | null {
  if (!s || s.unknownRank) return null;
  return (s.dim ?? []).map((d) => Number(d.size ?? -1));
}

/** DataType enum numbers → names (proto enum values). */
export const DT_NAMES: Record<number, string> = {
  1: 'DT_FLOAT',
  2: 'DT_DOUBLE',
  3: 'DT_INT32',
  4: 'DT_UINT8',
  5: 'DT_INT16',
  6: 'DT_INT8',
  7: 'DT_STRING',
  9: 'DT_INT64',
  10: 'DT_BOOL',
  14: 'DT_BFLOAT16',
  17: 'DT_UINT16',
  19: 'DT_HALF',
  20: 'DT_RESOURCE',
  21: 'DT_VARIANT',
  22: 'DT_UINT32',
  23: 'DT_UINT64',
};
