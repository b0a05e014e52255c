import { KilnError } from '../../../common/errors.js';
import type { H5File } from '../hdf5/h5.js';
import type { HostTensor } from '../tensor.js';
import type { KLayer, KModel } from './config.js';

/** Layer weights keyed "layer/weight" (kernel, bias, gamma, ...), whatever file they came from. */
export class WeightStore {
  constructor(readonly map: Map<string, HostTensor>) {}

  get(layer: string, weight: string): HostTensor | undefined {
    const exact = this.map.get(`${layer}/${weight}`);
    if (exact) return exact;
    const suffix = `/${layer}/${weight}`;
    for (const [k, v] of this.map) if (k.endsWith(suffix)) return v;
    return undefined;
  }
}

/** Keras 3 stores variables by position ("vars/0", ...): their names, in order, for each layer class. */
export function variableNames(l: KLayer): string[] {
  const c = l.config;
  const bias = c['use_bias'] !== false ? ['bias'] : [];
  switch (l.className) {
    case 'Conv1D':
    case 'Conv2D':
    case 'Conv3D':
    case 'Conv2DTranspose':
    case 'Dense':
      return ['kernel', ...bias];
    case 'DepthwiseConv2D':
      return ['kernel', ...bias];
    case 'SeparableConv2D':
      return ['depthwise_kernel', 'pointwise_kernel', ...bias];
    case 'BatchNormalization':
      return [
        ...(c['scale'] !== false ? ['gamma'] : []),
        ...(c['center'] !== false ? ['beta'] : []),
        'moving_mean',
        'moving_variance',
      ];
    case 'LayerNormalization':
      return [...(c['scale'] !== false ? ['gamma'] : []), ...(c['center'] !== false ? ['beta'] : [])];
    case 'Embedding':
      return ['embeddings'];
    case 'PReLU':
      return ['alpha'];
    case 'GRU':
    case 'LSTM':
    case 'SimpleRNN':
      return ['kernel', 'recurrent_kernel', ...bias];
    case 'Normalization':
      return ['mean', 'variance', 'count'];
    default:
      return [];
  }
}

const strip = (s: string): string => s.replace(/:\d+$/, '');

/**
 * Keras 2 HDF5 weights: the `model_weights` group of a full-model file (or the root of a weights file) lists its layers
 * in `layer_names`; each layer group lists its datasets in `weight_names`. Keys become "layer/leaf"; a nested model's
 * weights keep their inner "layer/leaf" names.
 */
export function readKeras2H5Weights(h5: H5File, model: KModel): WeightStore {
  const root = h5.attrStrings('model_weights', 'layer_names') ? 'model_weights' : '';
  const layerNames = h5.attrStrings(root, 'layer_names');
  if (!layerNames)
    throw new KilnError('E_BAD_ARGUMENT', `${h5.label}: no layer_names attribute; not a Keras HDF5 weights layout`);
  const nested = new Set(model.layers.filter((l) => l.nested).map((l) => l.name));
  const map = new Map<string, HostTensor>();
  for (const layer of layerNames) {
    const group = root ? `${root}/${layer}` : layer;
    const names = (h5.attrStrings(group, 'weight_names') ?? []).filter((n) => n !== '');
    for (const w of names) {
      const t = h5.dataset(`${group}/${w}`);
      const path = strip(w);
      const key = nested.has(layer) ? path : `${layer}/${path.slice(path.lastIndexOf('/') + 1)}`;
      map.set(key, t);
    }
  }
  return new WeightStore(map);
}

/** Keras 3 (.keras) weights: layers/<name>/vars/<i>, nested models under layers/<name>/layers/…, RNN cells under cell/. */
export function readKeras3H5Weights(h5: H5File, model: KModel): WeightStore {
  const map = new Map<string, HostTensor>();
  const top = ['layers', '_layer_checkpoint_dependencies'].find((k) => h5.keys('').includes(k));
  if (!top) throw new KilnError('E_BAD_ARGUMENT', `${h5.label}: no "layers" group; not a Keras 3 weights file`);
  const walk = (m: KModel, prefix: string): void => {
    for (const l of m.layers) {
      const g = `${prefix}/${l.name}`;
      if (!h5.keys(prefix).includes(l.name)) continue;
      if (l.nested) {
        walk(l.nested, `${g}/${h5.keys(g).includes('layers') ? 'layers' : '_layer_checkpoint_dependencies'}`);
        continue;
      }
      const varGroup =
        h5.keys(g).includes('vars') && h5.keys(`${g}/vars`).length > 0
          ? `${g}/vars`
          : h5.keys(g).includes('cell')
            ? `${g}/cell/vars`
            : `${g}/vars`;
      const idx = h5.keys(varGroup).sort((a, b) => Number(a) - Number(b));
      const names = variableNames(l);
      idx.forEach((i, k) => {
        const name = names[k];
        if (name) map.set(`${l.name}/${name}`, h5.dataset(`${varGroup}/${i}`));
      });
    }
  };
  walk(model, top);
  return new WeightStore(map);
}
