import test from 'ava';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { compileFiles } from '../../shared/toolchain/edgetpu/artifacts.js';
import { parseConsole, parseLog } from '../../shared/toolchain/edgetpu/log-parser.js';
import { compilerArgs, findCompiler, runCompiler } from '../../shared/toolchain/edgetpu/runner.js';
import { ERRORS, STATUS } from '../../shared/toolchain/edgetpu/strings.js';
import { haveModels, modelPath } from '../helpers/models.js';
import { opTableDoc } from '../../shared/toolchain/edgetpu/op-table-doc.js';

const FIX = fileURLToPath(new URL('../fixtures/edgetpu/', import.meta.url));
const FAKE = join(FIX, 'fake-edgetpu-compiler.mjs');
const fx = (f: string) => join(FIX, f);
const tmp = () => mkdtempSync(join(tmpdir(), 'kiln-edgetpu-'));
/** PATH with node (for the fake's shebang) but no edgetpu_compiler. */
const NODE_PATH_ONLY = dirname(process.execPath);

test('findCompiler honours KILN_EDGETPU_COMPILER and PATH; compilerArgs uses the compiler flags', (t) => {
  t.is(findCompiler({ KILN_EDGETPU_COMPILER: FAKE, PATH: '' }), FAKE);
  t.is(findCompiler({ PATH: FIX }), null); // no edgetpu_compiler there
  t.is(findCompiler({ KILN_EDGETPU_COMPILER: 'fake-edgetpu-compiler.mjs', PATH: FIX }), FAKE);
  t.deepEqual(
    compilerArgs(['m.tflite'], {
      outDir: 'o',
      minRuntime: 13,
      multipleSubgraphs: true,
      searchDelegate: true,
      delegateSearchStep: 10,
      showOperations: true,
      intermediateTensors: ['a', 'b'],
    }),
    ['-o', 'o', '-m', '13', '-a', '-i', 'a,b', '-d', '-k', '10', '-s', 'm.tflite'],
  );
});

test('the parser reads the -d transcript quoted in the spec: attempts, errors, success block', (t) => {
  const p = parseConsole(readFileSync(fx('console-search-delegate.txt'), 'utf8').replaceAll('{input}', 'm.tflite'));
  t.is(p.version, '16.0.384591198');
  t.true(p.succeeded);
  t.deepEqual(
    p.attempts.map((a) => a.ops),
    [322, 312],
  );
  t.deepEqual(p.attempts[1]!.intermediateTensors, ['StatefulPartitionedCall:0', 'StatefulPartitionedCall:1']);
  t.deepEqual(p.errors, [ERRORS.restoredPlan, ERRORS.largeActivations, 'Compilation failed!']);
  t.is(p.models[0]!.onChipUsedBytes, Math.round(3.92 * 1024 * 1024));
  t.is(p.models[0]!.cpuOps, 28);
});

test('the runner kills a compiler that hangs; a crash is reported with its line', async (t) => {
  const dir = tmp();
  const inp = join(dir, 'in.tflite');
  writeFileSync(inp, new Uint8Array([0]));
  const hung = await runCompiler(
    FAKE,
    [inp],
    {},
    { timeoutMs: 2000, env: { PATH: NODE_PATH_ONLY, FAKE_EDGETPU_SLEEP_MS: '60000' } },
  );
  t.true(hung.timedOut);
  t.is(hung.signal, 'SIGKILL');
  const crash = parseConsole(readFileSync(fx('console-crash.txt'), 'utf8'));
  t.false(crash.succeeded);
  t.deepEqual(crash.errors, [ERRORS.crash, 'Compilation failed!']);
});

