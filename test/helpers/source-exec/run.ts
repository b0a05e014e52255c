import { KilnError } from '../../../shared/common/errors.js';
import type { AnyTypedArray } from '../../../shared/toolchain/ir/dtype.js';
import { TfliteRuntime } from '../../../shared/toolchain/runtime/tflite-runtime.js';
import type { SourceModel } from '../../../shared/toolchain/loaders/source.js';
import { loadTfjs, type Tfjs } from './tfjs.js';

export interface HostValue {
  shape: number[];
  dtype: 'float32' | 'int32' | 'bool';
  data: Float32Array | Int32Array | Uint8Array;
}

type Runner = (inputs: HostValue[]) => Promise<HostValue[]>;

const toHost = async (t: import('@tensorflow/tfjs').Tensor): Promise<HostValue> => {
  const data = (await t.data()) as Float32Array | Int32Array | Uint8Array;
  return { shape: [...t.shape], dtype: t.dtype as HostValue['dtype'], data };
};

/**
 * Runs the SOURCE model — as TensorFlow would, through tfjs — for parity checks and calibration. Inputs and outputs
 * are in the converted model's order (graph models: the node names the converter fixed).
 */
export class SourceRunner {
  private constructor(
    readonly backend: string,
    private readonly runner: Runner,
    private readonly dispose: () => void,
  ) {}

  static async create(src: SourceModel): Promise<SourceRunner> {
    if (src.kind === 'tflite') {
      const rt = await TfliteRuntime.load(src.bytes);
      return new SourceRunner(
        'tflite-runtime',
        async (inputs) => {
          const outs = await rt.run(
            inputs.map((x) => new Uint8Array(x.data.buffer, x.data.byteOffset, x.data.byteLength)),
          );
          return outs.map((o) => ({
            shape: o.shape,
            dtype: 'float32' as const,
            data: new Float32Array(o.bytes.slice().buffer),
          }));
        },
        () => rt.close(),
      );
    }
    const { tf, backend } = await loadTfjs();
    if (src.kind === 'tfjs-layers') {
      const model = await tf.loadLayersModel(tf.io.fromMemory(src.artifacts as never));
      return new SourceRunner(
        backend,
        async (inputs) => {
          const xs = inputs.map((x) => tensorOf(tf, x));
          const y = model.predict(xs.length === 1 ? xs[0]! : xs);
          const ys = Array.isArray(y) ? y : [y];
          const out = await Promise.all(ys.map(toHost));
          tf.dispose([...xs, ...ys]);
          return out;
        },
        () => model.dispose(),
      );
    }
    const model = await tf.loadGraphModel(tf.io.fromMemory(src.artifacts as never));
    return new SourceRunner(
      backend,
      async (inputs) => {
        if (inputs.length !== src.inputs.length)
          throw new KilnError(
            'E_BAD_ARGUMENT',
            `the source model takes ${src.inputs.length} inputs, got ${inputs.length}`,
          );
        const feed: Record<string, import('@tensorflow/tfjs').Tensor> = {};
        src.inputs.forEach((n, i) => (feed[n] = tensorOf(tf, inputs[i]!)));
        const y = model.execute(feed, src.outputs);
        const ys = Array.isArray(y) ? y : [y];
        const out = await Promise.all(ys.map(toHost));
        tf.dispose([...Object.values(feed), ...ys]);
        return out;
      },
      () => model.dispose(),
    );
  }

  run(inputs: HostValue[]): Promise<HostValue[]> {
    return this.runner(inputs);
  }

  close(): void {
    this.dispose();
  }
}

function tensorOf(tf: Tfjs, x: HostValue): import('@tensorflow/tfjs').Tensor {
  return tf.tensor(x.data as AnyTypedArray as Float32Array, x.shape, x.dtype);
}
