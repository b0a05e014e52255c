import test from 'ava';
import { readFileSync } from 'node:fs';
import { compileModel } from '../../shared/toolchain/edgetpu/compile-model.js';
import { compiledSummary } from '../../shared/toolchain/edgetpu/diff.js';
import { packagesOf, parameterBytes } from '../../shared/toolchain/tflite/dwn1.js';
import { inputLayerBytes, outputLayerBytes } from '../../shared/toolchain/edgetpu/memory.js';
import { parseLog } from '../../shared/toolchain/edgetpu/log-parser.js';
import { PREDICTED_OUTPUT, renderConsole, renderLog } from '../../shared/toolchain/edgetpu/render.js';
import { ALL_STATUSES, formatSize, LINES } from '../../shared/toolchain/edgetpu/strings.js';
import { readTflite } from '../../shared/toolchain/tflite/reader.js';
import { haveModels, modelPath } from '../helpers/models.js';

const PAIRS = [
  'mobilenet_v1_0.25_128_quant',
  'mobilenet_edgetpu_0.75_224_post_training_quant',
  'deeplabv3_mnv2_dm05_pascal_quant',
  'split_concat',
];
const SSD = 'ssd_mobilenet_v1_coco_quant_postprocess_segment_3_of_4_edgetpu';
const t_ = haveModels ? test : test.skip;
const read = (name: string) => new Uint8Array(readFileSync(modelPath(`${name}.tflite`)));
const predict = (name: string, o = {}) => compileModel([{ path: `${name}.tflite`, bytes: read(name) }], o);

/** The docs/specs/edgetpu-compiler.md §6.4 layout, line by line. */
function checkLog(t: import('ava').ExecutionContext, text: string, input: string, totalOps: number) {
  t.true(text.endsWith('\n'));
  const lines = text.slice(0, -1).split('\n');
  t.is(lines[0], 'Edge TPU Compiler version 16.0.384591198');
  t.is(lines[1], `Input: ${input}`);
  t.is(lines[2], `Output: ${input.replace(/\.tflite$/, '_edgetpu.tflite')}`);
  t.is(lines[3], '');
  t.is(lines[4], 'Operator                       Count      Status');
  t.is(lines[4]!.indexOf('Count'), 31);
  t.is(lines[4]!.indexOf('Status'), 42);
  t.is(lines[5], '');
  let sum = 0;
  for (const row of lines.slice(6)) {
    t.regex(row.slice(0, 31), /^[A-Z0-9_]+ +$/, row);
    t.regex(row.slice(31, 42), /^\d+ +$/, row);
    t.true((ALL_STATUSES as readonly string[]).includes(row.slice(42)), row);
    sum += Number(row.slice(31, 42));
  }
  t.is(sum, totalOps);
}

/** A predicted log is the compiler's text but for its first line (Kiln's marker) and an output line naming no file. */
function checkPredictedLog(t: import('ava').ExecutionContext, predicted: string, asCompiler: string) {
  const p = predicted.split('\n');
  const c = asCompiler.split('\n');
  t.is(p[0], "Kiln's prediction of Edge TPU Compiler version 16.0.384591198 (the real edgetpu_compiler did not run)");
  t.is(p[2], `Output: ${PREDICTED_OUTPUT}`);
  t.notRegex(p[2]!, /\.tflite/);
  t.deepEqual([p[1], ...p.slice(3)], [c[1], ...c.slice(3)]);
  t.is(parseLog(predicted).version, '16.0.384591198');
  t.deepEqual(parseLog(predicted).rows, parseLog(asCompiler).rows);
}

for (const name of [...PAIRS, SSD]) {
  t_(
    `${name}: the CPU ops and the number of Edge TPU subgraphs equal the real compiled file; the log follows docs/specs/edgetpu-compiler.md §6`,
    (t) => {
      const res = predict(name);
      const m = res.models[0]!;
      t.true(res.ok);
      const compiledName = name.endsWith('_edgetpu') ? name : `${name}_edgetpu`;
      const real = compiledSummary(readTflite(read(compiledName)));
      t.deepEqual(
        m.operations.filter((o) => !o.onEdgeTpu).map((o) => o.opcode),
        real.cpuOps,
      );
      t.is(m.numEdgeTpuSubgraphs, real.numEdgeTpuSubgraphs);
      t.is(m.tpuOps + m.cpuOps, m.totalOps);
      for (const op of m.operations.filter((o) => !o.onEdgeTpu))
        t.true((op.fix ?? '').length > 0, `op ${op.index} has no fix`);
      checkLog(t, renderLog(m, undefined, { asCompiler: true }), `${name}.tflite`, m.totalOps);
      checkPredictedLog(t, renderLog(m), renderLog(m, undefined, { asCompiler: true }));
    },
  );
}

