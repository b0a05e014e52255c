import type { IrModel } from '../../ir/model.js';
import { densenet121 } from './densenet121.js';
import { efficientnetEdgeTpuS } from './efficientnet-edgetpu.js';
import { inceptionV1 } from './inception-v1.js';
import { inceptionV4 } from './inception-v4.js';
import { mobilenetV1 } from './mobilenet-v1.js';
import { mobilenetV2 } from './mobilenet-v2.js';
import { resnet50 } from './resnet50.js';
import { squeezenet } from './squeezenet.js';
import { ssdMobilenetV1 } from './ssd-mobilenet-v1.js';
import { vgg16 } from './vgg16.js';

export interface Architecture {
  /** The model's name as Coral's benchmark table spells it (docs/specs/edgetpu-compiler.md §10.3). */
  model: string;
  /** Input resolution the table uses. */
  size: number;
  build: () => IrModel;
}

/** The published architectures Kiln rebuilds (docs/specs/edgetpu-compiler.md §10.3), in the table's order. */
export const ARCHITECTURES: readonly Architecture[] = [
  { model: 'DenseNet', size: 224, build: () => densenet121(224) },
  { model: 'Inception v1', size: 224, build: () => inceptionV1(224) },
  { model: 'Inception v4', size: 299, build: () => inceptionV4(299) },
  { model: 'MobileNet v1', size: 224, build: () => mobilenetV1(224) },
  { model: 'MobileNet v2', size: 224, build: () => mobilenetV2(224) },
  { model: 'MobileNet v1 SSD', size: 224, build: () => ssdMobilenetV1(224) },
  { model: 'ResNet-50 V1', size: 299, build: () => resnet50(299) },
  { model: 'SqueezeNet', size: 224, build: () => squeezenet(224) },
  { model: 'VGG16', size: 224, build: () => vgg16(224) },
  { model: 'EfficientNet-EdgeTpu-S', size: 224, build: () => efficientnetEdgeTpuS(224) },
];
