import test from 'ava';
import { join } from 'node:path';
import { KilnError } from '../../shared/common/errors.js';
import { convertModel } from '../../shared/toolchain/loaders/convert.js';
import type { ModelFormat } from '../../shared/toolchain/loaders/detect.js';
import type { ConvertOptions } from '../../shared/toolchain/loaders/options.js';
import { FRONTENDS_DIR, haveModels } from '../helpers/models.js';
import { parity, tolerance, uniform, type InputGen } from './helpers/parity.js';

/**
 * Acceptance: every model of ../shared/models/frontends converts, or is refused where its README row says so; each
 * converted model, on the TFLite runtime and on Kiln's interpreter, matches the source model run in tfjs on 5 random
 * inputs within 1e-4 of the output range.
 */
interface Case {
  path: string;
  format: ModelFormat;
  opts?: ConvertOptions;
  inputs: number[][];
  outputs: number[][];
  gen?: InputGen;
  /** An op the converted graph must contain (the mapping really happened). */
  has?: string;
}

const tokenIds: InputGen = (info, r) =>
  Float32Array.from({ length: info.shape.reduce((a, b) => a * b, 1) }, () => Math.floor(r() * 100));

const CASES: Case[] = [
  {
    path: 'keras_h5/oarriaga/fer2013_mini_XCEPTION.102-0.66.hdf5',
    format: 'keras-h5',
    inputs: [[1, 64, 64, 1]],
    outputs: [[1, 7]],
    has: 'DEPTHWISE_CONV_2D',
  },
  {
    path: 'keras_h5/oarriaga/gender_mini_XCEPTION.21-0.95.hdf5',
    format: 'keras-h5',
    inputs: [[1, 64, 64, 1]],
    outputs: [[1, 2]],
    has: 'DEPTHWISE_CONV_2D',
  },
  {
    path: 'tfjs_layers/nsfwjs_mobilenet_v2',
    format: 'tfjs-layers',
    inputs: [[1, 224, 224, 3]],
    outputs: [[1, 5]],
    has: 'DEPTHWISE_CONV_2D',
  },
  {
    path: 'tfjs_layers/tiny_e2e_layers_model',
    format: 'tfjs-layers',
    inputs: [[1, 10]],
    outputs: [[1, 4]],
    gen: tokenIds,
    has: 'GATHER',
  },
  {
    path: 'tfjs_graph/human/emotion.json',
    format: 'tfjs-graph',
    inputs: [[1, 64, 64, 1]],
    outputs: [[1, 7]],
    has: 'DEPTHWISE_CONV_2D',
  },
  {
    path: 'tfjs_graph/human/blazeface.json',
    format: 'tfjs-graph',
    inputs: [[1, 256, 256, 3]],
    outputs: [
      [1, 384, 16],
      [1, 512, 1],
      [1, 384, 1],
      [1, 512, 16],
    ],
    has: 'PAD',
  },
  {
    path: 'tfjs_graph/tiny_e2e_graph_model/model.json',
    format: 'tfjs-graph',
    inputs: [[2, 2]],
    outputs: [[2, 2]],
    has: 'FULLY_CONNECTED',
  },
  {
    path: 'tfjs_graph/tiny_e2e_graph_model/model_new.json',
    format: 'tfjs-graph',
    inputs: [[2, 2]],
    outputs: [[2, 2]],
    has: 'FULLY_CONNECTED',
  },
  {
    path: 'frozen_graphdef/arm_ml_kws/CNN_S.pb',
    format: 'frozen-graph',
    opts: { inputs: [{ name: 'Mfcc', shape: [1, 49, 10] }], outputs: ['labels_softmax'] },
    inputs: [[1, 49, 10]],
    outputs: [[1, 12]],
    has: 'CONV_2D',
  },
  {
    path: 'savedmodel/tfjs_test_objects/times_three_float',
    format: 'savedmodel',
    inputs: [[]],
    outputs: [[]],
    has: 'MUL',
  },
  {
    path: 'savedmodel/tfjs_test_objects/model_multi_output',
    format: 'savedmodel',
    inputs: [[], []],
    outputs: [[], []],
    has: 'MUL',
  },
  {
    path: 'savedmodel/tfjs_test_objects/module_with_multiple_signatures',
    format: 'savedmodel',
    inputs: [[]],
    outputs: [[]],
    has: 'MUL',
  },
  {
    path: 'savedmodel/tfjs_test_objects/module_with_multiple_signatures',
    format: 'savedmodel',
    opts: { signature: 'timestwo' },
    inputs: [[]],
    outputs: [[]],
    has: 'MUL',
  },
  {
    path: 'tflite/tfjs_add4.tflite',
    format: 'tflite',
    inputs: [
      [1, 4],
      [1, 4],
    ],
    outputs: [[1, 4]],
    has: 'ADD',
  },
];

