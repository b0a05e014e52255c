/**
 * Registers Kiln's training kernels on tfjs's WebAssembly backend, once per process: the convolution gradients that
 * tfjs-backend-wasm 4.22 lacks (Conv2DBackpropFilter) or runs as a scalar loop (Conv2DBackpropInput), both on Kiln's
 * SIMD GEMM (conv-grad.ts), and JavaScript versions of the wasm kernels that dominated a training step (Tile,
 * MaxPoolGrad, Sum, Mean: fast-ops.ts) for the float shapes they cover, falling back to tfjs's own otherwise, and a
 * fused training-mode batch norm with its gradient (batch-norm.ts; used by batch-norm-layer.ts). Call
 * `useTrainingBackend()` before building a model.
 */
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import type { ConvGeometry } from '../../interpreter/kernels/conv-common.js';
import { batchNormTrain, batchNormTrainGrad } from './batch-norm.js';
import { convFilterGrad, convInputGrad } from './conv-grad.js';
import { contiguousAxes, maxPoolGrad, sumMiddle, tile } from './fast-ops.js';
import { batchMatMul } from './matmul.js';

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

type KernelArgs = Parameters<tf.KernelFunc>[0];

/** A kernel that answers with `fast` when it returns a result and with tfjs's own wasm kernel otherwise. */
function withFallback(
  name: string,
  fast: (args: KernelArgs, be: WasmBackend) => tf.TensorInfo | null,
): tf.KernelConfig | null {
  const own = tf.getKernel(name, 'wasm');
  if (!own) return null;
  return {
    ...own,
    kernelFunc: (args) => fast(args, args.backend as unknown as WasmBackend) ?? own.kernelFunc(args),
  };
}

function reduction(name: string, mean: boolean): tf.KernelConfig | null {
  return withFallback(name, ({ inputs, attrs }, be) => {
    const { x } = inputs as { x: tf.TensorInfo };
    const { axis, keepDims } = attrs as unknown as { axis: number | number[] | null; keepDims: boolean };
    if (x.dtype !== 'float32') return null;
    const all = x.shape.map((_, i) => i);
    const axes = (axis == null ? all : Array.isArray(axis) ? axis : [axis]).map((a) =>
      a < 0 ? a + x.shape.length : a,
    );
    const split = contiguousAxes(x.shape, axes);
    if (!split) return null;
    const sums = sumMiddle(be.typedArrayFromHeap(x), ...split);
    if (mean) for (let i = 0; i < sums.length; i++) sums[i] = sums[i]! / split[1];
    const shape = keepDims
      ? x.shape.map((d, i) => (axes.includes(i) ? 1 : d))
      : x.shape.filter((_, i) => !axes.includes(i));
    return output(be, shape, sums);
  });
}

function fastKernels(): tf.KernelConfig[] {
  const list = [
    withFallback(tf.Tile, ({ inputs, attrs }, be) => {
      const { x } = inputs as { x: tf.TensorInfo };
      const { reps } = attrs as unknown as { reps: number[] };
      if (x.dtype !== 'float32') return null;
      return output(
        be,
        x.shape.map((d, i) => d * reps[i]!),
        tile(be.typedArrayFromHeap(x), x.shape, reps),
      );
    }),
    withFallback(tf.MaxPoolGrad, ({ inputs, attrs }, be) => {
      const { dy, input } = inputs as { dy: tf.TensorInfo; input: tf.TensorInfo };
      const a = attrs as unknown as {
        filterSize: number | [number, number];
        strides: number | [number, number];
        pad: 'same' | 'valid' | number;
        dimRoundingMode?: 'floor' | 'round' | 'ceil';
      };
      const info = tf.backend_util.computePool2DInfo(
        input.shape as [number, number, number, number],
        a.filterSize,
        a.strides,
        1,
        a.pad,
        a.dimRoundingMode,
      );
      const dx = maxPoolGrad(be.typedArrayFromHeap(input), be.typedArrayFromHeap(dy), {
        batch: info.batchSize,
        inH: info.inHeight,
        inW: info.inWidth,
        C: info.inChannels,
        outH: info.outHeight,
        outW: info.outWidth,
        kH: info.filterHeight,
        kW: info.filterWidth,
        strideH: info.strideHeight,
        strideW: info.strideWidth,
        padH: info.padInfo.top,
        padW: info.padInfo.left,
      });
      return output(be, input.shape, dx);
    }),
    withFallback(tf.BatchMatMul, ({ inputs, attrs }, be) => {
      const { a, b } = inputs as { a: tf.TensorInfo; b: tf.TensorInfo };
      const { transposeA, transposeB } = attrs as unknown as { transposeA: boolean; transposeB: boolean };
      const ra = a.shape.length;
      const rb = b.shape.length;
      if (a.dtype !== 'float32' || b.dtype !== 'float32' || ra !== rb || ra < 2) return null;
      const batchShape = a.shape.slice(0, -2);
      if (batchShape.some((d, i) => d !== b.shape[i])) return null;
      const batch = batchShape.reduce((p, d) => p * d, 1);
      const [M, K] = transposeA ? [a.shape[ra - 1]!, a.shape[ra - 2]!] : [a.shape[ra - 2]!, a.shape[ra - 1]!];
      const N = transposeB ? b.shape[rb - 2]! : b.shape[rb - 1]!;
      const values = batchMatMul(
        be.typedArrayFromHeap(a),
        be.typedArrayFromHeap(b),
        batch,
        M,
        K,
        N,
        transposeA,
        transposeB,
      );
      return output(be, [...batchShape, M, N], values);
    }),
    reduction(tf.Sum, false),
    reduction(tf.Mean, true),
  ];
  return list.filter((k): k is tf.KernelConfig => k !== null);
}

