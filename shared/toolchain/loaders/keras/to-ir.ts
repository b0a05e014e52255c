import { KilnError } from '../../../common/errors.js';
import { ModelBuilder } from '../../ir/builder.js';
import type { IrModel } from '../../ir/model.js';
import { pinnedShape, type ConvertOptions } from '../options.js';
import type { HostTensor } from '../tensor.js';
import { declaredInputShape, type KLayer, type KModel, type KRef } from './config.js';
import { KERAS_LAYERS, type LayerCtx } from './layers.js';
import type { WeightStore } from './weights.js';

const key = (r: KRef): string => `${r.layer}|${r.node}|${r.tensor}`;

/** Static input shape: batch (None) becomes 1; any other unknown dimension must be pinned with --inputs. */
function staticShape(name: string, declared: (number | null)[] | undefined, opts: ConvertOptions): number[] {
  const pinned = pinnedShape(opts, name);
  if (pinned) return pinned;
  if (!declared)
    throw new KilnError('E_SHAPE', `input ${name} declares no shape`, { hint: `Give it with --inputs ${name}:1,...` });
  return declared.map((d, i) => {
    if (d !== null && d !== undefined && d >= 0) return Number(d);
    if (i === 0) return 1;
    throw new KilnError(
      'E_SHAPE',
      `input ${name} has an unknown dimension ${i} ([${declared.map((x) => x ?? '?').join(',')}])`,
      {
        hint: `Pin it with --inputs ${name}:${declared.map((x, j) => (j === 0 ? 1 : (x ?? 'N'))).join(',')}`,
      },
    );
  });
}

/** Every layer class in the model (nested models included) that has no converter. */
export function unsupportedLayers(m: KModel): string[] {
  const out = new Set<string>();
  const walk = (mm: KModel): void => {
    for (const l of mm.layers) {
      if (l.nested) walk(l.nested);
      else if (l.className !== 'InputLayer' && !KERAS_LAYERS[l.className]) out.add(l.className);
    }
  };
  walk(m);
  return [...out].sort();
}

/**
 * Keras layer graph + weights → float IR (NHWC, batch 1). Layers are converted in dependency order; nested models are
 * inlined. Refuses unsupported layer classes all at once, naming them.
 */
export function kerasToIr(model: KModel, weights: WeightStore, opts: ConvertOptions = {}): IrModel {
  const missing = unsupportedLayers(model);
  if (missing.length > 0) {
    throw new KilnError('E_UNSUPPORTED_OP', `the model uses Keras layers Kiln cannot convert: ${missing.join(', ')}`, {
      hint: 'Replace them with supported layers or export a model without them',
      details: { unsupported: missing },
    });
  }
  const b = new ModelBuilder();
  const outs = runModel(b, model, weights, opts, undefined);
  if (opts.outputs?.length) {
    const byName = new Map<string, number>();
    collectLayerOutputs(model, outs.all, byName);
    const picked = opts.outputs.map((n) => {
      const id = byName.get(n) ?? byName.get(n.replace(/:\d+$/, ''));
      if (id === undefined)
        throw new KilnError('E_BAD_ARGUMENT', `--outputs: the model has no layer "${n}"`, {
          hint: `Layers: ${[...byName.keys()].slice(0, 12).join(', ')}…`,
        });
      return id;
    });
    b.output(...picked);
  } else {
    b.output(...outs.outputs);
  }
  return b.build(`Kiln: converted from Keras model ${model.name}`);
}

function collectLayerOutputs(model: KModel, all: Map<string, number>, byName: Map<string, number>): void {
  for (const l of model.layers) {
    const id = all.get(`${l.name}|0|0`);
    if (id !== undefined) byName.set(l.name, id);
  }
}

function runModel(
  b: ModelBuilder,
  model: KModel,
  weights: WeightStore,
  opts: ConvertOptions,
  feed: number[] | undefined,
): { outputs: number[]; all: Map<string, number> } {
  const values = new Map<string, number>();
  const inputNames = new Set(model.inputs.map((r) => r.layer));
  model.inputs.forEach((r, i) => {
    const l = model.layers.find((x) => x.name === r.layer);
    if (!l) throw new KilnError('E_BAD_ARGUMENT', `Keras model config: input layer ${r.layer} is not defined`);
    if (feed) {
      values.set(key(r), feed[i]!);
      return;
    }
    const shape = staticShape(l.name, declaredInputShape(l.config), opts);
    values.set(key(r), b.input(l.name, shape, 'float32'));
  });
  const pending = model.layers.filter((l) => !(l.className === 'InputLayer' && inputNames.has(l.name)));
  let progress = true;
  while (pending.length > 0 && progress) {
    progress = false;
    for (let i = 0; i < pending.length; i++) {
      const l = pending[i]!;
      const ready = l.inbound.every((call) => call.every((r) => values.has(key(r))));
      if (!ready) continue;
      l.inbound.forEach((call, node) => {
        const ins = call.map((r) => values.get(key(r))!);
        const outs = l.nested ? runModel(b, l.nested, weights, opts, ins).outputs : convertLayer(b, l, ins, weights);
        outs.forEach((t, k) => values.set(`${l.name}|${node}|${k}`, t));
      });
      pending.splice(i, 1);
      i--;
      progress = true;
    }
  }
  if (pending.length > 0) {
    throw new KilnError(
      'E_BAD_ARGUMENT',
      `Keras model config: layers ${pending
        .map((l) => l.name)
        .slice(0, 5)
        .join(', ')} are not connected to the inputs`,
    );
  }
  const outputs = model.outputs.map((r) => {
    const v = values.get(key(r));
    if (v === undefined) throw new KilnError('E_BAD_ARGUMENT', `Keras model config: output ${r.layer} is not produced`);
    return v;
  });
  return { outputs, all: values };
}

function convertLayer(b: ModelBuilder, l: KLayer, inputs: number[], weights: WeightStore): number[] {
  const conv = KERAS_LAYERS[l.className]!;
  const ctx: LayerCtx = {
    b,
    layer: l,
    cfg: l.config,
    name: l.name,
    inputs,
    shape: (i = 0) => [...b.g.tensor(inputs[i]!).shape],
    maybeWeight: (w) => weights.get(l.name, w),
    weight: (w, ...alts) => {
      for (const n of [w, ...alts]) {
        const t: HostTensor | undefined = weights.get(l.name, n);
        if (t) return t;
      }
      throw new KilnError(
        'E_BAD_ARGUMENT',
        `layer ${l.name} (${l.className}): weight "${w}" is missing from the weights`,
        {
          hint: 'The weights file does not match the model config',
        },
      );
    },
  };
  return conv(ctx);
}