const REFUSED: { path: string; opts?: ConvertOptions; code: string; message: RegExp }[] = [
  {
    path: 'savedmodel/tfjs_test_objects/int64_multiply',
    code: 'E_UNSUPPORTED_TYPE',
    message: /int64 graph: serving_default_x \(Placeholder\)/,
  },
  {
    path: 'frozen_graphdef/arm_ml_kws/CNN_S.pb',
    code: 'E_UNSUPPORTED_OP',
    message: /unsupported ops in the model: DecodeWav, AudioSpectrogram, Mfcc/,
  },
  { path: 'negative/face-api-weights-manifest-only', code: 'E_BAD_ARGUMENT', message: /no model topology/ },
  {
    path: 'negative/face-api-weights-manifest-only/tiny_face_detector_model-weights_manifest.json',
    code: 'E_BAD_ARGUMENT',
    message: /no model topology/,
  },
];

const maybe = haveModels ? test.serial : test.skip;

for (const c of CASES) {
  const label = `${c.path}${c.opts?.signature ? ` (signature ${c.opts.signature})` : ''}`;
  maybe(`converts ${label} and matches the source in tfjs on the TFLite runtime and Kiln's interpreter`, async (t) => {
    const res = convertModel(join(FRONTENDS_DIR, c.path), c.opts ?? {});
    t.is(res.format, c.format);
    t.deepEqual(
      res.inputs.map((i) => i.shape),
      c.inputs,
    );
    t.deepEqual(
      res.outputs.map((o) => o.shape),
      c.outputs,
    );
    if (c.has) t.true((res.ops[c.has] ?? 0) > 0, `${c.has} in ${JSON.stringify(res.ops)}`);
    t.true(res.model.graph.tensors.every((x) => x.dtype !== 'int64'));
    const p = await parity(res, 5, c.gen ?? uniform);
    for (const o of p.outputs) {
      t.log(
        `${o.name}: max error ${o.oracle.toExponential(2)} (TFLite runtime), ${o.interpreter?.toExponential(2) ?? 'n/a'} (interpreter), output range ${o.range.toPrecision(4)} [tfjs ${p.backend}]`,
      );
      t.true(o.oracle <= tolerance(o), `TFLite runtime: ${o.name} max error ${o.oracle} > 1e-4 × ${o.range}`);
      if (o.interpreter !== null)
        t.true(o.interpreter <= tolerance(o), `interpreter: ${o.name} max error ${o.interpreter} > 1e-4 × ${o.range}`);
    }
  });
}

for (const r of REFUSED) {
  maybe(`refuses ${r.path} with a reason`, (t) => {
    const e = t.throws(() => convertModel(join(FRONTENDS_DIR, r.path), r.opts ?? {}), { instanceOf: KilnError });
    t.is(e!.code as string, r.code);
    t.is(e!.kind, 'bad-input');
    t.regex(e!.message, r.message);
    t.truthy(e!.hint);
    t.log(e!.oneLine());
  });
}

maybe('the KWS refusal names the cut that makes it convertible', (t) => {
  const e = t.throws(() => convertModel(join(FRONTENDS_DIR, 'frozen_graphdef/arm_ml_kws/CNN_S.pb')), {
    instanceOf: KilnError,
  });
  t.regex(e!.hint!, /--inputs Mfcc:/);
});

maybe('conversion folds batch norm and fuses activations in the real Keras models', (t) => {
  const res = convertModel(join(FRONTENDS_DIR, 'tfjs_layers/nsfwjs_mobilenet_v2'));
  t.is(res.ops['MUL'] ?? 0, 0);
  t.is(res.ops['RELU6'] ?? 0, 0);
  t.is(res.rewrites!.affineFolded, 104);
  const mx = convertModel(join(FRONTENDS_DIR, 'keras_h5/oarriaga/fer2013_mini_XCEPTION.102-0.66.hdf5'));
  t.deepEqual(Object.keys(mx.ops).sort(), ['ADD', 'CONV_2D', 'DEPTHWISE_CONV_2D', 'MAX_POOL_2D', 'MEAN', 'SOFTMAX']);
});
