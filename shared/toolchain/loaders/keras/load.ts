import { KilnError } from '../../../common/errors.js';
import type { ModelFiles } from '../files.js';
import { H5File } from '../hdf5/h5.js';
import { parseJson } from '../detect.js';
import { concatBuffers, type SourceModel } from '../source.js';
import { toFloat32 } from '../tensor.js';
import { readTfjsModelJson } from '../tfjs/model-json.js';
import { parseKerasModel, type KModel } from './config.js';
import { readKeras2H5Weights, readKeras3H5Weights, WeightStore } from './weights.js';

export interface LoadedKeras {
  model: KModel;
  weights: WeightStore;
  source?: SourceModel;
  /** Keras version that wrote the file, when recorded. */
  kerasVersion?: string;
}

/** A tfjs layers model built from a Keras config and float32 weights named "layer/weight" (what tfjs expects). */
function layersSource(topology: object, weights: WeightStore): SourceModel {
  const specs = [...weights.map.entries()].map(([name, t]) => ({ name, shape: t.shape, dtype: 'float32' }));
  const data = concatBuffers([...weights.map.values()].map((t) => new Uint8Array(toFloat32(t).slice().buffer)));
  return { kind: 'tfjs-layers', artifacts: { modelTopology: topology, weightSpecs: specs, weightData: data } };
}

/** Keras 2 full-model HDF5: `model_config` attribute + `model_weights` group. */
export function loadKerasH5(files: ModelFiles, entry: string): LoadedKeras {
  const h5 = new H5File(files.read(entry)!, entry);
  const configText = h5.attrString('', 'model_config');
  if (!configText) {
    const weightsOnly = h5.attrStrings('', 'layer_names') !== undefined;
    throw new KilnError(
      'E_BAD_ARGUMENT',
      `${entry} has no model_config: ${weightsOnly ? 'it holds weights only (model.save_weights)' : 'not a Keras model file'}`,
      {
        hint: 'Save the whole model with model.save("model.h5")',
      },
    );
  }
  const topology = parseJson(new TextEncoder().encode(configText), `${entry} model_config`) as object;
  const model = parseKerasModel(topology);
  const weights = readKeras2H5Weights(h5, model);
  const kerasVersion = h5.attrString('', 'keras_version');
  return { model, weights, source: layersSource(topology, weights), ...(kerasVersion ? { kerasVersion } : {}) };
}

/** Keras 3 `.keras` zip: config.json + model.weights.h5 (unpacked already). */
export function loadKerasV3(files: ModelFiles, entry: string, base: string): LoadedKeras {
  const topology = parseJson(files.read(entry)!, entry) as object;
  const model = parseKerasModel(topology);
  const wpath = base ? `${base}/model.weights.h5` : 'model.weights.h5';
  const h5 = new H5File(files.read(wpath)!, wpath);
  const weights = readKeras3H5Weights(h5, model);
  const meta = files.read(base ? `${base}/metadata.json` : 'metadata.json');
  const kerasVersion = meta
    ? String((parseJson(meta, 'metadata.json') as Record<string, unknown>)['keras_version'] ?? '')
    : undefined;
  return { model, weights, ...(kerasVersion ? { kerasVersion } : {}) };
}

/** TF.js layers model.json (Keras topology, possibly wrapped in model_config) with its weight shards. */
export function loadTfjsLayers(files: ModelFiles, entry: string, base: string): LoadedKeras {
  const m = readTfjsModelJson(files, entry, base);
  const topo = (m.topology['model_config'] ?? m.topology) as object;
  const model = parseKerasModel(topo);
  const kerasVersion = m.topology['keras_version'];
  return {
    model,
    weights: new WeightStore(m.weights),
    source: { kind: 'tfjs-layers', artifacts: m.artifacts },
    ...(typeof kerasVersion === 'string' ? { kerasVersion } : {}),
  };
}
