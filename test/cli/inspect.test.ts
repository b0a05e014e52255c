import test from 'ava';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { kiln } from '../helpers/cli.js';
import { tinyCnnTflite } from '../../shared/toolchain/samples/tiny-cnn.js';
import { haveModels, modelPath } from '../helpers/models.js';

const dir = mkdtempSync(join(tmpdir(), 'kiln-inspect-'));
const tiny = join(dir, 'tiny.tflite');
writeFileSync(tiny, tinyCnnTflite());

test('kiln inspect --json lists every operator in execution order with opcode, index and version', (t) => {
  const r = kiln(['inspect', tiny, '--json']);
  t.is(r.status, 0, r.stderr);
  const report = JSON.parse(r.stdout);
  const ops = report.subgraphs[0].operators;
  t.deepEqual(
    ops.map((o: { index: number; opcode: string; version: number }) => [o.index, o.opcode, o.version]),
    [
      [0, 'CONV_2D', 1],
      [1, 'RESHAPE', 1],
      [2, 'FULLY_CONNECTED', 1],
      [3, 'SOFTMAX', 1],
    ],
  );
  t.deepEqual(report.subgraphs[0].inputs[0], {
    index: 0,
    name: 'image',
    dtype: 'float32',
    shape: [1, 6, 6, 2],
    quantization: null,
  });
  t.is(report.parameters.count, 72 + 4 + 2 + 108 + 3);
  t.is(report.edgeTpu.compiled, false);
});

test('kiln inspect prints a readable summary', (t) => {
  const r = kiln(['inspect', tiny]);
  t.is(r.status, 0, r.stderr);
  t.regex(r.stdout, /subgraph 0: 4 ops/);
  t.regex(r.stdout, /image {2}float32\[1,6,6,2\]/);
  t.regex(r.stdout, /CONV_2D\s+1/);
  t.regex(r.stdout, /Edge TPU compiled: no/);
});

(haveModels ? test : test.skip)(
  'kiln inspect names custom ops with CUSTOM:<custom_code> and describes the Edge TPU package',
  (t) => {
    const r = kiln([
      'inspect',
      modelPath('ssd_mobilenet_v1_coco_quant_postprocess_segment_3_of_4_edgetpu.tflite'),
      '--json',
    ]);
    t.is(r.status, 0, r.stderr);
    const report = JSON.parse(r.stdout);
    t.deepEqual(
      report.subgraphs[0].operators.map((o: { opcode: string }) => o.opcode),
      ['CUSTOM:edgetpu-custom-op', 'DEQUANTIZE', 'DEQUANTIZE', 'CUSTOM:TFLite_Detection_PostProcess'],
    );
    t.true(report.edgeTpu.compiled);
    t.is(report.edgeTpu.customOps[0].packageIdentifier, 'DWN1');
    const human = kiln(['inspect', modelPath('ssd_mobilenet_v1_coco_quant_postprocess_segment_3_of_4_edgetpu.tflite')]);
    t.regex(human.stdout, /Edge TPU compiled: edgetpu-custom-op at subgraph 0 op 0/);
    t.regex(human.stdout, /custom ops: TFLite_Detection_PostProcess/);
  },
);
