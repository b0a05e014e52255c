/**
 * One model replica of data-parallel training: the architecture's model and its Adam optimizer, computing the loss
 * gradients of a batch (`gradients`) and applying given gradients (`apply`). Every replica starts from the same weights
 * and applies the same averaged gradients, so the replicas' trainable weights stay identical; each keeps the batch-norm
 * moving statistics of the batches it saw. Loss and metric are Keras's sparse categorical cross-entropy (softmax output
 * clipped to [1e-7, 1 − 1e-7]) and accuracy, as `trainOnBatch` on the compiled model computes them.
 */
import * as tf from '@tensorflow/tfjs';
import { buildModel, type Architecture } from '../architecture.js';

export interface ReplicaSetup {
  architecture: Architecture;
  shape: [number, number, number];
  classes: number;
  /** Initial weights (all of the model's, in getWeights order); the model's own initialisation when absent. */
  weights?: Float32Array[];
}

export interface BatchGradients {
  /** One per trainable weight, in the model's trainableWeights order. */
  grads: Float32Array[];
  /** Σ loss over the batch's samples. */
  lossSum: number;
  correct: number;
  count: number;
}

const EPSILON = 1e-7;

export class Replica {
  readonly model: tf.LayersModel;
  private readonly optimizer = tf.train.adam(1e-3);
  private readonly vars: tf.Variable[];

  constructor(readonly setup: ReplicaSetup) {
    this.model = buildModel(setup.architecture, setup.shape, setup.classes);
    if (setup.weights) this.setWeights(setup.weights);
    this.vars = this.model.trainableWeights.map((w) => w.read() as tf.Variable);
  }

  weights(): Float32Array[] {
    return this.model.getWeights().map((w) => w.dataSync() as Float32Array);
  }

  setWeights(values: Float32Array[]): void {
    const current = this.model.getWeights();
    const tensors = values.map((v, i) => tf.tensor(v, current[i]!.shape));
    this.model.setWeights(tensors);
    tf.dispose(tensors);
  }

  /** Gradients of the mean loss over `count` images `x` (NHWC) with labels `y`. */
  gradients(x: Float32Array, y: Int32Array, count: number): BatchGradients {
    let result: BatchGradients | null = null;
    // The result leaves the scope through `result`, not as tidy's return value: tidy walks what it returns, element by
    // element for typed arrays (seconds per step for a dense layer's gradient).
    tf.tidy(() => {
      const xs = tf.tensor(x, [count, ...this.setup.shape]);
      const labels = tf.tensor1d(y, 'int32');
      let predictions: tf.Tensor | null = null;
      const { value, grads } = tf.variableGrads(() => {
        const p = this.model.apply(xs, { training: true }) as tf.Tensor;
        // Kept past variableGrads' own scope, which frees every other tensor of the forward pass.
        predictions = tf.keep(tf.argMax(p, -1));
        const picked = tf.sum(
          tf.mul(tf.oneHot(labels, this.setup.classes), tf.clipByValue(p, EPSILON, 1 - EPSILON)),
          -1,
        );
        return tf.neg(tf.mean(tf.log(picked))) as tf.Scalar;
      }, this.vars);
      const predicted = predictions!.dataSync();
      predictions!.dispose();
      let correct = 0;
      for (let i = 0; i < count; i++) if (predicted[i] === y[i]) correct++;
      result = {
        grads: this.vars.map((v) => grads[v.name]!.dataSync() as Float32Array),
        lossSum: value.dataSync()[0]! * count,
        correct,
        count,
      };
    });
    return result!;
  }

  /** One Adam step with `grads` (trainableWeights order) at `learningRate`. */
  apply(grads: Float32Array[], learningRate: number): void {
    (this.optimizer as unknown as { learningRate: number }).learningRate = learningRate;
    tf.tidy(() => {
      this.optimizer.applyGradients(this.vars.map((v, i) => ({ name: v.name, tensor: tf.tensor(grads[i]!, v.shape) })));
    });
  }

  /** Frees the optimizer's state, and the model too unless the caller keeps it. */
  dispose(keepModel = false): void {
    if (!keepModel) this.model.dispose();
    this.optimizer.dispose();
  }
}
