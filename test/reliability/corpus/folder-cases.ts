import { writeZip } from '../../loaders/helpers/archives.js';
import type { BadInput } from './types.js';
import { goodTflite } from './tflite-models.js';
import { garbage, oneFile, writeFiles } from './write.js';

const json = (v: unknown) => JSON.stringify(v);
const layersModel = (paths: string[]) =>
  json({
    format: 'layers-model',
    modelTopology: {
      class_name: 'Sequential',
      config: {
        name: 'seq',
        layers: [{ class_name: 'Dense', config: { name: 'd', units: 2, batch_input_shape: [null, 3] } }],
      },
    },
    weightsManifest: [
      {
        paths,
        weights: [
          { name: 'd/kernel', shape: [3, 2], dtype: 'float32' },
          { name: 'd/bias', shape: [2], dtype: 'float32' },
        ],
      },
    ],
  });

/** Folder uploads, build configs, wrong extensions and limits. */
export const FOLDER_CASES: BadInput[] = [
  {
    name: 'tfjs-weights-dotdot',
    what: 'a TF.js model.json whose weight path is ../../secret.bin',
    write: (dir) =>
      writeFiles(
        dir,
        { 'tfjs/model.json': layersModel(['../../secret.bin']), 'secret.bin': new Uint8Array(32) },
        'tfjs',
      ),
    expect: /\.\.|outside|unsafe|path/i,
  },
  {
    name: 'tfjs-weights-absolute',
    what: 'a TF.js model.json whose weight path is /etc/passwd',
    write: (dir) => writeFiles(dir, { 'tfjs/model.json': layersModel(['/etc/passwd']) }, 'tfjs'),
    expect: /absolute|unsafe|path|not found|no such/i,
  },
  {
    name: 'tfjs-weights-missing',
    what: 'a TF.js model.json whose weight shard is absent',
    write: (dir) => writeFiles(dir, { 'tfjs/model.json': layersModel(['group1-shard1of1.bin']) }, 'tfjs'),
    expect: /group1-shard1of1\.bin/,
  },
  {
    name: 'tfjs-model-json-invalid',
    what: 'a model.json that is not JSON',
    write: (dir) => writeFiles(dir, { 'tfjs/model.json': '{"format": "layers-model", ' }, 'tfjs'),
    expect: /no model found/,
  },
  {
    name: 'kiln-json-only',
    what: 'a folder with a kiln.json and no model',
    write: (dir) => writeFiles(dir, { 'f/kiln.json': json({ model: 'model.tflite' }) }, 'f'),
    expect: /no files|no model/i,
  },
  {
    name: 'kiln-json-names-missing-model',
    what: 'a kiln.json naming model.tflite in a folder holding only notes.txt',
    write: (dir) => writeFiles(dir, { 'f/kiln.json': json({ model: 'model.tflite' }), 'f/notes.txt': 'hi' }, 'f'),
    expect: /model/i,
  },
  {
    name: 'kiln-json-invalid',
    what: 'a kiln.json that is not JSON',
    write: (dir) => writeFiles(dir, { 'm.tflite': goodTflite(), 'm.kiln.json': '{compile:' }, 'm.tflite'),
    expect: /not valid JSON/,
  },
  {
    name: 'kiln-json-unknown-field',
    what: 'a compile target with an unknown field',
    write: (dir) =>
      writeFiles(
        dir,
        { 'm.tflite': goodTflite(), 'm.kiln.json': json({ compile: { targets: [{ speed: 'max' }] } }) },
        'm.tflite',
      ),
    expect: /not a valid build config/,
  },
  {
    name: 'kiln-json-fanout',
    what: 'a kiln.json asking for 40 verify shards',
    write: (dir) =>
      writeFiles(dir, { 'm.tflite': goodTflite(), 'm.kiln.json': json({ verify: { shards: 40 } }) }, 'm.tflite'),
    expect: /40 verify shards; the limit is/,
  },
  {
    name: 'savedmodel-garbage',
    what: 'a SavedModel folder whose saved_model.pb is random bytes',
    write: (dir) => writeFiles(dir, { 'sm/saved_model.pb': garbage(2048, 5) }, 'sm'),
    expect: /E_|saved|proto|model/i,
  },
  {
    name: 'h5-garbage',
    what: 'an .h5 with the HDF5 signature followed by random bytes',
    write: oneFile('m.h5', () => {
      const b = garbage(4096, 6);
      b.set([0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a], 0);
      return b;
    }),
    expect: /is not a readable HDF5 file/,
  },
  {
    name: 'wrong-extension-txt',
    what: 'a model named m.txt',
    write: oneFile('m.txt', () => goodTflite()),
    expect: /not a model file Kiln builds/,
  },
  {
    name: 'wrong-extension-h5',
    what: 'a .tflite renamed to .h5',
    write: oneFile('m.h5', () => goodTflite()),
    expect: /not an HDF5 file/,
  },
  {
    name: 'wrong-extension-zip',
    what: 'a .tflite renamed to .zip',
    write: oneFile('m.zip', () => goodTflite()),
    expect: /not a zip archive/,
  },
  {
    name: 'oversized-upload',
    what: 'a 300 KiB upload with KILN_MAX_UPLOAD_BYTES=100000',
    write: oneFile('m.zip', zipWithPadding),
    expect: /upload size in bytes is \d+; the limit is 100000 \(KILN_MAX_UPLOAD_BYTES\)/,
    env: { KILN_MAX_UPLOAD_BYTES: '100000' },
  },
  {
    name: 'too-many-parameters',
    what: 'the tiny CNN (189 parameters: weights, biases and the reshape shape) with KILN_MAX_PARAMETERS=100',
    write: oneFile('m.tflite', () => goodTflite()),
    expect: /number of model parameters is 189; the limit is 100 \(KILN_MAX_PARAMETERS\)/,
    env: { KILN_MAX_PARAMETERS: '100' },
  },
  {
    name: 'too-many-calibration-images',
    what: 'a folder with a model and 5 calibration images, KILN_MAX_CALIBRATION_IMAGES=3',
    write: (dir) =>
      writeFiles(
        dir,
        {
          'f/model.tflite': goodTflite(),
          'f/kiln.json': '{}',
          ...Object.fromEntries([1, 2, 3, 4, 5].map((i) => [`f/calibration/img${i}.png`, garbage(64, i)])),
        },
        'f',
      ),
    expect: /calibration images in the upload is 5; the limit is 3 \(KILN_MAX_CALIBRATION_IMAGES\)/,
    env: { KILN_MAX_CALIBRATION_IMAGES: '3' },
  },
];

/** A valid zip: the model plus 300 KiB of stored padding. */
function zipWithPadding(): Uint8Array {
  return writeZip([
    { name: 'model.tflite', data: goodTflite() },
    { name: 'padding.bin', data: garbage(300 * 1024, 7) },
  ]);
}