/** Kiln's fused training-mode batch norm (kernels/batch-norm.ts): inputs x, gamma, beta; outputs y, mean, variance. */
export const BATCH_NORM_TRAIN = 'KilnBatchNormTrain';
const BATCH_NORM_TRAIN_GRAD = 'KilnBatchNormTrainGrad';

const KERNELS: tf.KernelConfig[] = [
  {
    kernelName: BATCH_NORM_TRAIN,
    backendName: 'wasm',
    kernelFunc: ({ inputs, attrs, backend }) => {
      const be = backend as unknown as WasmBackend;
      const { x, gamma, beta } = inputs as { x: tf.TensorInfo; gamma: tf.TensorInfo; beta: tf.TensorInfo };
      const { epsilon } = attrs as unknown as { epsilon: number };
      const f = batchNormTrain(
        be.typedArrayFromHeap(x),
        be.typedArrayFromHeap(gamma),
        be.typedArrayFromHeap(beta),
        epsilon,
      );
      return [output(be, x.shape, f.y), output(be, gamma.shape, f.mean), output(be, gamma.shape, f.variance)];
    },
  },
  {
    kernelName: BATCH_NORM_TRAIN_GRAD,
    backendName: 'wasm',
    kernelFunc: ({ inputs, attrs, backend }) => {
      const be = backend as unknown as WasmBackend;
      const { dy, x, gamma, mean, variance } = inputs as Record<string, tf.TensorInfo>;
      const { epsilon } = attrs as unknown as { epsilon: number };
      const heap = (t: tf.TensorInfo | undefined): Float32Array => be.typedArrayFromHeap(t!);
      const g = batchNormTrainGrad(heap(dy), heap(x), heap(gamma), heap(mean), heap(variance), epsilon);
      return [output(be, x!.shape, g.dx), output(be, gamma!.shape, g.dgamma), output(be, gamma!.shape, g.dbeta)];
    },
  },
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

/**
 * The gradient of BATCH_NORM_TRAIN for x, gamma and beta. Its mean and variance outputs carry no gradient: they only
 * feed the layer's moving averages, never the loss.
 */
const BATCH_NORM_TRAIN_GRADIENT: tf.GradConfig = {
  kernelName: BATCH_NORM_TRAIN,
  inputsToSave: ['x', 'gamma'],
  outputsToSave: [false, true, true],
  gradFunc: (dys, saved, attrs) => {
    const dy = Array.isArray(dys) ? dys[0]! : dys;
    const [x, gamma, mean, variance] = saved as [tf.Tensor, tf.Tensor, tf.Tensor, tf.Tensor];
    const [dx, dgamma, dbeta] = tf
      .engine()
      .runKernel(BATCH_NORM_TRAIN_GRAD, { dy, x, gamma, mean, variance }, attrs) as tf.Tensor[];
    return { x: () => dx!, gamma: () => dgamma!, beta: () => dbeta! };
  },
};

let registered = false;

/** Selects tfjs's WebAssembly backend with Kiln's training kernels registered (registration happens once). */
export async function useTrainingBackend(): Promise<void> {
  if (!registered) {
    for (const k of [...KERNELS, ...fastKernels()]) {
      if (tf.getKernel(k.kernelName, 'wasm')) tf.unregisterKernel(k.kernelName, 'wasm');
      tf.registerKernel(k);
    }
    tf.registerGradient(BATCH_NORM_TRAIN_GRADIENT);
    registered = true;
  }
  if (!(await tf.setBackend('wasm'))) throw new Error('tfjs WebAssembly backend failed to initialise');
  await tf.ready();
}
