import { KilnError } from '../../../common/errors.js';
import type { Detected } from '../detect.js';
import type { ModelFiles } from '../files.js';
import type { ConvertOptions } from '../options.js';
import type { TfjsArtifacts } from '../source.js';
import type { HostTensor } from '../tensor.js';
import { readTfjsModelJson } from '../tfjs/model-json.js';
import { inlineFunctions } from './functions.js';
import { decodeGraphDef } from './proto.js';
import { bindVariables, extractConsts, readSavedModel } from './savedmodel.js';
import { parseRef, type FunctionJson, type NodeJson, type SignatureIo, type TfGraph } from './types.js';

export interface LoadedGraph extends TfGraph {
  format: 'tfjs-graph' | 'savedmodel' | 'frozen-graph';
  /** For TF.js graph models: the model as tfjs loads it. */
  original?: TfjsArtifacts;
}

function tfjsSignature(doc: Record<string, any>): TfGraph['signature'] {
  const sig = doc['signature'] ?? doc['userDefinedMetadata']?.['signature'];
  if (!sig || typeof sig !== 'object') return undefined;
  const io = (m: Record<string, any> | undefined): SignatureIo[] =>
    Object.entries(m ?? {}).map(([key, v]) => ({
      key,
      ref: parseRef(String(v?.['name'] ?? key))!,
      dtype: v?.['dtype'],
      shape: v?.['tensorShape'],
    }));
  const inputs = io(sig['inputs']);
  const outputs = io(sig['outputs']);
  return inputs.length && outputs.length ? { inputs, outputs } : undefined;
}

/** Reads a TF graph in any of its packagings into one flat graph: functions inlined, variables bound to values. */
export function loadGraphModel(files: ModelFiles, det: Detected, opts: ConvertOptions): LoadedGraph {
  const consts = new Map<string, HostTensor>();
  if (det.format === 'tfjs-graph') {
    const m = readTfjsModelJson(files, det.entry, det.base);
    for (const [k, v] of m.weights) consts.set(k, v);
    const topo = m.topology as Record<string, any>;
    const functions = new Map<string, FunctionJson>(
      ((topo['library']?.['function'] ?? []) as FunctionJson[]).map((f) => [f.signature.name, f]),
    );
    const flat = inlineFunctions(extractConsts(topo['node'] ?? [], consts), functions);
    const signature = tfjsSignature(m.doc);
    return {
      format: 'tfjs-graph',
      label: det.entry,
      nodes: extractConsts(flat.nodes, consts),
      consts,
      functions,
      ...(signature ? { signature } : {}),
      original: m.artifacts,
    };
  }
  if (det.format === 'frozen-graph') {
    const g = decodeGraphDef(files.read(det.entry)!, det.entry);
    const functions = new Map<string, FunctionJson>(
      ((g['library']?.['function'] ?? []) as FunctionJson[]).map((f) => [f.signature.name, f]),
    );
    const nodes = (g['node'] ?? []) as NodeJson[];
    if (nodes.length === 0)
      throw new KilnError('E_BAD_ARGUMENT', `${det.entry} holds no graph nodes`, {
        hint: 'Upload a frozen GraphDef (.pb) or a SavedModel folder',
      });
    const flat = inlineFunctions(nodes, functions);
    return { format: 'frozen-graph', label: det.entry, nodes: extractConsts(flat.nodes, consts), consts, functions };
  }
  const sm = readSavedModel(files.read(det.entry)!, det.entry, opts.signature);
  const flat = inlineFunctions(sm.nodes, sm.functions);
  const withConsts = extractConsts(flat.nodes, consts);
  const nodes = bindVariables(withConsts, consts, files, det.base, det.entry);
  const signature = sm.signature
    ? {
        inputs: sm.signature.inputs.map((s) => ({ ...s, ref: flat.resolve(s.ref) })),
        outputs: sm.signature.outputs.map((s) => ({ ...s, ref: flat.resolve(s.ref) })),
      }
    : undefined;
  return {
    format: 'savedmodel',
    label: det.entry,
    nodes,
    consts,
    functions: sm.functions,
    ...(signature ? { signature } : {}),
  };
}
