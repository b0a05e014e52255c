import type * as TF from '@tensorflow/tfjs';

export type Tfjs = typeof TF;

let ready: Promise<{ tf: Tfjs; backend: string }> | undefined;

/**
 * TensorFlow.js for running source models: @tensorflow/tfjs-node when it is installed (native TensorFlow kernels),
 * otherwise @tensorflow/tfjs with the WebAssembly backend, which loads its .wasm from node_modules (no network).
 */
export function loadTfjs(): Promise<{ tf: Tfjs; backend: string }> {
  ready ??= (async () => {
    const nodeBinding = '@tensorflow/tfjs-node';
    try {
      const tf = (await import(nodeBinding)) as Tfjs;
      await tf.ready();
      return { tf, backend: tf.getBackend() };
    } catch {
      // not installed (or no native build for this platform): fall back to wasm
    }
    const tf = await import('@tensorflow/tfjs');
    await import('@tensorflow/tfjs-backend-wasm');
    if (!(await tf.setBackend('wasm'))) await tf.setBackend('cpu');
    await tf.ready();
    return { tf, backend: tf.getBackend() };
  })();
  return ready;
}
