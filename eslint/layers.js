/**
 * The layers of shared/, lowest first, and what each may import. The lint rule `kiln/import-layers`
 * (eslint/import-layers.js) checks every relative import of a file under shared/ against this table: a layer imports
 * only the layers it names (and itself). Code outside shared/ (functions, emulators, deploy, scripts, bench, test)
 * sits above every layer and may import any of them; no file of shared/ may import it.
 * docs/architecture.md draws this table.
 */
const TOOLCHAIN_BASE = ['common'];
export const LAYERS = [
  { name: 'common', dir: 'shared/common', mayImport: [], role: 'errors, worker start-up, small helpers' },
  { name: 'ops', dir: 'shared/toolchain/ops', mayImport: [...TOOLCHAIN_BASE], role: 'the op catalog (pure data)' },
  {
    name: 'tflite',
    dir: 'shared/toolchain/tflite',
    mayImport: ['ops', ...TOOLCHAIN_BASE],
    role: 'TFLite flatbuffer and DarwiNN package formats',
  },
  {
    name: 'ir',
    dir: 'shared/toolchain/ir',
    mayImport: ['tflite', 'ops', ...TOOLCHAIN_BASE],
    role: 'graph IR, shape inference, TFLite read/write',
  },
  { name: 'npy', dir: 'shared/toolchain/npy', mayImport: ['ir', ...TOOLCHAIN_BASE], role: 'NumPy .npy files' },
  {
    name: 'runtime',
    dir: 'shared/toolchain/runtime',
    mayImport: ['tflite', ...TOOLCHAIN_BASE],
    role: 'the TensorFlow Lite runtime in a child process',
  },
  {
    name: 'interpreter',
    dir: 'shared/toolchain/interpreter',
    mayImport: ['ir', 'tflite', 'ops', ...TOOLCHAIN_BASE],
    role: "Kiln's TFLite interpreter and WASM kernels",
  },
  {
    name: 'data',
    dir: 'shared/toolchain/data',
    mayImport: ['ir', 'tflite', 'npy', 'interpreter', ...TOOLCHAIN_BASE],
    role: 'calibration, validation and training data',
  },
  {
    name: 'loaders',
    dir: 'shared/toolchain/loaders',
    mayImport: ['ir', 'tflite', 'ops', 'npy', ...TOOLCHAIN_BASE],
    role: 'front ends: Keras, SavedModel, GraphDef, TF.js, ONNX, TFLite',
  },
  {
    name: 'edgetpu',
    dir: 'shared/toolchain/edgetpu',
    mayImport: ['ir', 'tflite', 'ops', ...TOOLCHAIN_BASE],
    role: 'the Edge TPU compiler model and the real compiler runner',
  },
  {
    name: 'quantize',
    dir: 'shared/toolchain/quantize',
    mayImport: ['ir', 'tflite', 'ops', 'npy', 'interpreter', 'runtime', 'data', ...TOOLCHAIN_BASE],
    role: 'calibration and full-int8 quantization passes',
  },
  {
    name: 'verify',
    dir: 'shared/toolchain/verify',
    mayImport: [
      'ir',
      'tflite',
      'ops',
      'npy',
      'interpreter',
      'runtime',
      'data',
      'quantize',
      'edgetpu',
      ...TOOLCHAIN_BASE,
    ],
    role: 'accuracy, latency estimates, the report',
  },
  {
    name: 'train',
    dir: 'shared/toolchain/train',
    mayImport: [
      'ir',
      'tflite',
      'ops',
      'npy',
      'interpreter',
      'runtime',
      'data',
      'loaders',
      'quantize',
      'edgetpu',
      ...TOOLCHAIN_BASE,
      'verify',
    ],
    role: 'transfer learning and CNN training',
  },
  {
    name: 'samples',
    dir: 'shared/toolchain/samples',
    mayImport: ['ir', 'tflite', 'loaders', ...TOOLCHAIN_BASE],
    role: 'bundled sample models',
  },
  {
    name: 'pipeline',
    dir: 'shared/pipeline',
    mayImport: ['toolchain', 'common'],
    role: 'stage table, build state machine, ports, cores',
  },
  {
    name: 'cloud',
    dir: 'shared/cloud',
    mayImport: ['pipeline', 'toolchain', 'common'],
    role: 'Firestore, Pub/Sub and Storage adapters',
  },
  {
    name: 'results',
    dir: 'shared/results',
    mayImport: ['cloud', 'pipeline', 'toolchain', 'common'],
    role: 'the results page server',
  },
  {
    name: 'cli',
    dir: 'shared/cli',
    mayImport: ['results', 'cloud', 'pipeline', 'toolchain', 'common'],
    role: 'the kiln command',
  },
];

/** `toolchain` in a mayImport list names every layer under shared/toolchain/. */
export const GROUPS = { toolchain: LAYERS.filter((l) => l.dir.startsWith('shared/toolchain/')).map((l) => l.name) };
