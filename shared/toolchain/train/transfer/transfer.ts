import { KilnError } from '../../../common/errors.js';
import { isGzip, readTarGz } from '../../loaders/archive/tar.js';
import { isZip, readZip } from '../../loaders/archive/zip.js';
import { convertFiles, toTfliteBytes } from '../../loaders/convert.js';
import { MemoryFiles } from '../../loaders/files.js';
import { Interpreter } from '../../interpreter/index.js';
import type { IrModel } from '../../ir/model.js';
import { decodeDataset, type DecodedSplit } from '../dataset/decode.js';
import { augmentPixels } from './augment.js';
import { findCut } from './cut.js';
import { Embedder, imageInputOf, inputValues, trunkOf } from './embed.js';
import { graftHead } from './graft.js';
import { imprintHead, predict, trainHead, type Examples } from './head.js';
import type { RouteInput, TrainedModel } from '../route.js';
import { timed } from '../route.js';

/** The base model as Kiln's IR: any format Kiln converts (a .tflite passes through; archives are unpacked). */
export function loadBaseModel(name: string, bytes: Uint8Array): IrModel {
  const unpacked = isZip(bytes) ? readZip(bytes) : isGzip(bytes) ? readTarGz(bytes) : null;
  const files = unpacked
    ? new MemoryFiles(name, unpacked, isZip(bytes) ? 'zip' : 'tar.gz')
    : new MemoryFiles(name, new Map([[name, bytes]]), 'file', name);
  return convertFiles(files).model;
}

/** Top-1 predictions of a whole classifier model on decoded images (Kiln's interpreter, integer kernels for int8). */
export function classify(model: IrModel, split: DecodedSplit, cfg: RouteInput['calibration']): number[] {
  const { input, target } = imageInputOf(model);
  const interp = new Interpreter(model);
  return split.pixels.map((px) => {
    const out = interp.run([inputValues(input, px, target.channels, cfg)], { views: true }).outputs[0]!;
    let best = 0;
    for (let i = 1; i < out.data.length; i++) if (Number(out.data[i]) > Number(out.data[best])) best = i;
    return best;
  });
}

/**
 * Route 1, transfer learning: the base classifier is cut at its embedding (findCut), embeddings of every image are
 * computed once on Kiln's interpreter (an int8/uint8 base runs its integer kernels), a new softmax head is trained on
 * them (SGD, or weight imprinting with `imprint`), and grafted back (quantized like the base when the base is
 * quantized). The float head's test accuracy is measured on the test embeddings.
 */
export async function trainTransfer(input: RouteInput): Promise<TrainedModel> {
  const { config, dataset } = input;
  if (!input.base)
    throw new KilnError('E_BAD_ARGUMENT', 'transfer learning needs a base model', {
      hint: 'Set "train": {"base": "mobilenet_v1_1.0_224_quant.tflite"} in kiln.json (a file in the dataset folder) or pass --base',
    });
  const phases: Record<string, number> = {};
  const base = await timed(phases, 'load base', () =>
    Promise.resolve(loadBaseModel(input.base!.name, input.base!.bytes)),
  );
  const cut = findCut(base);
  const trunk = trunkOf(base, cut);
  const embedder = new Embedder(trunk, input.calibration);
  const decoded = await timed(phases, 'decode images', () =>
    decodeDataset(input.files, dataset, embedder.target, input.calibration, input.onImage),
  );
  const embed = (split: DecodedSplit, copies = 0): Examples => {
    const x: Float32Array[] = [];
    const y: number[] = [];
    split.pixels.forEach((px, i) => {
      x.push(embedder.embed(px));
      y.push(split.labels[i]!);
      for (let k = 0; k < copies; k++) {
        x.push(
          embedder.embed(augmentPixels(px, embedder.target, config.augmentation, config.seed * 7919 + i * 31 + k)),
        );
        y.push(split.labels[i]!);
      }
    });
    return { x, y };
  };
  const { train, validation, test } = await timed(phases, 'embeddings', () =>
    Promise.resolve({
      train: embed(decoded.train, config.augmentation.copies),
      validation: embed(decoded.validation),
      test: embed(decoded.test),
    }),
  );
  const classes = dataset.classes.length;
  const trained = await timed(phases, 'train head', () =>
    Promise.resolve(
      config.imprint
        ? imprintHead(train, classes)
        : trainHead(train, validation, {
            classes,
            epochs: config.epochs,
            learningRate: config.learningRate,
            seed: config.seed,
            ...(config.timeBudgetSeconds !== undefined ? { timeBudgetSeconds: config.timeBudgetSeconds } : {}),
            ...(input.onEpoch ? { onEpoch: input.onEpoch } : {}),
          }),
    ),
  );
  const model = await timed(phases, 'graft', () => Promise.resolve(graftHead(trunk, trained.head, train.x)));
  const floatPredictions = test.x.map((x) => predict(trained.head, x));
  return {
    route: 'transfer',
    model: toTfliteBytes(model),
    quantized: cut.dtype !== 'float32',
    classes: dataset.classes,
    history: trained.history,
    epochs: trained.history.length,
    base: input.base.name,
    cut: {
      tensor: cut.tensorName,
      opIndex: cut.opIndex,
      opType: cut.opType,
      embeddingSize: cut.embeddingSize,
      dtype: cut.dtype,
      baseClasses: cut.baseClasses,
    },
    decoded,
    floatTestPredictions: floatPredictions,
    phases,
    warnings: [...dataset.warnings, ...decoded.warnings],
  };
}
