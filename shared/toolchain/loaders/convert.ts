import { KilnError } from '../../common/errors.js';
import { fromTflite } from '../ir/from-tflite.js';
import type { IrModel } from '../ir/model.js';
import { toTflite } from '../ir/to-tflite.js';
import { readTflite } from '../tflite/reader.js';
import { writeTflite } from '../tflite/writer.js';
import { detectFormat, type Detected, type ModelFormat } from './detect.js';
import { openModelFiles, type ModelFiles } from './files.js';
import { loadGraphModel } from './graphdef/load.js';
import { graphToIr } from './graphdef/to-ir.js';
import { loadKerasH5, loadKerasV3, loadTfjsLayers, type LoadedKeras } from './keras/load.js';
import { kerasToIr } from './keras/to-ir.js';
import { loadOnnx } from './onnx/load.js';
import type { InputLayout } from './onnx/to-ir.js';
import type { ConvertOptions } from './options.js';
import { checkFiniteWeights } from './finite-weights.js';
import { optimize, type RewriteReport } from './rewrites/index.js';
import type { SourceModel } from './source.js';

export interface TensorInfo {
  name: string;
  dtype: string;
  shape: number[];
}

export interface ConvertResult {
  format: ModelFormat;
  /** The main file inside the upload. */
  entry: string;
  packaging: ModelFiles['packaging'];
  model: IrModel;
  inputs: TensorInfo[];
  outputs: TensorInfo[];
  /** Op type → count in the converted graph. */
  ops: Record<string, number>;
  rewrites: RewriteReport | null;
  /** The source model for running it in tfjs (parity, calibration); absent when tfjs cannot load that format. */
  source?: SourceModel;
  /** Channels-first (ONNX) models: how each input is laid out in the converted model. */
  inputLayout?: InputLayout[];
}

const info = (m: IrModel, ids: number[]): TensorInfo[] =>
  ids.map((id) => {
    const t = m.graph.tensor(id);
    return { name: t.name, dtype: t.dtype, shape: [...t.shape] };
  });

function fromKeras(k: LoadedKeras, opts: ConvertOptions): { model: IrModel; source?: SourceModel } {
  return { model: kerasToIr(k.model, k.weights, opts), ...(k.source ? { source: k.source } : {}) };
}

/** Loads and converts what `files` holds. One entry point for every packaging and format. */
export function convertFiles(files: ModelFiles, opts: ConvertOptions = {}): ConvertResult {
  const det: Detected = detectFormat(files);
  let raw: { model: IrModel; source?: SourceModel };
  let inputLayout: InputLayout[] | undefined;
  let optimizeIt = true;
  switch (det.format) {
    case 'tflite': {
      const bytes = files.read(det.entry)!;
      if (opts.inputs?.length || opts.outputs?.length) {
        throw new KilnError('E_BAD_ARGUMENT', 'a .tflite model cannot be cut with --inputs/--outputs', {
          hint: 'Cut the source model instead',
        });
      }
      raw = { model: fromTflite(readTflite(bytes)), source: { kind: 'tflite', bytes } };
      optimizeIt = false;
      break;
    }
    case 'keras-h5':
      raw = fromKeras(loadKerasH5(files, det.entry), opts);
      break;
    case 'keras-v3':
      raw = fromKeras(loadKerasV3(files, det.entry, det.base), opts);
      break;
    case 'tfjs-layers':
      raw = fromKeras(loadTfjsLayers(files, det.entry, det.base), opts);
      break;
    case 'tfjs-graph':
    case 'savedmodel':
    case 'frozen-graph': {
      const loaded = loadGraphModel(files, det, opts);
      raw = graphToIr(loaded, opts);
      break;
    }
    case 'onnx': {
      const r = loadOnnx(files, det, opts);
      raw = { model: r.model };
      inputLayout = r.layout;
      break;
    }
  }
  for (const g of raw.model.subgraphs) checkFiniteWeights(g);
  const { model, report } = optimizeIt ? optimize(raw.model) : { model: raw.model, report: null };
  const ops: Record<string, number> = {};
  for (const op of model.graph.ops) ops[op.type] = (ops[op.type] ?? 0) + 1;
  return {
    format: det.format,
    entry: det.entry,
    packaging: files.packaging,
    model,
    inputs: info(model, model.graph.inputs),
    outputs: info(model, model.graph.outputs),
    ops,
    rewrites: report,
    ...(raw.source ? { source: raw.source } : {}),
    ...(inputLayout ? { inputLayout } : {}),
  };
}

/** `kiln convert` core: a file, folder or archive → float IR (+ source model). */
export function convertModel(path: string, opts: ConvertOptions = {}): ConvertResult {
  return convertFiles(openModelFiles(path), opts);
}

/** The converted model as .tflite bytes. */
export function toTfliteBytes(model: IrModel): Uint8Array {
  return writeTflite(toTflite(model));
}