t_(
  'the SSD segment: its CPU ops are DEQUANTIZE, DEQUANTIZE, CUSTOM:TFLite_Detection_PostProcess; memory comes from its DWN1 package',
  (t) => {
    const m = predict(SSD).models[0]!;
    t.deepEqual(
      m.operations.filter((o) => !o.onEdgeTpu).map((o) => o.opcode),
      ['DEQUANTIZE', 'DEQUANTIZE', 'CUSTOM:TFLite_Detection_PostProcess'],
    );
    t.is(m.memory.source, 'dwn1-package');
    t.is(m.memory.onChipUsedBytes, 2_183_616);
  },
);

t_('deeplab: the console has the "not all operations" block with 64/8 and the -s table at columns 0/31/42', (t) => {
  const res = predict('deeplabv3_mnv2_dm05_pascal_quant', { showOperations: true });
  const lines = renderConsole(res, 123).split('\n');
  t.is(lines[0], 'Edge TPU Compiler version 16.0.384591198');
  t.is(lines[1], 'Started a compilation timeout timer of 180 seconds.');
  t.is(lines[2], '');
  t.is(lines[3], 'Model compiled successfully in 123 ms.');
  t.is(lines[4], '');
  t.is(lines[5], 'Input model: deeplabv3_mnv2_dm05_pascal_quant.tflite');
  t.is(lines[6], `Input size: ${formatSize(760904)}`);
  t.is(lines[12], 'Number of Edge TPU subgraphs: 1');
  t.is(lines[13], 'Total number of operations: 72');
  t.is(lines[14], 'Operation log: deeplabv3_mnv2_dm05_pascal_quant_edgetpu.log');
  t.is(lines[15], '');
  t.is(lines[16], LINES.notAll);
  t.is(lines[17], 'Number of operations that will run on Edge TPU: 64');
  t.is(lines[18], 'Number of operations that will run on CPU: 8');
  t.is(lines[19], '');
  t.is(lines[20], LINES.tableHeader);
  t.is(lines.at(-3), 'Compilation child process completed within timeout period.');
  t.is(lines.at(-2), 'Compilation succeeded! ');
  const plain = renderConsole(predict('mobilenet_v1_0.25_128_quant'), 5).split('\n');
  t.is(plain[15], 'See the operation log file for individual operation details.');
});

t_("memory: Kiln's padded parameter bytes are close to the real PARAMETER_CACHING blobs", (t) => {
  const cases: [string, number, number][] = [
    ['mobilenet_v1_0.25_128_quant', 566_912, 0.01],
    ['deeplabv3_mnv2_dm05_pascal_quant', 766_720, 0.01],
    ['mobilenet_edgetpu_0.75_224_post_training_quant', 3_740_736, 0.07],
  ];
  for (const [name, realBytes, tol] of cases) {
    const pkg = packagesOf(readTflite(read(`${name}_edgetpu`)))[0]!;
    t.is(parameterBytes(pkg).cached, realBytes);
    t.is(parameterBytes(pkg).streamed, 0);
    const m = predict(name).models[0]!.memory;
    t.is(m.offChipStreamedBytes, 0);
    t.true(Math.abs(m.onChipUsedBytes - realBytes) / realBytes <= tol, `${name}: ${m.onChipUsedBytes} vs ${realBytes}`);
  }
});

t_('boundary layer sizes of every real package follow the docs/specs/edgetpu-compiler.md §5.4 padding rule', (t) => {
  for (const name of [...PAIRS.map((p) => `${p}_edgetpu`), SSD]) {
    for (const pkg of packagesOf(readTflite(read(name)))) {
      for (const e of pkg.executables) {
        for (const l of e.inputLayers) t.is(l.sizeBytes, inputLayerBytes([l.y, l.x, l.z]), `${name} ${l.name}`);
        for (const l of e.outputLayers) t.is(l.sizeBytes, outputLayerBytes([l.y, l.x, l.z]), `${name} ${l.name}`);
      }
    }
  }
});
