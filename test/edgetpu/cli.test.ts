import test from 'ava';
import { Command } from 'commander';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ModelBuilder } from '../../shared/toolchain/ir/builder.js';
import { optionsFromFlags, register } from '../../shared/cli/commands/compile.js';
import { bytesOf, conv, input } from './helpers.js';

test('flags map to compile options with the compiler meanings', (t) => {
  t.deepEqual(
    optionsFromFlags({
      out_dir: 'o',
      min_runtime_version: '13',
      enable_multiple_subgraphs: true,
      intermediate_tensors: 'a,b',
      search_delegate: true,
      delegate_search_step: '5',
      show_operations: true,
      predictOnly: true,
    }),
    {
      outDir: 'o',
      minRuntime: 13,
      multipleSubgraphs: true,
      intermediateTensors: ['a', 'b'],
      searchDelegate: true,
      delegateSearchStep: 5,
      showOperations: true,
      real: 'never',
    },
  );
  t.throws(() => optionsFromFlags({ num_segments: 'two' }), { message: /-n needs an integer/ });
});

test('kiln compile writes the log and DIR/compile-report.json and prints the console text', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'kiln-cli-'));
  const b = new ModelBuilder();
  b.output(conv(b, input(b, 'x', [1, 8, 8, 3]), 3, 4, 'c'));
  const model = join(dir, 'tiny.tflite');
  writeFileSync(model, bytesOf(b.build()));
  const program = new Command('kiln').exitOverride();
  register(program);
  const chunks: string[] = [];
  const write = process.stdout.write.bind(process.stdout);
  process.stdout.write = ((s: string) => (chunks.push(String(s)), true)) as typeof process.stdout.write;
  try {
    await program.parseAsync(['compile', model, '-o', join(dir, 'out'), '-s', '--predict-only'], { from: 'user' });
  } finally {
    process.stdout.write = write;
  }
  const text = chunks.join('');
  t.true(text.startsWith('Edge TPU Compiler version 16.0.384591198\n'));
  t.true(text.includes('CONV_2D                        1          Mapped to Edge TPU\n'), text);
  t.true(existsSync(join(dir, 'out', 'tiny_edgetpu.log')));
  const report = JSON.parse(readFileSync(join(dir, 'out', 'compile-report.json'), 'utf8'));
  t.deepEqual(report.compiler, { kind: 'kiln-model', version: '16.0.384591198' });
  t.is(report.numEdgeTpuSubgraphs, 1);
});
