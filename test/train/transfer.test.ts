import test from 'ava';
import { readFileSync } from 'node:fs';
import { compileModel } from '../../shared/toolchain/edgetpu/compile-model.js';
import { bytesOf } from '../../shared/toolchain/ir/dtype.js';
import { fromTflite } from '../../shared/toolchain/ir/from-tflite.js';
import { Interpreter } from '../../shared/toolchain/interpreter/index.js';
import { randomInputs } from '../../shared/toolchain/interpreter/random-inputs.js';
import { TfliteRuntime } from '../../shared/toolchain/runtime/tflite-runtime.js';
import { readTflite } from '../../shared/toolchain/tflite/reader.js';
import { TrainConfigSchema } from '../../shared/toolchain/train/config.js';
import { memoryDatasetFiles } from '../../shared/toolchain/train/dataset/files.js';
import { readDataset } from '../../shared/toolchain/train/dataset/read-dataset.js';
import { HEAD_TENSORS } from '../../shared/toolchain/train/transfer/graft.js';
import { imageInputOf, inputValues } from '../../shared/toolchain/train/transfer/embed.js';
import { classify, trainTransfer } from '../../shared/toolchain/train/transfer/transfer.js';
import type { TrainedModel } from '../../shared/toolchain/train/route.js';
import { shapeFiles } from '../helpers/image-sets.js';
import { haveModels, modelPath } from '../helpers/models.js';

const maybe = haveModels ? test.serial : test.skip;
const CAL = { fit: 'squash', channelOrder: 'RGB' } as const;
const BASE = 'mobilenet_v1_0.25_128_quant.tflite';

let trained: Promise<TrainedModel> | undefined;
/** 3 classes × 24 generated 128×128 images; a quarter of each class held out for test. */
function train(imprint = false): Promise<TrainedModel> {
  const run = async (): Promise<TrainedModel> => {
    const files = memoryDatasetFiles('shapes/', await shapeFiles(24, 128));
    const dataset = await readDataset(files, { seed: 5, fractions: { validation: 0.1, test: 0.25 } });
    return trainTransfer({
      files,
      dataset,
      config: TrainConfigSchema.parse({ epochs: 30, seed: 5, imprint }),
      calibration: CAL,
      base: { name: BASE, bytes: new Uint8Array(readFileSync(modelPath(BASE))) },
    });
  };
  if (imprint) return run();
  return (trained ??= run());
}

maybe('transfer learning cuts MobileNet at its embedding and reports where', async (t) => {
  const r = await train();
  t.deepEqual(r.classes, ['disc', 'hstripes', 'vstripes']);
  t.is(r.cut?.opType, 'CONV_2D');
  t.is(r.cut?.opIndex, 28);
  t.is(r.cut?.embeddingSize, 256);
  t.is(r.cut?.baseClasses, 1001);
  t.regex(r.cut!.tensor, /AvgPool/);
  t.is(r.cut?.dtype, 'uint8');
  t.true(r.quantized);
  t.is(r.history.length, 30);
  t.true(r.history.at(-1)!.loss < r.history[0]!.loss, 'training lowers the loss');
  const g = fromTflite(readTflite(r.model)).graph;
  t.deepEqual(
    g.ops.slice(-3).map((o) => o.type),
    ['RESHAPE', 'FULLY_CONNECTED', 'SOFTMAX'],
  );
  const out = g.tensor(g.outputs[0]!);
  t.is(out.name, HEAD_TENSORS.probabilities);
  t.deepEqual(out.shape, [1, 3]);
  t.deepEqual(out.quant?.scale, [1 / 256]);
  t.deepEqual(out.quant?.zeroPoint, [0]);
  // The embedding keeps the base's own quantization as the head's input.
  const fc = g.ops.at(-2)!;
  const emb = g.tensor(fc.inputs[0]!);
  t.is(emb.dtype, 'uint8');
  t.deepEqual(emb.quant?.scale, g.tensor(g.ops.at(-4)!.outputs[0]!).quant?.scale);
});

maybe(
  'the grafted model runs bit-exactly in the TFLite runtime and in Kiln, maps fully to the Edge TPU, and classifies held-out images',
  async (t) => {
    const r = await train();
    const ir = fromTflite(readTflite(r.model));
    const interp = new Interpreter(ir);
    const rt = await TfliteRuntime.load(r.model);
    const { input, target } = imageInputOf(ir);
    try {
      const images = [...r.decoded.test.pixels, ...r.decoded.train.pixels.slice(0, 4)];
      const inputs = [
        ...images.map((px) => [inputValues(input, px, target.channels, CAL)]),
        randomInputs(interp.inputs, 1),
        randomInputs(interp.inputs, 2),
      ];
      for (const [k, inp] of inputs.entries()) {
        const got = bytesOf(interp.run(inp).outputs[0]!.data);
        const want = (await rt.run(inp.map((a) => bytesOf(a))))[0]!.bytes;
        t.deepEqual([...got], [...want], `input ${k}`);
      }
    } finally {
      rt.close();
    }
    const compiled = compileModel([{ path: 'trained.tflite', bytes: r.model }]).models[0]!;
    t.is(compiled.failure, null);
    t.is(compiled.tpuOps, compiled.totalOps);
    t.is(compiled.cpuOps, 0);
    t.true(
      compiled.operations.every((o) => o.onEdgeTpu),
      JSON.stringify(compiled.operations.filter((o) => !o.onEdgeTpu)),
    );

    const test18 = r.decoded.test;
    t.is(test18.pixels.length, 18);
    const int8 = classify(ir, test18, CAL);
    const acc = (p: number[]) => p.filter((c, i) => c === test18.labels[i]).length / p.length;
    t.log(`test accuracy: float ${acc(r.floatTestPredictions)}, int8 ${acc(int8)} (chance 0.33)`);
    t.true(acc(int8) >= 0.8, `int8 test accuracy ${acc(int8)}`);
    t.true(acc(r.floatTestPredictions) >= 0.8, `float test accuracy ${acc(r.floatTestPredictions)}`);
  },
);

maybe('weight imprinting (few-shot) builds a head without training epochs and separates the classes', async (t) => {
  const r = await train(true);
  t.is(r.epochs, 1);
  const ir = fromTflite(readTflite(r.model));
  const p = classify(ir, r.decoded.test, CAL);
  const acc = p.filter((c, i) => c === r.decoded.test.labels[i]).length / p.length;
  t.log(`imprinted int8 test accuracy ${acc}`);
  t.true(acc >= 0.6, `imprinted accuracy ${acc}`);
});
