import test from 'ava';
import { KilnError } from '../../shared/common/errors.js';
import { detectFormat } from '../../shared/toolchain/loaders/detect.js';
import { MemoryFiles } from '../../shared/toolchain/loaders/files.js';
import { convertOptionsFromConfig, parseInputSpecs, parseOutputNames } from '../../shared/toolchain/loaders/options.js';
import { decodeWeights } from '../../shared/toolchain/loaders/tfjs/weights.js';
import { toFloat32, toNumbers } from '../../shared/toolchain/loaders/tensor.js';

const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
const json = (v: unknown): Uint8Array => enc(JSON.stringify(v));
const files = (m: Record<string, Uint8Array>, entry?: string): MemoryFiles =>
  new MemoryFiles('upload', new Map(Object.entries(m)), entry ? 'file' : 'folder', entry);

const TFLITE = Uint8Array.from([0x18, 0, 0, 0, 0x54, 0x46, 0x4c, 0x33, 0, 0]);
const HDF5 = Uint8Array.from([0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0]);
const GRAPH = json({ format: 'graph-model', modelTopology: { node: [] }, weightsManifest: [] });
const LAYERS = json({ modelTopology: { class_name: 'Sequential', config: { layers: [] } }, weightsManifest: [] });
const MANIFEST = json([{ paths: ['w.bin'], weights: [{ name: 'w', shape: [1], dtype: 'float32' }] }]);

test('formats are told apart by content, not by file name', (t) => {
  t.is(detectFormat(files({ 'model.bin': TFLITE }, 'model.bin')).format, 'tflite');
  t.is(detectFormat(files({ 'weights.tflite': HDF5 }, 'weights.tflite')).format, 'keras-h5');
  t.is(detectFormat(files({ 'model.txt': GRAPH }, 'model.txt')).format, 'tfjs-graph');
  t.is(detectFormat(files({ 'x.json': LAYERS }, 'x.json')).format, 'tfjs-layers');
  t.is(detectFormat(files({ 'g.pb': Uint8Array.from([0x0a, 3, 0x0a, 1, 0x61]) }, 'g.pb')).format, 'frozen-graph');
  t.is(detectFormat(files({ 'm.pb': Uint8Array.from([0x08, 1, 0x12, 0]) }, 'm.pb')).format, 'savedmodel');
});

test('in folders and archives the model is found wherever it sits', (t) => {
  const sm = detectFormat(
    files({
      'export/1/saved_model.pb': enc('x'),
      'export/1/variables/variables.index': enc('y'),
      'README.md': enc('r'),
    }),
  );
  t.deepEqual(sm, { format: 'savedmodel', entry: 'export/1/saved_model.pb', base: 'export/1' });
  t.deepEqual(
    detectFormat(files({ 'm/config.json': json({}), 'm/model.weights.h5': HDF5, 'm/metadata.json': json({}) })),
    { format: 'keras-v3', entry: 'm/config.json', base: 'm' },
  );
  t.deepEqual(detectFormat(files({ 'web/model.json': GRAPH, 'web/group1-shard1of1.bin': enc('w') })), {
    format: 'tfjs-graph',
    entry: 'web/model.json',
    base: 'web',
  });
  t.is(detectFormat(files({ 'a/keras_model': HDF5 })).format, 'keras-h5');
});

test('what is not a model is refused with a reason', (t) => {
  const cases: [MemoryFiles, RegExp][] = [
    [files({ 'w.json': MANIFEST }, 'w.json'), /no model topology/],
    [files({ 'manifest.json': MANIFEST, 'w.bin': enc('w') }), /no model topology/],
    [
      files({ 'cfg.json': json({ class_name: 'Sequential', config: {} }) }, 'cfg.json'),
      /Keras model config without weights/,
    ],
    [files({ 'notes.txt': enc('hello') }, 'notes.txt'), /not a model format/],
    [files({ 'a.json': json({ hello: 1 }) }, 'a.json'), /JSON but not a model/],
    [files({ 'a/model.json': GRAPH, 'b/model.json': LAYERS }), /several models: a\/model.json, b\/model.json/],
    [files({ 'readme.md': enc('x') }), /no model found/],
  ];
  for (const [f, re] of cases) {
    const e = t.throws(() => detectFormat(f), { instanceOf: KilnError });
    t.regex(e!.message, re);
    t.is(e!.kind, 'bad-input');
  }
});

