import test from 'ava';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { STAGE_CORES } from '../../shared/pipeline/cores/index.js';
import { STRIPES_CONFIG, stripesModel } from '../../shared/toolchain/samples/stripes.js';
import { readTflite } from '../../shared/toolchain/tflite/reader.js';
import { kiln } from '../helpers/cli.js';

const dir = mkdtempSync(join(tmpdir(), 'kiln-build-'));
const sample = join(dir, 'stripes.tflite');
writeFileSync(sample, stripesModel());
writeFileSync(join(dir, 'stripes.kiln.json'), JSON.stringify(STRIPES_CONFIG));
const malformed = join(dir, 'malformed.tflite');
const bad = new Uint8Array(64).fill(0xee);
bad.set([0x54, 0x46, 0x4c, 0x33], 4);
writeFileSync(malformed, bad);
const verifyLanded = STAGE_CORES.verify !== undefined;

test.serial('kiln build runs every stage in-process and writes each artifact under its bucket name', (t) => {
  const out = join(dir, 'out');
  const r = kiln(['build', sample, '-o', out, '--json']);
  const result = JSON.parse(r.stdout) as {
    buildId: string;
    status: string;
    artifacts: Record<string, string>;
    summary: Record<string, unknown>;
    error?: { stage: string; message: string };
  };
  t.regex(result.buildId, /^[0-9a-f]{24}$/);
  const expected = [
    'model.float.tflite',
    'model.int8.tflite',
    'quantize-report.json',
    'calibration-stats.json',
    'default/compile.log',
    'default/compile-report.json',
    'runtime13/compile.log',
    'runtime13/compile-report.json',
    ...(verifyLanded ? ['report.json', 'report.html'] : []),
  ];
  for (const name of expected) {
    t.is(result.artifacts[name], join(out, name), name);
    t.true(existsSync(join(out, name)), name);
  }
  // the int8 model is a real full-integer model
  const int8 = readTflite(new Uint8Array(readFileSync(join(out, 'model.int8.tflite'))));
  t.true(int8.subgraphs[0]!.tensors.some((x) => x.type === 9 /* INT8 */));
  const compile = result.summary['compile'] as Record<string, { target: string; minRuntimeVersion: number }>;
  t.deepEqual(Object.keys(compile).sort(), ['default', 'runtime13']);
  t.is(compile['runtime13']!.minRuntimeVersion, 13);
  const record = JSON.parse(readFileSync(join(out, 'build.json'), 'utf8')) as {
    stages: Record<string, { status: string; durationMs?: number }>;
  };
  for (const stage of ['convert', 'quantize', 'compile'])
    t.is(typeof record.stages[stage]!.durationMs, 'number', stage);
  if (verifyLanded) {
    t.is(r.status, 0, r.stderr);
    t.is(result.status, 'succeeded');
    t.truthy(result.summary['verify']);
  } else {
    t.is(r.status, 1);
    t.is(result.error?.stage, 'verify');
  }
});

test('kiln build exits 2 with one line for a missing path, a non-model file, a corrupt file and a bad kiln.json', (t) => {
  const txt = join(dir, 'notes.txt');
  writeFileSync(txt, 'hello');
  const corrupt = join(dir, 'corrupt.tflite');
  writeFileSync(corrupt, new Uint8Array(100).fill(3));
  const badConfig = join(dir, 'bad.kiln.json');
  writeFileSync(badConfig, JSON.stringify({ compile: { targets: [{ minRuntimeVersion: 99 }] } }));
  const cases: [string[], RegExp][] = [
    [[join(dir, 'absent.tflite')], /no such file or folder/],
    [[txt], /is not a model file Kiln builds/],
    [[corrupt], /is not a TFLite flatbuffer/],
    [[sample, '--config', badConfig], /not a valid build config: compile\.targets\.0\.minRuntimeVersion/],
  ];
  for (const [args, re] of cases) {
    const r = kiln(['build', ...args, '-o', join(dir, 'never')]);
    t.is(r.status, 2, `${args.join(' ')}: ${r.stderr}`);
    t.regex(r.stderr, re);
    t.is(r.stderr.trim().split('\n').length, 1);
  }
  t.false(existsSync(join(dir, 'never')));
});

test('kiln build of a model the convert stage rejects prints the failed build and exits 2', (t) => {
  const r = kiln(['build', malformed, '-o', join(dir, 'out-bad'), '--json']);
  t.is(r.status, 2, r.stderr);
  const result = JSON.parse(r.stdout) as { status: string; error: { stage: string; code: string; retryable: boolean } };
  t.is(result.status, 'failed');
  t.is(result.error.stage, 'convert');
  t.regex(result.error.code, /^E_TFLITE_/);
  t.regex(r.stderr, /^kiln: build [0-9a-f]{24} failed in convert: /);
});

test.serial('kiln build prints verify as one human line (verdict, task, ops, latency), not a JSON blob', (t) => {
  if (!verifyLanded) return t.pass();
  const out = join(dir, 'out-human');
  const r = kiln(['build', sample, '-o', out]);
  t.is(r.status, 0, r.stderr);
  const lines = r.stdout.split('\n');
  const report = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8')) as {
    task: { type: string };
    verdict: { ready: boolean; line: string };
  };
  const verify = lines.filter((l) => l.startsWith('  verify'));
  t.is(verify.length, 1, r.stdout);
  t.false(verify[0]!.includes('{'), verify[0]);
  t.regex(
    verify[0]!,
    /^ {2}verify: (Ready for|Runs on|Not ready for) the Edge TPU[^(]* \((classifier|detector|segmenter|pose|embedding|regression|other)\): .+; \d+\/\d+ ops on the Edge TPU; ≈ \d+\.\d\d ms on USB 3 \(estimate\)$/,
  );
  t.true(verify[0]!.startsWith(`  verify: ${report.verdict.line}; `));
  // the first line says the build succeeded and whether the model is ready, in the same words as --json
  t.regex(lines[0]!, /^build [0-9a-f]{24} of stripes: succeeded/);
  t.is(/NOT READY/.test(lines[0]!), !report.verdict.ready);
  // sizes in the unit that fits: no "0.0 KiB" for a small figure
  t.notRegex(r.stdout, /\b0\.0 KiB|\b0\.00 MiB/);
});
