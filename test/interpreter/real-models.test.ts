import test from 'ava';
import { readFileSync } from 'node:fs';
import { fromTflite } from '../../shared/toolchain/ir/from-tflite.js';
import { readTflite } from '../../shared/toolchain/tflite/reader.js';
import { haveModels, modelPath } from '../helpers/models.js';
import { expectSameAsTflite } from './oracle-compare.js';

// Every CPU (non-compiled) model of ../shared/models, 5 deterministic inputs each, all output bytes equal to TFLite's.
const MODELS = [
  'split_concat',
  'tflm_hello_world_float',
  'tflm_hello_world_int8',
  'ssd_mobilenet_v1_coco_quant_postprocess_head_layers',
  'mobilenet_v1_0.25_128_quant',
  'mobilenet_edgetpu_0.75_224_post_training_quant',
  'deeplabv3_mnv2_dm05_pascal_quant',
  'traffic_model',
];

for (const name of MODELS) {
  (haveModels ? test : test.skip)(`${name}: bit-exact with the TFLite runtime on 5 inputs`, async (t) => {
    const bytes = new Uint8Array(readFileSync(modelPath(`${name}.tflite`)));
    await expectSameAsTflite(t, fromTflite(readTflite(bytes)), { bytes, seeds: [1, 2, 3, 4, 5] });
  });
}
