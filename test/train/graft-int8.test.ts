import test from 'ava';
import { compileModel } from '../../shared/edgetpu/compile-model.js';
import { bytesOf } from '../../shared/ir/dtype.js';
import { fromTflite } from '../../shared/ir/from-tflite.js';
import { Interpreter } from '../../shared/interpreter/index.js';
import { randomInputs } from '../../shared/interpreter/random-inputs.js';
import { toTfliteBytes } from '../../shared/loaders/convert.js';
import { TfliteRuntime } from '../../shared/oracle/tflite-runtime.js';
import { normalizePixels } from '../../shared/data/images.js';
import { quantizeModel } from '../../shared/quantize/quantize-model.js';
import { stripesModel } from '../../shared/samples/stripes.js';
import { readTflite } from '../../shared/tflite/reader.js';
import { TrainConfigSchema } from '../../shared/train/config.js';
import { memoryDatasetFiles } from '../../shared/train/dataset/files.js';
import { readDataset } from '../../shared/train/dataset/read-dataset.js';
import { imageInputOf, inputValues } from '../../shared/train/transfer/embed.js';
import { classify, trainTransfer } from '../../shared/train/transfer/transfer.js';
import { shapeFiles, shapePixels } from '../helpers/image-sets.js';

const CAL = { fit: 'squash', channelOrder: 'RGB' } as const;

/**
 * The int8 graft on a base made here (runs anywhere): the stripes sample quantized to int8 by Kiln, used as the base.
 * The head must be int8 (FC v4 per-tensor weights, zero point 0; softmax 1/256, −128), run bit-exactly in the TFLite
 * runtime and in Kiln, and map to the Edge TPU like the rest of the model.
 */
test('an int8 base gets an int8 head: bit-exact with TFLite, every op on the Edge TPU, better than chance', async (t) => {
  const calibration = Array.from({ length: 16 }, (_, i) => [normalizePixels(shapePixels(i % 3, 100 + i, 32), 3, CAL)]);
  const base = await quantizeModel(fromTflite(readTflite(stripesModel())), {
    samples: calibration,
    io: 'int8',
    threads: 1,
  });
  const files = memoryDatasetFiles('shapes/', await shapeFiles(16, 48));
  const dataset = await readDataset(files, { seed: 2, fractions: { validation: 0.1, test: 0.25 } });
  const r = await trainTransfer({
    files,
    dataset,
    config: TrainConfigSchema.parse({ epochs: 40, seed: 2 }),
    calibration: CAL,
    base: { name: 'stripes-int8.tflite', bytes: toTfliteBytes(base.model) },
  });
  t.is(r.cut?.dtype, 'int8');
  t.is(r.cut?.opType, 'FULLY_CONNECTED');
  const ir = fromTflite(readTflite(r.model));
  const g = ir.graph;
  const [fc, sm] = g.ops.slice(-2);
  t.is(fc!.type, 'FULLY_CONNECTED');
  t.is(fc!.version, 4);
  const w = g.tensor(fc!.inputs[1]!);
  t.is(w.dtype, 'int8');
  t.deepEqual(w.quant?.zeroPoint, [0]);
  t.is(g.tensor(fc!.inputs[2]!).dtype, 'int32');
  t.is(sm!.type, 'SOFTMAX');
  const out = g.tensor(sm!.outputs[0]!);
  t.is(out.dtype, 'int8');
  t.deepEqual(out.quant?.scale, [1 / 256]);
  t.deepEqual(out.quant?.zeroPoint, [-128]);

  const interp = new Interpreter(ir);
  const rt = await TfliteRuntime.load(r.model);
  const { input, target } = imageInputOf(ir);
  try {
    const inputs = [
      ...r.decoded.test.pixels.map((px) => [inputValues(input, px, target.channels, CAL)]),
      randomInputs(interp.inputs, 3),
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
  t.is(compiled.cpuOps, 0, JSON.stringify(compiled.operations.filter((o) => !o.onEdgeTpu)));
  const p = classify(ir, r.decoded.test, CAL);
  const acc = p.filter((c, i) => c === r.decoded.test.labels[i]).length / p.length;
  t.log(`int8 test accuracy ${acc} on ${p.length} images (chance 0.33)`);
  t.true(acc >= 0.6, `accuracy ${acc}`);
});
