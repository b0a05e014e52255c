import { writeFileSync, readFileSync } from 'node:fs';
import h5wasm from 'h5wasm/node';
import { rng } from '../../../shared/common/rng.js';
import { writeZip } from './archives.js';
import { FIXTURE_LAYERS, FIXTURE_WEIGHTS } from './keras-fixture.js';

/** The fixture model of keras-fixture.ts as a Keras 2 full-model .h5 and as a Keras 3 .keras archive (h5wasm writes them). */
function weights(seed: number): Map<string, Float32Array> {
  const r = rng(seed);
  return new Map(
    FIXTURE_WEIGHTS.map((w) => {
      const n = w.shape.reduce((a, b) => a * b, 1);
      return [w.name, Float32Array.from({ length: n }, () => (w.name.includes('variance') ? 0.5 + r() : r() * 2 - 1))];
    }),
  );
}

const shapeOf = (name: string): number[] => FIXTURE_WEIGHTS.find((w) => w.name === name)!.shape;
const layerWeights = (layer: string): string[] =>
  FIXTURE_WEIGHTS.filter((w) => w.name.startsWith(`${layer}/`)).map((w) => w.name);

const modelConfig = (): object => ({
  class_name: 'Model',
  config: { name: 'fixture', layers: FIXTURE_LAYERS, input_layers: [['image', 0, 0]], output_layers: [['fc', 0, 0]] },
});

export async function writeKeras2H5(path: string, opts: { seed?: number; withConfig?: boolean } = {}): Promise<void> {
  await h5wasm.ready;
  const w = weights(opts.seed ?? 9);
  const f = new h5wasm.File(path, 'w');
  if (opts.withConfig !== false) f.create_attribute('model_config', JSON.stringify(modelConfig()));
  f.create_attribute('keras_version', '2.3.1');
  f.create_attribute('backend', 'tensorflow');
  const root = opts.withConfig === false ? f : f.create_group('model_weights');
  root.create_attribute(
    'layer_names',
    FIXTURE_LAYERS.map((l) => l.name),
  );
  for (const l of FIXTURE_LAYERS) {
    const g = root.create_group(l.name);
    const names = layerWeights(l.name);
    // TF name scopes add a suffix ("conv1_1/kernel:0") that the reader must see past
    const scope = `${l.name}_1`;
    g.create_attribute('weight_names', names.length ? names.map((n) => `${scope}/${n.split('/')[1]}:0`) : ['']);
    if (names.length === 0) continue;
    const sg = g.create_group(scope);
    for (const n of names)
      sg.create_dataset({ name: `${n.split('/')[1]}:0`, data: w.get(n)!, shape: shapeOf(n), dtype: '<f' });
  }
  f.close();
}

/** Keras 3: config.json with `__keras_tensor__` call arguments, model.weights.h5 with layers/<name>/vars/<i>. */
export async function writeKeras3(path: string, seed = 9): Promise<void> {
  await h5wasm.ready;
  const w = weights(seed);
  const tensor = (ref: unknown[]) => ({
    class_name: '__keras_tensor__',
    config: { shape: null, dtype: 'float32', keras_history: [ref[0], ref[1], ref[2]] },
  });
  const layers = FIXTURE_LAYERS.map((l) => {
    const refs = (l.inbound_nodes[0] as unknown[][] | undefined) ?? [];
    const config: Record<string, unknown> = { ...l.config };
    if (l.class_name === 'InputLayer') {
      config['batch_shape'] = config['batch_input_shape'];
      delete config['batch_input_shape'];
    }
    return {
      module: 'keras.layers',
      class_name: l.class_name,
      config,
      name: l.name,
      inbound_nodes: refs.length
        ? [{ args: refs.length === 1 ? [tensor(refs[0]!)] : [refs.map(tensor)], kwargs: {} }]
        : [],
    };
  });
  const config = {
    module: 'keras',
    class_name: 'Functional',
    config: { name: 'fixture', layers, input_layers: [['image', 0, 0]], output_layers: [['fc', 0, 0]] },
    registered_name: 'Functional',
  };
  const tmpH5 = `${path}.weights.h5`;
  const f = new h5wasm.File(tmpH5, 'w');
  const top = f.create_group('layers');
  // Keras 3 variable order: BatchNormalization gamma?, beta?, moving_mean, moving_variance; convs kernel(s), bias
  const order: Record<string, string[]> = { dw: ['dw/depthwise_kernel', 'dw/bias'] };
  for (const l of FIXTURE_LAYERS) {
    const g = top.create_group(l.name);
    const vars = g.create_group('vars');
    const names = order[l.name] ?? layerWeights(l.name);
    names.forEach((n, i) => vars.create_dataset({ name: String(i), data: w.get(n)!, shape: shapeOf(n), dtype: '<f' }));
  }
  f.close();
  const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
  writeFileSync(
    path,
    writeZip([
      { name: 'metadata.json', data: enc(JSON.stringify({ keras_version: '3.6.0' })) },
      { name: 'config.json', data: enc(JSON.stringify(config)), deflate: true },
      { name: 'model.weights.h5', data: new Uint8Array(readFileSync(tmpH5)) },
    ]),
  );
}
