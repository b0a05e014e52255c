import { KilnError } from '../../../common/errors.js';
import type { ModelFiles } from '../files.js';
import type { HostTensor } from '../tensor.js';
import { decodeSavedModel } from './proto.js';
import { TensorBundle } from './tensor-bundle.js';
import { tensorFromProto } from './tensor-proto.js';
import { dataInputs, parseRef, type FunctionJson, type NodeJson, type SignatureIo } from './types.js';

export interface SavedModelGraph {
  nodes: NodeJson[];
  functions: Map<string, FunctionJson>;
  signature?: { inputs: SignatureIo[]; outputs: SignatureIo[] };
  signatureName?: string;
  tfVersion?: string;
}

/** Picks the serving meta graph and a signature ("serving_default" unless asked otherwise). */
export function readSavedModel(bytes: Uint8Array, what: string, signatureName?: string): SavedModelGraph {
  const sm = decodeSavedModel(bytes, what);
  const metas = (sm['metaGraphs'] ?? []) as Record<string, any>[];
  if (metas.length === 0) throw new KilnError('E_BAD_ARGUMENT', `${what} holds no meta graph`);
  const meta = metas.find((m) => (m['metaInfoDef']?.['tags'] ?? []).includes('serve')) ?? metas[0]!;
  const graph = meta['graphDef'] ?? {};
  const functions = new Map<string, FunctionJson>(
    ((graph['library']?.['function'] ?? []) as FunctionJson[]).map((f) => [f.signature.name, f]),
  );
  const sigs = (meta['signatureDef'] ?? {}) as Record<string, any>;
  const usable = Object.keys(sigs).filter(
    (k) => !k.startsWith('__') && Object.keys(sigs[k]['inputs'] ?? {}).length > 0,
  );
  let name = signatureName;
  if (name !== undefined && !sigs[name]) {
    throw new KilnError('E_BAD_ARGUMENT', `${what} has no signature "${name}"`, {
      hint: `Signatures: ${usable.join(', ') || 'none'}`,
    });
  }
  name ??= usable.includes('serving_default') ? 'serving_default' : usable.length === 1 ? usable[0] : undefined;
  if (name === undefined && usable.length > 1) {
    throw new KilnError(
      'E_BAD_ARGUMENT',
      `${what} has several signatures and none is serving_default: ${usable.join(', ')}`,
      { hint: 'Pick one with --signature <name>' },
    );
  }
  const io = (m: Record<string, any>): SignatureIo[] =>
    Object.keys(m)
      .sort()
      .map((key) => ({
        key,
        ref: parseRef(String(m[key]['name']))!,
        dtype: m[key]['dtype'],
        shape: m[key]['tensorShape'],
      }));
  const signature = name
    ? { inputs: io(sigs[name]['inputs'] ?? {}), outputs: io(sigs[name]['outputs'] ?? {}) }
    : undefined;
  const tfVersion = meta['metaInfoDef']?.['tensorflowVersion'];
  return {
    nodes: (graph['node'] ?? []) as NodeJson[],
    functions,
    ...(signature ? { signature } : {}),
    ...(name ? { signatureName: name } : {}),
    ...(tfVersion ? { tfVersion } : {}),
  };
}

const VARIABLE_OPS = new Set(['VarHandleOp', 'VariableV2', 'Variable']);
const PASS = new Set(['Identity', 'IdentityN', 'ReadVariableOp']);

/**
 * Binds variables to their checkpoint values: each AssignVariableOp/Assign whose value comes (through Identity) from
 * output i of a RestoreV2 names the checkpoint key (tensor_names[i]) of the variable it writes. Variables become Const
 * nodes (values into `consts`) and ReadVariableOp becomes Identity. Works on the flat (inlined) graph.
 */
export function bindVariables(
  nodes: NodeJson[],
  consts: Map<string, HostTensor>,
  files: ModelFiles,
  base: string,
  what: string,
): NodeJson[] {
  const byName = new Map(nodes.map((n) => [n.name, n]));
  const trace = (ref: string): { node: NodeJson; index: number } | undefined => {
    let r = parseRef(ref);
    for (let i = 0; r && i < 64; i++) {
      const n = byName.get(r.node);
      if (!n) return undefined;
      if (!PASS.has(n.op) || n.op === 'ReadVariableOp') return { node: n, index: r.index };
      r = dataInputs(n)[n.op === 'IdentityN' ? r.index : 0] ?? null;
    }
    return undefined;
  };
  const keyOf = new Map<string, string>();
  for (const n of nodes) {
    if (n.op !== 'AssignVariableOp' && n.op !== 'Assign') continue;
    const [h, v] = dataInputs(n);
    if (!h || !v) continue;
    const handle = trace(h.index === 0 ? h.node : `${h.node}:${h.index}`);
    const value = trace(v.index === 0 ? v.node : `${v.node}:${v.index}`);
    if (!handle || !value || !VARIABLE_OPS.has(handle.node.op) || value.node.op !== 'RestoreV2') continue;
    const namesNode = byName.get(dataInputs(value.node)[1]?.node ?? '');
    const names = namesNode ? consts.get(namesNode.name)?.strings : undefined;
    const key = names?.[value.index];
    if (key) keyOf.set(handle.node.name, new TextDecoder().decode(key));
  }
  const variables = nodes.filter((n) => VARIABLE_OPS.has(n.op));
  if (variables.length === 0) return nodes;
  const dir = base ? `${base}/variables` : 'variables';
  const index = files.read(`${dir}/variables.index`);
  if (!index) {
    throw new KilnError(
      'E_FILE_NOT_FOUND',
      `${what}: the SavedModel has ${variables.length} variables but no variables/variables.index`,
      {
        hint: 'Upload the whole SavedModel folder (saved_model.pb and variables/)',
      },
    );
  }
  const bundle = TensorBundle.read(index, (shard) => files.read(`${dir}/variables.${shard}`), `${dir}/variables.index`);
  const bound = new Set<string>();
  for (const v of variables) {
    const key = keyOf.get(v.name);
    const t = key ? bundle.get(key) : undefined;
    if (t) {
      consts.set(v.name, t);
      bound.add(v.name);
    }
  }
  return nodes.map((n) => {
    if (bound.has(n.name)) {
      const dt = n.attr?.['dtype'];
      return { name: n.name, op: 'Const', input: [], attr: dt ? { dtype: dt } : {} };
    }
    if (n.op === 'ReadVariableOp')
      return { ...n, op: 'Identity', attr: { ...(n.attr?.['dtype'] ? { T: n.attr['dtype'] } : {}) } };
    return n;
  });
}

/** Moves inline Const values (attr "value") into `consts`, leaving the node as tfjs expects it (value in weights). */
export function extractConsts(nodes: NodeJson[], consts: Map<string, HostTensor>): NodeJson[] {
  return nodes.map((n) => {
    if (n.op !== 'Const' || !n.attr?.['value']?.tensor) return n;
    // TF.js model.json keeps only the constant's dtype and shape on the node; its data goes to the weights
    if (!consts.has(n.name)) consts.set(n.name, tensorFromProto(n.attr['value'].tensor, `constant ${n.name}`));
    const { value: _v, ...rest } = n.attr;
    return { ...n, attr: rest };
  });
}
