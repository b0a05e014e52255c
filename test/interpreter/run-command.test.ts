import test from 'ava';
import { createHash } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { register, runModel } from '../../shared/cli/commands/run.js';
import { KilnError } from '../../shared/common/errors.js';
import { ModelBuilder } from '../../shared/toolchain/ir/builder.js';
import { toTflite } from '../../shared/toolchain/ir/to-tflite.js';
import { writeNpy } from '../../shared/toolchain/npy/index.js';
import { writeTflite } from '../../shared/toolchain/tflite/writer.js';

function fixture(): string {
  const dir = mkdtempSync(join(tmpdir(), 'kiln-run-'));
  const b = new ModelBuilder();
  const x = b.input('x', [1, 4]);
  b.output(
    b.fullyConnected(
      x,
      b.constant('w', 'float32', [2, 4], [1, 2, 3, 4, -1, 0, 1, 0]),
      b.constant('b', 'float32', [2], [0.5, -0.5]),
      {},
      { name: 'y' },
    ),
  );
  const file = join(dir, 'fc.tflite');
  writeFileSync(file, writeTflite(toTflite(b.build())));
  writeFileSync(
    join(dir, 'x.npy'),
    writeNpy({ dtype: 'float32', shape: [1, 4], data: Float32Array.from([1, 1, 2, -1]) }),
  );
  writeFileSync(join(dir, 'bad.npy'), writeNpy({ dtype: 'int8', shape: [1, 4], data: new Int8Array(4) }));
  return dir;
}

test('runModel computes the outputs of the given .npy input, with their sha256 and a timing', async (t) => {
  const dir = fixture();
  const r = await runModel(join(dir, 'fc.tflite'), { inputs: [join(dir, 'x.npy')], repeat: 3 });
  t.is(r.outputs.length, 1);
  const o = r.outputs[0]!;
  t.is(o.name, 'y');
  t.is(o.dtype, 'float32');
  t.deepEqual(o.shape, [1, 2]);
  t.deepEqual(o.values, [1 + 2 + 6 - 4 + 0.5, -1 + 2 - 0.5]);
  t.is(o.quantization, null);
  t.is(
    o.sha256,
    createHash('sha256')
      .update(new Uint8Array(Float32Array.from(o.values).buffer))
      .digest('hex'),
  );
  t.true(r.msPerInference >= 0);
});

test('runModel generates the same inputs for the same seed and different ones for another', async (t) => {
  const dir = fixture();
  const a = await runModel(join(dir, 'fc.tflite'), { seed: 4 });
  const b = await runModel(join(dir, 'fc.tflite'), { seed: 4 });
  const c = await runModel(join(dir, 'fc.tflite'), { seed: 5 });
  t.is(a.outputs[0]!.sha256, b.outputs[0]!.sha256);
  t.not(a.outputs[0]!.sha256, c.outputs[0]!.sha256);
});

test('inputs of the wrong dtype or count are bad-input errors', async (t) => {
  const dir = fixture();
  const e = await t.throwsAsync(runModel(join(dir, 'fc.tflite'), { inputs: [join(dir, 'bad.npy')] }), {
    instanceOf: KilnError,
  });
  t.is(e!.code, 'E_BAD_ARGUMENT');
  t.regex(e!.message, /float32\[1,4\]/);
  const e2 = await t.throwsAsync(
    runModel(join(dir, 'fc.tflite'), { inputs: [join(dir, 'x.npy'), join(dir, 'x.npy')] }),
    { instanceOf: KilnError },
  );
  t.regex(e2!.message, /takes 1 input/);
});

test.serial('kiln run --json prints the outputs as JSON', async (t) => {
  const dir = fixture();
  const program = new Command().exitOverride();
  register(program);
  let printed = '';
  const write = process.stdout.write.bind(process.stdout);
  process.stdout.write = ((s: string) => {
    printed += s;
    return true;
  }) as typeof process.stdout.write;
  try {
    await program.parseAsync(
      ['run', join(dir, 'fc.tflite'), '--input', join(dir, 'x.npy'), '--repeat', '2', '--json'],
      { from: 'user' },
    );
  } finally {
    process.stdout.write = write;
  }
  const json = JSON.parse(printed) as {
    outputs: { name: string; values: number[]; sha256: string }[];
    msPerInference: number;
  };
  t.deepEqual(json.outputs[0]!.values, [5.5, 0.5]);
  t.is(typeof json.msPerInference, 'number');
  t.is(json.outputs[0]!.sha256.length, 64);
});

test.serial('kiln run --profile prints the time of every op and of every kernel', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'kiln-run-'));
  const b = new ModelBuilder();
  const x = b.input('x', [1, 8, 8, 4]);
  const w = b.constant(
    'w',
    'float32',
    [4, 3, 3, 4],
    Float32Array.from({ length: 144 }, (_, i) => (i % 7) - 3),
  );
  const c = b.conv2d(x, w, b.constant('b', 'float32', [4], [0, 1, 2, 3]), { activation: 'RELU' });
  b.output(b.unary('TANH', c));
  const file = join(dir, 'conv.tflite');
  writeFileSync(file, writeTflite(toTflite(b.build())));

  const r = await runModel(file, { repeat: 3, profile: true });
  const p = r.profile!;
  t.deepEqual(
    p.ops.map((o) => [o.index, o.type, o.output]),
    [
      [0, 'CONV_2D', [1, 8, 8, 4]],
      [1, 'TANH', [1, 8, 8, 4]],
    ],
  );
  t.is(p.ops[1]!.kernel, 'js');
  t.is(
    p.kernels.reduce((a, k) => a + k.ops, 0),
    2,
  );
  t.true(Math.abs(p.ops.reduce((a, o) => a + o.share, 0) - 1) < 1e-9 || p.totalMs === 0);
  t.is(p.kernels.find((k) => k.kernel === p.ops[0]!.kernel)!.types[0], 'CONV_2D');

  const program = new Command().exitOverride();
  register(program);
  let printed = '';
  const write = process.stdout.write.bind(process.stdout);
  process.stdout.write = ((s: string) => {
    printed += s;
    return true;
  }) as typeof process.stdout.write;
  try {
    await program.parseAsync(['run', file, '--repeat', '2', '--profile'], { from: 'user' });
  } finally {
    process.stdout.write = write;
  }
  t.regex(printed, /per kernel:\n.*ms .*%/);
  t.regex(printed, /#0 .* ms .*CONV_2D \[1,8,8,4\]/);
  t.regex(printed, /#1 .* ms .*TANH \[1,8,8,4\] {2}js/);
  t.false((await runModel(file, {})).profile !== undefined);
});
