import { KilnError } from '../../../common/errors.js';
import type { ModelFiles } from '../files.js';
import { parseJson } from '../detect.js';
import { concatBuffers, type TfjsArtifacts } from '../source.js';
import type { HostTensor } from '../tensor.js';
import { checkManifest, decodeWeights } from './weights.js';

export interface TfjsModelJson {
  doc: Record<string, any>;
  topology: Record<string, any>;
  weights: Map<string, HostTensor>;
  /** The model exactly as tfjs would load it (quantized weights left for tfjs to dequantize). */
  artifacts: TfjsArtifacts;
}

const join = (base: string, p: string): string => (base ? `${base}/${p}` : p);

/** Reads a TF.js model.json and its weight shards (paths resolved against the model.json folder, never outside). */
export function readTfjsModelJson(files: ModelFiles, entry: string, base: string): TfjsModelJson {
  const doc = parseJson(files.read(entry)!, entry) as Record<string, any>;
  const topology = doc['modelTopology'];
  if (!topology || typeof topology !== 'object') {
    throw new KilnError('E_BAD_ARGUMENT', `no model topology: ${entry} has no "modelTopology"`, {
      hint: 'Upload the model.json written by the TF.js converter',
    });
  }
  const groups = checkManifest(doc['weightsManifest'] ?? [], entry);
  const read = (p: string): Uint8Array | undefined => files.read(join(base, p));
  const weights = decodeWeights(groups, read, entry);
  const shards = groups.flatMap((g) => g.paths.map((p) => read(p)!));
  const artifacts: TfjsArtifacts = {
    modelTopology: topology,
    weightSpecs: groups.flatMap((g) => g.weights),
    weightData: concatBuffers(shards),
    ...(typeof doc['format'] === 'string' ? { format: doc['format'] } : {}),
  };
  return { doc, topology, weights, artifacts };
}