(haveModels ? test : test.skip)(
  'with the (fake) real compiler: its log and binary are kept, the report comes from them, mismatches are defects',
  async (t) => {
    const dir = tmp();
    const model = join(dir, 'deeplabv3_mnv2_dm05_pascal_quant.tflite');
    copyFileSync(modelPath('deeplabv3_mnv2_dm05_pascal_quant.tflite'), model);
    const env = {
      PATH: NODE_PATH_ONLY,
      KILN_EDGETPU_COMPILER: FAKE,
      FAKE_EDGETPU_CONSOLE: fx('console-deeplab.txt'),
      FAKE_EDGETPU_LOG: fx('log-deeplab.txt'),
      FAKE_EDGETPU_COMPILED: modelPath('deeplabv3_mnv2_dm05_pascal_quant_edgetpu.tflite'),
      FAKE_EDGETPU_ARGS_OUT: join(dir, 'args.json'),
    };
    try {
      const res = await compileFiles([model], { outDir: join(dir, 'out'), env });
      const r = res.report;
      t.is(r.compiler.kind, 'edgetpu_compiler');
      t.is(r.compiler.version, '16.0.384591198');
      t.is(r.status, 'ok');
      t.is(r.numEdgeTpuSubgraphs, 1);
      t.is(r.cpuOperations, 8);
      t.is(r.memory.source, 'edgetpu_compiler');
      t.is(r.memory.onChipUsedBytes, 766_720);
      t.deepEqual(r.edgeTpuBinary.paths, [join(dir, 'out', 'deeplabv3_mnv2_dm05_pascal_quant_edgetpu.tflite')]);
      t.true(existsSync(r.edgeTpuBinary.paths[0]!));
      t.deepEqual(
        r.operations.filter((o) => !o.onEdgeTpu).map((o) => o.opcode),
        [
          'RESIZE_BILINEAR',
          'QUANTIZE',
          'CONCATENATION',
          'CONV_2D',
          'CONV_2D',
          'RESIZE_BILINEAR',
          'RESIZE_BILINEAR',
          'ARG_MAX',
        ],
      );
      t.is(r.operations[71]!.status, STATUS.unsupportedDataType);
      t.true(r.operations.filter((o) => !o.onEdgeTpu).every((o) => (o.fix ?? '').length > 0));
      // the replayed log equals Kiln's predicted table, so the only defects are memory figures
      t.deepEqual(
        res.defects.map((d) => d.field).filter((f) => !f.startsWith('memory.')),
        [],
      );
      t.true(res.defects.some((d) => d.field === 'memory.onChipUsed'));
      t.deepEqual(r.prediction!.defects, res.defects);
      t.is(
        parseLog(readFileSync(join(dir, 'out', 'deeplabv3_mnv2_dm05_pascal_quant_edgetpu.log'), 'utf8')).rows.length,
        10,
      );
      const report = JSON.parse(readFileSync(join(dir, 'out', 'compile-report.json'), 'utf8'));
      t.is(report.compiler.kind, 'edgetpu_compiler');
      t.deepEqual(JSON.parse(readFileSync(env.FAKE_EDGETPU_ARGS_OUT, 'utf8')), ['-o', join(dir, 'out'), model]);
    } finally {
      t.pass();
    }
  },
);

(haveModels ? test : test.skip)(
  'a real-compiler failure is reported, and a predicted mismatch is a defect',
  async (t) => {
    const dir = tmp();
    const model = join(dir, 'split_concat.tflite');
    copyFileSync(modelPath('split_concat.tflite'), model);
    try {
      const res = await compileFiles([model], {
        outDir: dir,
        env: {
          PATH: NODE_PATH_ONLY,
          KILN_EDGETPU_COMPILER: FAKE,
          FAKE_EDGETPU_CONSOLE: fx('console-not-quantized.txt'),
          FAKE_EDGETPU_EXIT: '1',
        },
      });
      t.is(res.report.status, 'failed');
      t.truthy(res.failure);
      t.regex(res.failure!.message, /Model not quantized/);
      t.deepEqual(
        res.defects.map((d) => d.field),
        ['compiled'],
      );
    } finally {
      t.pass();
    }
  },
);

(haveModels ? test : test.skip)(
  'without the real compiler: predicted log + report, no _edgetpu.tflite, and the report says who makes the binary',
  async (t) => {
    const dir = tmp();
    const res = await compileFiles([modelPath('mobilenet_v1_0.25_128_quant.tflite')], {
      outDir: dir,
      env: { PATH: '' },
    });
    t.is(res.report.compiler.kind, 'kiln-model');
    t.false(existsSync(join(dir, 'mobilenet_v1_0.25_128_quant_edgetpu.tflite')));
    t.true(existsSync(join(dir, 'mobilenet_v1_0.25_128_quant_edgetpu.log')));
    t.regex(res.report.edgeTpuBinary.note, /real edgetpu_compiler/);
    t.is(res.report.minRuntimeVersion, 14);
    t.is(res.report.operations.length, 31);
    t.deepEqual(Object.keys(res.report.operations[0]!).slice(0, 7), [
      'index',
      'opcode',
      'version',
      'status',
      'onEdgeTpu',
      'reason',
      'fix',
    ]);
  },
);

test('docs/edgetpu-ops.md is the text generated from the op table', (t) => {
  const doc = readFileSync(fileURLToPath(new URL('../../docs/edgetpu-ops.md', import.meta.url)), 'utf8');
  t.is(doc, opTableDoc());
});
