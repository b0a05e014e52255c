/**
 * A trained tfjs layers model → Kiln's float IR, through the same TF.js layers loader an uploaded model.json takes
 * (loaders/keras: batch norm folded into the convolutions, ReLU fused, by the existing rewrites). The model is saved in
 * memory (model.json + one weights shard), never written to disk.
 */
import * as tf from '@tensorflow/tfjs';
import { convertFiles, toTfliteBytes, type ConvertResult } from '../loaders/convert.js';
import { MemoryFiles } from '../loaders/files.js';

/** The TF.js layers-format files of `model`: model.json and weights.bin. */
export async function tfjsLayersFiles(model: tf.LayersModel): Promise<Map<string, Uint8Array>> {
  let saved: tf.io.ModelArtifacts | undefined;
  await model.save(
    tf.io.withSaveHandler(async (a) => {
      saved = a;
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }),
  );
  if (!saved?.weightData || !saved.weightSpecs) throw new Error('tfjs saved no weights');
  const data = saved.weightData;
  const weights = new Uint8Array(
    Array.isArray(data) ? await new Blob(data.map((b) => new Uint8Array(b))).arrayBuffer() : data,
  );
  const json = {
    format: 'layers-model',
    generatedBy: `TensorFlow.js tfjs-layers v${tf.version_layers}`,
    convertedBy: 'Kiln train',
    modelTopology: saved.modelTopology,
    weightsManifest: [{ paths: ['weights.bin'], weights: saved.weightSpecs }],
  };
  return new Map([
    ['model.json', new TextEncoder().encode(JSON.stringify(json))],
    ['weights.bin', weights],
  ]);
}

/** Converts a trained model to Kiln's float IR (and a float .tflite with `toTfliteBytes(result.model)`). */
export async function convertTrained(model: tf.LayersModel): Promise<ConvertResult> {
  const files = new MemoryFiles('trained model', await tfjsLayersFiles(model), 'folder');
  return convertFiles(files);
}

/** The float .tflite of a trained model (what a training route hands to the quantize stage). */
export async function trainedTflite(model: tf.LayersModel): Promise<Uint8Array> {
  return toTfliteBytes((await convertTrained(model)).model);
}
