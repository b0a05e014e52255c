import test from 'ava';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseBuildConfig } from '../../shared/pipeline/build-config.js';
import { compileCore } from '../../shared/pipeline/cores/compile.js';
import { toTfliteBytes } from '../../shared/toolchain/loaders/convert.js';
import { quantizeModel } from '../../shared/toolchain/quantize/quantize-model.js';
import { haveModels, modelPath } from '../helpers/models.js';
import { classifier, samplesOf } from '../verify/fixtures.js';

const FIX = fileURLToPath(new URL('../fixtures/edgetpu/', import.meta.url));
const unit = { key: 'default', index: 0, count: 1, params: {} };
const build = { buildId: 'b1', modelId: 'deeplab', inputUri: 'gs://u/deeplab.tflite', inputKind: 'tflite' };
const decode = (b: Uint8Array | undefined) => new TextDecoder().decode(b);

function run(env: Record<string, string | undefined>) {
  const saved = { ...process.env };
  Object.assign(process.env, env);
  for (const [k, v] of Object.entries(env)) if (v === undefined) delete process.env[k];
  const artifacts = new Map([
    ['model.int8.tflite', new Uint8Array(readFileSync(modelPath('deeplabv3_mnv2_dm05_pascal_quant.tflite')))],
  ]);
  return compileCore({ artifacts, config: parseBuildConfig({}, 8), unit, build } as never).finally(() => {
    process.env = saved;
  });
}

// One test at a time: the core reads the compiler from the process environment, as the deployed function does.
(haveModels ? test.serial : test.skip)(
  'the compile stage runs the real compiler when one is installed and keeps its binary and log',
  async (t) => {
    const out = await run({
      KILN_EDGETPU_COMPILER: join(FIX, 'fake-edgetpu-compiler.mjs'),
      PATH: dirname(process.execPath),
      FAKE_EDGETPU_CONSOLE: join(FIX, 'console-deeplab.txt'),
      FAKE_EDGETPU_LOG: join(FIX, 'log-deeplab.txt'),
      FAKE_EDGETPU_COMPILED: modelPath('deeplabv3_mnv2_dm05_pascal_quant_edgetpu.tflite'),
    });
    t.deepEqual(Object.keys(out.artifacts).sort(), ['compile-report.json', 'compile.log', 'model.int8_edgetpu.tflite']);
    t.deepEqual(
      out.artifacts['model.int8_edgetpu.tflite'],
      new Uint8Array(readFileSync(modelPath('deeplabv3_mnv2_dm05_pascal_quant_edgetpu.tflite'))),
    );
    const report = JSON.parse(decode(out.artifacts['compile-report.json']));
    t.is(report.compiler.kind, 'edgetpu_compiler');
    t.is(report.cpuOperations, 8);
    t.true(Array.isArray(report.prediction.defects));
    t.regex(decode(out.artifacts['compile.log']), /^Edge TPU Compiler version 16\.0\.384591198\nInput: /);
    t.is(out.summary['compiler'] && (out.summary['compiler'] as { kind: string }).kind, 'edgetpu_compiler');
  },
);

(haveModels ? test.serial : test.skip)(
  "without the real compiler the compile stage writes Kiln's prediction and no Edge TPU binary",
  async (t) => {
    const out = await run({ KILN_EDGETPU_COMPILER: undefined, PATH: dirname(process.execPath) });
    t.deepEqual(Object.keys(out.artifacts).sort(), ['compile-report.json', 'compile.log']);
    const report = JSON.parse(decode(out.artifacts['compile-report.json']));
    t.is(report.compiler.kind, 'kiln-model');
    t.is(report.edgeTpuOperations, 64);
    const log = decode(out.artifacts['compile.log']).split('\n');
    t.is(
      log[0],
      "Kiln's prediction of Edge TPU Compiler version 16.0.384591198 (the real edgetpu_compiler did not run)",
    );
    t.is(log[1], 'Input: model.int8.tflite');
    t.is(log[2], 'Output: none (a prediction writes no compiled model; run edgetpu_compiler for one)');
    t.false(
      log.some((l) => l.includes('_edgetpu.tflite')),
      'names no compiled file, none was written',
    );
  },
);

test.serial(
  'the predicted compile.log of a fixture model: marker line, input, no output file, the op table',
  async (t) => {
    const saved = { ...process.env };
    delete process.env['KILN_EDGETPU_COMPILER'];
    process.env['PATH'] = dirname(process.execPath);
    try {
      const float = classifier();
      const q = await quantizeModel(float, { samples: samplesOf(8, 1), debugSamples: 0 });
      const out = await compileCore({
        artifacts: new Map([['model.int8.tflite', toTfliteBytes(q.model)]]),
        config: parseBuildConfig({}, 8),
        unit,
        build,
      } as never);
      t.deepEqual(Object.keys(out.artifacts).sort(), ['compile-report.json', 'compile.log']);
      const text = decode(out.artifacts['compile.log']);
      t.regex(
        text,
        /^Kiln's prediction of Edge TPU Compiler version 16\.0\.384591198 \(the real edgetpu_compiler did not run\)\n/,
      );
      t.notRegex(text, /^Edge TPU Compiler version/m);
      t.regex(text, /\nOutput: none \(/);
      t.regex(text, /\nCONV_2D {24}1 {10}Mapped to Edge TPU\n/);
    } finally {
      process.env = saved;
    }
  },
);
