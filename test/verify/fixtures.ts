import { ModelBuilder } from '../../shared/toolchain/ir/builder.js';
import type { IrModel } from '../../shared/toolchain/ir/model.js';
import { toTfliteBytes } from '../../shared/toolchain/loaders/convert.js';
import { openInterpreterRunner } from '../../shared/toolchain/quantize/capture.js';
import type { Sample } from '../../shared/toolchain/data/dataset.js';
import { quantizeModel } from '../../shared/toolchain/quantize/quantize-model.js';
import { rng, uniformSamples } from '../helpers/models.js';

export const EVIL = '<script>alert("x")</script>';

/** conv(RELU6) → depthwise → maxpool → reshape → FC (tensor named with a script tag) → softmax: a 4-class classifier. */
export function classifier(): IrModel {
  const r = rng(5);
  const rand = (n: number, s = 1) => Float32Array.from({ length: n }, () => (r() * 2 - 1) * s);
  const b = new ModelBuilder();
  const x = b.input('image', [1, 8, 8, 3]);
  const c1 = b.conv2d(
    x,
    b.constant('c1/w', 'float32', [4, 3, 3, 3], rand(108, 0.5)),
    b.constant('c1/b', 'float32', [4], rand(4, 0.1)),
    { activation: 'RELU6' },
  );
  const d1 = b.depthwiseConv2d(
    c1,
    b.constant('d1/w', 'float32', [1, 3, 3, 4], rand(36)),
    b.constant('d1/b', 'float32', [4], rand(4, 0.1)),
  );
  const p1 = b.pool('MAX_POOL_2D', d1, { filter: 2 });
  const flat = b.reshape(p1, [1, 64]);
  const logits = b.fullyConnected(
    flat,
    b.constant('fc/w', 'float32', [4, 64], rand(256, 0.4)),
    b.constant('fc/b', 'float32', [4], rand(4)),
    {},
    { name: EVIL },
  );
  b.output(b.softmax(logits, 1, { name: 'probs' }));
  return b.build();
}

export const samplesOf = (n: number, seed: number): Sample[] => uniformSamples(n, 8 * 8 * 3, seed);

/** The fixture as float and int8 .tflite bytes (quantized by Kiln's quantizer on Kiln's interpreter). */
export async function classifierPair(): Promise<{ float: Uint8Array; int8: Uint8Array }> {
  const float = classifier();
  const q = await quantizeModel(float, {
    samples: samplesOf(32, 1),
    debugSamples: 0,
    openRunner: openInterpreterRunner,
  });
  return { float: toTfliteBytes(float), int8: toTfliteBytes(q.model) };
}
