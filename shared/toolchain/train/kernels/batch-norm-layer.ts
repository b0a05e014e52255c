/**
 * tfjs's BatchNormalization layer, trained through Kiln's fused batch-norm kernel (BATCH_NORM_TRAIN) where the backend
 * has it. Same weights, same moving-average update (tfjs's: biased batch variance, `momentum`), same inference path
 * and the same serialized class name, so a saved model is an ordinary Keras/TF.js BatchNormalization to every loader.
 */
import * as tf from '@tensorflow/tfjs';
import { BATCH_NORM_TRAIN } from './register.js';

type LayerArgs = Parameters<typeof tf.layers.batchNormalization>[0];
type Kwargs = Record<string, unknown>;

interface BatchNormFields {
  axis: number;
  momentum: number;
  epsilon: number;
  center: boolean;
  scale: boolean;
  gamma: tf.LayerVariable;
  beta: tf.LayerVariable;
  movingMean: tf.LayerVariable;
  movingVariance: tf.LayerVariable;
}

type BatchNormClass = new (args?: LayerArgs) => tf.layers.Layer;
const Base = Object.getPrototypeOf(tf.layers.batchNormalization({})).constructor as BatchNormClass;

class FusedBatchNormalization extends Base {
  static readonly className = 'BatchNormalization';

  override call(inputs: tf.Tensor | tf.Tensor[], kwargs: Kwargs): tf.Tensor | tf.Tensor[] {
    const self = this as unknown as BatchNormFields;
    const x = Array.isArray(inputs) ? inputs[0]! : inputs;
    const lastAxis = self.axis === -1 || self.axis === x.rank - 1;
    const fused = kwargs['training'] === true && lastAxis && self.center && self.scale && x.dtype === 'float32';
    if (!fused || !tf.getKernel(BATCH_NORM_TRAIN, tf.getBackend())) return super.call(inputs, kwargs);
    return tf.tidy(() => {
      const [y, mean, variance] = tf
        .engine()
        .runKernel(
          BATCH_NORM_TRAIN,
          { x, gamma: self.gamma.read(), beta: self.beta.read() },
          { epsilon: self.epsilon },
        ) as tf.Tensor[];
      const decay = 1 - self.momentum;
      for (const [v, batch] of [
        [self.movingMean, mean!],
        [self.movingVariance, variance!],
      ] as const) {
        tf.tidy(() => {
          const old = v.read();
          v.write(tf.sub(old, tf.mul(tf.sub(old, batch), decay)));
        });
      }
      return y!;
    });
  }
}

/** `tf.layers.batchNormalization(args)`, trained through Kiln's fused kernel. */
export function batchNormalization(args?: LayerArgs): tf.layers.Layer {
  return new FusedBatchNormalization(args);
}