test('TF.js weights: float32, int32, bool, uint8/uint16 affine and float16 are decoded; strings are skipped over', (t) => {
  const f32 = new Float32Array([1.5, -2]);
  const half = new Uint16Array([0x3c00, 0xc000, 0x3555]); // 1, −2, ≈0.333
  const u16 = new Uint16Array([0, 65535]);
  const str = Uint8Array.from([2, 0, 0, 0, 104, 105]); // "hi"
  const shard = Uint8Array.from([
    ...new Uint8Array(f32.buffer),
    0,
    128,
    255,
    ...new Uint8Array(half.buffer),
    ...str,
    ...new Uint8Array(u16.buffer),
    1,
    0,
    ...new Uint8Array(new Int32Array([-7]).buffer),
    10,
    20,
  ]);
  const groups = [
    {
      paths: ['a.bin', 'b.bin'],
      weights: [
        { name: 'f', shape: [2], dtype: 'float32' },
        { name: 'q8', shape: [3], dtype: 'float32', quantization: { dtype: 'uint8', scale: 0.5, min: -1 } },
        { name: 'h', shape: [3], dtype: 'float32', quantization: { dtype: 'float16' } },
        { name: 's', shape: [1], dtype: 'string' },
        { name: 'q16', shape: [2], dtype: 'float32', quantization: { dtype: 'uint16', scale: 2 / 65535, min: -1 } },
        { name: 'b', shape: [2], dtype: 'bool' },
        { name: 'i', shape: [1], dtype: 'int32' },
        { name: 'qi', shape: [2], dtype: 'int32', quantization: { dtype: 'uint8', scale: 0.4, min: 1 } },
      ],
    },
  ];
  const cut = 7;
  const read = (p: string): Uint8Array | undefined =>
    p === 'a.bin' ? shard.subarray(0, cut) : p === 'b.bin' ? shard.subarray(cut) : undefined;
  const w = decodeWeights(groups, read, 'model.json');
  t.deepEqual(Array.from(toFloat32(w.get('f')!)), [1.5, -2]);
  t.deepEqual(Array.from(toFloat32(w.get('q8')!)), [-1, 63, 126.5]);
  const h = Array.from(toFloat32(w.get('h')!));
  t.deepEqual(h.slice(0, 2), [1, -2]);
  t.true(Math.abs(h[2]! - 1 / 3) < 1e-3);
  t.is(new TextDecoder().decode(w.get('s')!.strings![0]), 'hi');
  const q16 = Array.from(toFloat32(w.get('q16')!));
  t.true(Math.abs(q16[0]! + 1) < 1e-6 && Math.abs(q16[1]! - 1) < 1e-6);
  t.deepEqual(toNumbers(w.get('b')!), [1, 0]);
  t.deepEqual(toNumbers(w.get('i')!), [-7]);
  t.deepEqual(toNumbers(w.get('qi')!), [5, 9]);
  t.throws(() => decodeWeights([{ paths: ['a.bin'], weights: groups[0]!.weights }], read, 'model.json'), {
    message: /runs past the end/,
  });
  t.throws(() => decodeWeights(groups, () => undefined, 'model.json'), { message: /"a.bin" is missing/ });
});

test('--inputs / --outputs and the kiln.json convert section parse', (t) => {
  t.deepEqual(parseInputSpecs('Mfcc:1,49,10'), [{ name: 'Mfcc', shape: [1, 49, 10] }]);
  t.deepEqual(parseInputSpecs('a:1,4,b:1,8'), [
    { name: 'a', shape: [1, 4] },
    { name: 'b', shape: [1, 8] },
  ]);
  t.deepEqual(parseInputSpecs('x:0:1,2; y:3'), [
    { name: 'x:0', shape: [1, 2] },
    { name: 'y', shape: [3] },
  ]);
  t.throws(() => parseInputSpecs('a:1,-4'), { instanceOf: KilnError, message: /positive integer/ });
  t.throws(() => parseInputSpecs('1,2'), { instanceOf: KilnError });
  t.deepEqual(parseOutputNames('a, b'), ['a', 'b']);
  t.throws(() => parseOutputNames(' , '), { instanceOf: KilnError });
  t.deepEqual(
    convertOptionsFromConfig({
      inputs: [{ name: 'Mfcc', shape: [1, 49, 10] }],
      outputs: 'labels_softmax',
      signature: 's',
    }),
    {
      inputs: [{ name: 'Mfcc', shape: [1, 49, 10] }],
      outputs: ['labels_softmax'],
      signature: 's',
    },
  );
  t.deepEqual(convertOptionsFromConfig({ inputs: 'x:1,2' }), { inputs: [{ name: 'x', shape: [1, 2] }] });
  t.throws(() => convertOptionsFromConfig({ inputs: [{ name: 'x', shape: [0] }] }), { instanceOf: KilnError });
  t.throws(() => convertOptionsFromConfig([]), { instanceOf: KilnError });
});
