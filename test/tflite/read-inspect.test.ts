import test from 'ava';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { inspectModel } from '../../shared/toolchain/edgetpu/inspect.js';
import { readTflite } from '../../shared/toolchain/tflite/reader.js';
import { MODELS_DIR, haveModels, modelPath, tfliteFiles } from '../helpers/models.js';

const maybe = haveModels ? test : test.skip;

function inspectFile(name: string) {
  const bytes = readFileSync(modelPath(name));
  return inspectModel(readTflite(bytes), bytes.length);
}

/** Facts the models README states about op counts and compiled layouts. */
function readmeFacts() {
  const text = readFileSync(join(MODELS_DIR, 'README.md'), 'utf8');
  const rows = text.split('\n').filter((l) => l.startsWith('| `'));
  const total = new Map<string, number>();
  const cpuLeft = new Map<string, string[]>();
  for (const row of rows) {
    const cells = row.split('|').map((c) => c.trim());
    const file = /`([^`]+\.tflite)`/.exec(cells[1]!)?.[1];
    if (!file) continue;
    // Ground-truth table: | pair | CPU-model ops | mapped | left on CPU | custom op count |
    if (cells.length === 7 && /^\d+$/.test(cells[2]!)) total.set(file, Number(cells[2]));
    if (cells.length === 7 && cells[4] !== undefined) {
      const left = cells[4] === '(none)' ? [] : cells[4]!.split(',').map((s) => s.trim());
      const compiled = file.endsWith('_edgetpu.tflite') ? file : file.replace(/\.tflite$/, '_edgetpu.tflite');
      cpuLeft.set(compiled, ['CUSTOM:edgetpu-custom-op', ...left]);
    }
    // Origins table: "(79 ops: …)", "185 ops".
    const n = /\b(\d+) ops\b/.exec(row)?.[1];
    if (n && !total.has(file)) total.set(file, Number(n));
  }
  return { total, cpuLeft };
}

maybe('every .tflite in ../shared/models reads and inspects', (t) => {
  const files = tfliteFiles();
  t.true(files.length >= 13);
  for (const f of files) {
    const r = inspectFile(f);
    t.true(r.subgraphs[0]!.operators.length > 0, f);
    t.is(r.edgeTpu.compiled, f.endsWith('_edgetpu.tflite'), f);
  }
});

maybe('inspect op counts equal the models README', (t) => {
  const { total, cpuLeft } = readmeFacts();
  t.true(total.size >= 5, 'README facts parsed');
  for (const [file, n] of total) t.is(inspectFile(file).subgraphs[0]!.operators.length, n, file);
  t.true(cpuLeft.size >= 5);
  for (const [file, ops] of cpuLeft) {
    t.deepEqual(
      inspectFile(file).subgraphs[0]!.operators.map((o) => o.opcode),
      ops,
      file,
    );
  }
});

maybe('inspect reports the op histogram, I/O quantization and the Edge TPU package', (t) => {
  const r = inspectFile('ssd_mobilenet_v1_coco_quant_postprocess_head_layers.tflite');
  t.deepEqual(r.subgraphs[0]!.opHistogram, {
    RESHAPE: 13,
    CONCATENATION: 2,
    LOGISTIC: 1,
    'CUSTOM:TFLite_Detection_PostProcess': 1,
  });
  const mnv1 = inspectFile('mobilenet_v1_0.25_128_quant.tflite');
  t.deepEqual(mnv1.subgraphs[0]!.inputs[0]!.shape, [1, 128, 128, 3]);
  t.is(mnv1.subgraphs[0]!.inputs[0]!.dtype, 'uint8');
  t.truthy(mnv1.subgraphs[0]!.inputs[0]!.quantization);
  t.true(mnv1.parameters.count > 400_000 && mnv1.parameters.count < 500_000, String(mnv1.parameters.count));
  const compiled = inspectFile('mobilenet_v1_0.25_128_quant_edgetpu.tflite');
  const op = compiled.edgeTpu.customOps[0]!;
  t.is(op.packageIdentifier, 'DWN1');
  t.is(op.packageBytes % 4096, 0);
  t.true(op.minRuntimeVersion !== null && op.minRuntimeVersion >= 10 && op.minRuntimeVersion <= 14);
  // docs/specs/edgetpu-compiler.md §8: MobileNet v1 0.25/128 compiles to 566,912 cached parameter bytes, nothing streamed.
  t.deepEqual(op.executables, ['EXECUTION_ONLY', 'PARAMETER_CACHING']);
  t.is(op.cachedParameterBytes, 566_912);
  t.is(op.streamedParameterBytes, 0);
  for (const f of [
    'mobilenet_edgetpu_0.75_224_post_training_quant_edgetpu.tflite',
    'deeplabv3_mnv2_dm05_pascal_quant_edgetpu.tflite',
  ]) {
    const pkg = inspectFile(f).edgeTpu.customOps[0]!;
    t.is(pkg.packageIdentifier, 'DWN1', f);
    t.true((pkg.cachedParameterBytes ?? 0) > 500_000, f);
  }
});
