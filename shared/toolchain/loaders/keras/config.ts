import { KilnError } from '../../../common/errors.js';

/** A reference to an output of a layer call: layer name, call (node) index, output index. */
export interface KRef {
  layer: string;
  node: number;
  tensor: number;
}

export interface KLayer {
  className: string;
  name: string;
  config: Record<string, any>;
  /** Inputs of each call of the layer (one entry per inbound node). */
  inbound: KRef[][];
  /** For a nested model layer (Sequential / Functional inside a model), its own graph. */
  nested?: KModel;
}

/** A Keras model as a layer graph, in Keras 2 (h5, TF.js layers) or Keras 3 (.keras) config form. */
export interface KModel {
  name: string;
  layers: KLayer[];
  inputs: KRef[];
  outputs: KRef[];
}

const MODEL_CLASSES = new Set(['Sequential', 'Model', 'Functional']);

const bad = (msg: string): KilnError =>
  new KilnError('E_BAD_ARGUMENT', `Keras model config: ${msg}`, { hint: 'Re-save the model with Keras' });

function refFromKeras2(r: unknown): KRef {
  if (!Array.isArray(r) || typeof r[0] !== 'string') throw bad(`bad inbound reference ${JSON.stringify(r)}`);
  return { layer: r[0], node: Number(r[1] ?? 0), tensor: Number(r[2] ?? 0) };
}

/** Keras 3 call arguments: `__keras_tensor__` objects (possibly in lists) carry keras_history [layer, node, tensor]. */
function refsFromKeras3(args: unknown, out: KRef[]): void {
  if (Array.isArray(args)) {
    for (const a of args) refsFromKeras3(a, out);
    return;
  }
  if (args && typeof args === 'object') {
    const o = args as Record<string, any>;
    if (o['class_name'] === '__keras_tensor__') {
      const h = o['config']?.['keras_history'];
      out.push(refFromKeras2(h));
    }
  }
}

function parseInbound(nodes: unknown): KRef[][] {
  if (!Array.isArray(nodes)) return [];
  return nodes.map((n) => {
    if (Array.isArray(n)) return n.map(refFromKeras2);
    if (n && typeof n === 'object' && 'args' in (n as object)) {
      const refs: KRef[] = [];
      refsFromKeras3((n as Record<string, unknown>)['args'], refs);
      return refs;
    }
    throw bad(`bad inbound node ${JSON.stringify(n).slice(0, 80)}`);
  });
}

function ioRefs(x: unknown): KRef[] {
  if (!Array.isArray(x)) return [];
  if (x.length > 0 && typeof x[0] === 'string') return [refFromKeras2(x)];
  return x.map(refFromKeras2);
}

function parseLayer(l: Record<string, any>): KLayer {
  const className = String(l['class_name'] ?? '');
  const config = (l['config'] ?? {}) as Record<string, any>;
  const name = String(l['name'] ?? config['name'] ?? '');
  if (!className || !name) throw bad(`a layer has no class_name or name`);
  const layer: KLayer = { className, name, config, inbound: parseInbound(l['inbound_nodes']) };
  if (MODEL_CLASSES.has(className)) layer.nested = parseKerasModel({ class_name: className, config });
  return layer;
}

/** The batch input shape a layer config declares (Keras 2 batch_input_shape, Keras 3 batch_shape, input_shape). */
export function declaredInputShape(cfg: Record<string, any>): (number | null)[] | undefined {
  const s = cfg['batch_input_shape'] ?? cfg['batch_shape'];
  if (Array.isArray(s)) return s;
  if (Array.isArray(cfg['input_shape'])) return [null, ...cfg['input_shape']];
  return undefined;
}

/** The input shape of a nested model used as the first layer of a Sequential model. */
function nestedInputShape(l: Record<string, any>): (number | null)[] | undefined {
  if (!MODEL_CLASSES.has(String(l['class_name']))) return undefined;
  const inner = parseKerasModel({ class_name: l['class_name'], config: l['config'] });
  const input = inner.layers.find((x) => x.name === inner.inputs[0]?.layer);
  return input ? declaredInputShape(input.config) : undefined;
}

/**
 * Parses a Keras model config ({class_name, config}) into a layer graph. Sequential models become a chain fed by an
 * input layer (an explicit InputLayer, or one synthesized from the first layer's batch_input_shape).
 */
export function parseKerasModel(topology: unknown): KModel {
  if (!topology || typeof topology !== 'object') throw bad('not an object');
  const t = topology as Record<string, any>;
  const className = String(t['class_name'] ?? '');
  const cfg = t['config'];
  if (className === 'Sequential') {
    const rawLayers: Record<string, any>[] = Array.isArray(cfg) ? cfg : (cfg?.['layers'] ?? []);
    const name = Array.isArray(cfg) ? 'sequential' : String(cfg?.['name'] ?? 'sequential');
    const layers: KLayer[] = [];
    let prev: KRef | undefined;
    const first = rawLayers[0];
    if (!first) throw bad('Sequential model without layers');
    if (first['class_name'] !== 'InputLayer') {
      const shape = declaredInputShape(first['config'] ?? {}) ?? nestedInputShape(first);
      if (!shape) throw bad(`the first layer (${first['config']?.['name']}) declares no input shape`);
      const inName = `${first['config']?.['name'] ?? 'input'}_input`;
      layers.push({
        className: 'InputLayer',
        name: inName,
        config: { name: inName, batch_input_shape: shape, dtype: first['config']?.['dtype'] ?? 'float32' },
        inbound: [],
      });
      prev = { layer: inName, node: 0, tensor: 0 };
    }
    for (const raw of rawLayers) {
      const l = parseLayer(raw);
      l.inbound = l.className === 'InputLayer' ? [] : [[prev!]];
      layers.push(l);
      prev = { layer: l.name, node: 0, tensor: 0 };
    }
    return { name, layers, inputs: [{ layer: layers[0]!.name, node: 0, tensor: 0 }], outputs: [prev!] };
  }
  if (className === 'Model' || className === 'Functional') {
    const layers = (cfg?.['layers'] ?? []).map(parseLayer) as KLayer[];
    const inputs = ioRefs(cfg?.['input_layers']);
    const outputs = ioRefs(cfg?.['output_layers']);
    if (inputs.length === 0 || outputs.length === 0) throw bad('functional model without input_layers/output_layers');
    return { name: String(cfg?.['name'] ?? 'model'), layers, inputs, outputs };
  }
  throw bad(`top-level class "${className}" is not Sequential, Model or Functional`);
}
