/**
 * Registers Kiln's training kernels on tfjs's WebAssembly backend, once per process: the convolution gradients that
 * tfjs-backend-wasm 4.22 lacks (Conv2DBackpropFilter) or runs as a scalar loop (Conv2DBackpropInput), both on Kiln's
 * SIMD GEMM (conv-grad.ts). Call `useTrainingBackend()` before building a model.
 */
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import type { ConvGeometry } from '../../interpreter/kernels/conv-common.js';
import { convFilterGrad, convInputGrad } from './conv-grad.js';

interface WasmBackend {
  makeOutput(shape: number[], dtype: 'float32'): tf.TensorInfo;
  typedArrayFromHeap(t: tf.TensorInfo): Float32Array;
}

type ConvAttrs = {
  strides: number | [number, number];
  pad: 'same' | 'valid' | number | [[number, number], [number, number], [number, number], [number, number]];
  dataFormat: 'NHWC' | 'NCHW';
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
};

/** Kiln's geometry of the tfjs conv of input shape `xShape` and filter shape `wShape` (NHWC only, no dilation). */
export function tfjsConvGeometry(
  xShape: number[],
  wShape: number[],
  attrs: ConvAttrs,
): { g: ConvGeometry; outC: number } {
  if (attrs.dataFormat === 'NCHW') throw new Error('Kiln training kernels support NHWC only');
  const info = tf.backend_util.computeConv2DInfo(
    xShape as [number, number, number, number],
    wShape as [number, number, number, number],
    attrs.strides,
    1,
    attrs.pad,
    attrs.dimRoundingMode,
  );
  return {
    g: {
      batch: info.batchSize,
      inH: info.inHeight,
      inW: info.inWidth,
      inC: info.inChannels,
      kH: info.filterHeight,
      kW: info.filterWidth,
      outH: info.outHeight,
      outW: info.outWidth,
      strideH: info.strideHeight,
      strideW: info.strideWidth,
      dilH: 1,
      dilW: 1,
      padH: info.padInfo.top,
      padW: info.padInfo.left,
    },
    outC: info.outChannels,
  };
}

function output(backend: WasmBackend, shape: number[], values: Float32Array): tf.TensorInfo {
  const out = backend.makeOutput(shape, 'float32');
  backend.typedArrayFromHeap(out).set(values);
  return out;
}

const KERNELS: tf.KernelConfig[] = [
  {
    kernelName: tf.Conv2DBackpropFilter,
    backendName: 'wasm',
    kernelFunc: ({ inputs, attrs, backend }) => {
      const be = backend as unknown as WasmBackend;
      const { x, dy } = inputs as { x: tf.TensorInfo; dy: tf.TensorInfo };
      const a = attrs as unknown as ConvAttrs & { filterShape: number[] };
      const { g, outC } = tfjsConvGeometry(x.shape, a.filterShape, a);
      return output(be, a.filterShape, convFilterGrad(be.typedArrayFromHeap(x), be.typedArrayFromHeap(dy), g, outC));
    },
  },
  {
    kernelName: tf.Conv2DBackpropInput,
    backendName: 'wasm',
    kernelFunc: ({ inputs, attrs, backend }) => {
      const be = backend as unknown as WasmBackend;
      const { dy, filter } = inputs as { dy: tf.TensorInfo; filter: tf.TensorInfo };
      const a = attrs as unknown as ConvAttrs & { inputShape: number[] };
      const { g, outC } = tfjsConvGeometry(a.inputShape, filter.shape, a);
      return output(be, a.inputShape, convInputGrad(be.typedArrayFromHeap(dy), be.typedArrayFromHeap(filter), g, outC));
    },
  },
];

let registered = false;

/** Selects tfjs's WebAssembly backend with Kiln's training kernels registered (registration happens once). */
export async function useTrainingBackend(): Promise<void> {
  if (!registered) {
    for (const k of KERNELS) {
      if (tf.getKernel(k.kernelName, 'wasm')) tf.unregisterKernel(k.kernelName, 'wasm');
      tf.registerKernel(k);
    }
    registered = true;
  }
  if (!(await tf.setBackend('wasm'))) throw new Error('tfjs WebAssembly backend failed to initialise');
  await tf.ready();
}
