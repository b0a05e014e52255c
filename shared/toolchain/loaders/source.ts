import type { WeightSpec } from './tfjs/weights.js';

/** A model in the form tfjs loads it (`tf.io.fromMemory`): topology, weight specs and one weight buffer. */
export interface TfjsArtifacts {
  modelTopology: object;
  weightSpecs: WeightSpec[];
  weightData: ArrayBuffer;
  format?: string;
}

/**
 * The source model, kept so that it can be run as TensorFlow (through tfjs) for parity checks and calibration:
 * Keras models as a tfjs layers model, TF graphs (after function inlining, variable binding and cutting) as a tfjs
 * graph model with explicit input and output node names.
 */
export type SourceModel =
  | { kind: 'tfjs-layers'; artifacts: TfjsArtifacts }
  | { kind: 'tfjs-graph'; artifacts: TfjsArtifacts; inputs: string[]; outputs: string[] }
  | { kind: 'tflite'; bytes: Uint8Array };

/** Concatenates shard buffers into one ArrayBuffer. */
export function concatBuffers(parts: Uint8Array[]): ArrayBuffer {
  const total = parts.reduce((n, p) => n + p.length, 0);
  const out = new Uint8Array(total);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out.buffer;
}
