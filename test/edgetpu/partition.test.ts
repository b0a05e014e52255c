import test from 'ava';
import { ModelBuilder } from '../../shared/toolchain/ir/builder.js';
import { compileModel } from '../../shared/toolchain/edgetpu/compile-model.js';
import { splitByParameters } from '../../shared/toolchain/edgetpu/segments.js';
import { renderConsole } from '../../shared/toolchain/edgetpu/render.js';
import { STATUS } from '../../shared/toolchain/edgetpu/strings.js';
import { conv, input, modelInput, Q } from './helpers.js';

const div = (b: ModelBuilder, x: number, name: string) =>
  b.binary('DIV', x, b.constant(`${name}/c`, 'int8', [1], [2], Q), {}, { name, dtype: 'int8', quant: Q });

/** x → a → DIV → b (blocked) ; a → c (independent branch); x → DIV(in) → d (fed by the input only) */
function branches() {
  const b = new ModelBuilder();
  const x = input(b, 'x', [1, 8, 8, 4]);
  const a = conv(b, x, 4, 4, 'a');
  const d1 = div(b, a, 'div_after_a');
  const bb = conv(b, d1, 4, 4, 'b');
  const c = conv(b, a, 4, 4, 'c');
  const d0 = div(b, x, 'div_on_input');
  const d = conv(b, d0, 4, 4, 'd');
  b.output(bb, c, d);
  return b.build();
}

test('default mode keeps one convex subgraph: independent branches and ops after input-fed CPU ops stay mapped', (t) => {
  const m = compileModel([modelInput('m.tflite', branches())]).models[0]!;
  const st = Object.fromEntries(m.operations.map((o) => [o.index, o.status]));
  t.is(st[0], STATUS.mapped); // a
  t.is(st[1], STATUS.notSupported); // DIV after a
  t.is(st[2], STATUS.moreThanOneSubgraph); // b depends on the CPU op that depends on the region
  t.is(st[3], STATUS.mapped); // c: independent branch
  t.is(st[4], STATUS.notSupported); // DIV on the input
  t.is(st[5], STATUS.mapped); // d: after a CPU op fed only by the graph input
  t.is(m.numEdgeTpuSubgraphs, 1);
});

test('-a: the blocked op becomes a second Edge TPU subgraph and the "More than one subgraph" status disappears', (t) => {
  const m = compileModel([modelInput('m.tflite', branches())], { multipleSubgraphs: true }).models[0]!;
  t.is(m.numEdgeTpuSubgraphs, 2);
  t.false(m.operations.some((o) => o.status === STATUS.moreThanOneSubgraph));
  t.is(m.operations[2]!.subgraph, 1);
  t.is(m.operations[3]!.subgraph, 0);
});

function chain(n: number, channels: number[]) {
  const b = new ModelBuilder();
  let x = input(b, 'x', [1, 8, 8, channels[0]!]);
  for (let i = 0; i < n; i++) x = conv(b, x, channels[i]!, channels[i + 1]!, `c${i}`);
  b.output(x);
  return b.build();
}

test('-i ends the Edge TPU part at the named tensor; downstream ops go to the CPU with a fix naming -i', (t) => {
  const m = compileModel([modelInput('m.tflite', chain(3, [4, 4, 4, 4]))], { intermediateTensors: ['c0'] }).models[0]!;
  t.deepEqual(
    m.operations.map((o) => o.onEdgeTpu),
    [true, false, false],
  );
  t.is(m.operations[1]!.status, STATUS.moreThanOneSubgraph);
  t.regex(m.operations[1]!.fix!, /-i/);
  t.throws(() => compileModel([modelInput('m.tflite', chain(1, [4, 4]))], { intermediateTensors: ['nope'] }), {
    message: /nope/,
  });
});

test('-n follows libcoral: cut just before a segment exceeds total/N + 1 parameter bytes', (t) => {
  // weights+bias bytes per conv: cin·cout + 4·cout → c0: 4·8+32=64, c1: 8·8+32=96, c2: 8·8+32=96, c3: 8·4+16=48; total 304
  const model = chain(4, [4, 8, 8, 8, 4]);
  // N=2: target 153 → segment 0 = c0 (64) + c1 (96 would make 160 > 153) → [c0], rest [c1,c2,c3]
  t.deepEqual(splitByParameters(model.graph, 2), [[0], [1, 2, 3]]);
  // N=3: target 102 → [c0], then [c1] (96; +96 > 102), last [c2, c3]
  t.deepEqual(splitByParameters(model.graph, 3), [[0], [1], [2, 3]]);
  const res = compileModel([modelInput('dir/m.tflite', model)], { numSegments: 2, outDir: 'out' });
  t.deepEqual(
    res.models.map((m) => m.inputPath),
    ['out/m_segment_0_of_2.tflite', 'out/m_segment_1_of_2.tflite'],
  );
  t.deepEqual(
    res.models.map((m) => m.logPath),
    ['out/m_segment_0_of_2_edgetpu.log', 'out/m_segment_1_of_2_edgetpu.log'],
  );
  t.deepEqual(
    res.models[1]!.operations.map((o) => o.index),
    [1, 2, 3],
  );
  const text = renderConsole(res, 1);
  t.is(text.split('\n').filter((l) => l.startsWith('Edge TPU Compiler version')).length, 1);
  t.is(text.split('\n').filter((l) => l.startsWith('Started a compilation timeout timer')).length, 2);
  t.throws(() => compileModel([modelInput('m.tflite', model)], { numSegments: 5 }), {
    message: /segment would be empty/,
  });
});

test('co-compiled models share the parameter cache in command-line order and print the same remainder', (t) => {
  const big = chain(2, [64, 256, 256]); // 64·256+1024 + 256·256+1024 raw
  const res = compileModel([modelInput('a.tflite', big), modelInput('b.tflite', big)], { cacheCapacityBytes: 100_000 });
  const [a, b] = res.models;
  t.true(a!.memory.onChipUsedBytes > 0);
  t.true(b!.memory.offChipStreamedBytes > 0, 'the second model no longer fits and streams');
  t.is(a!.memory.onChipRemainingBytes, b!.memory.onChipRemainingBytes);
  t.is(a!.memory.onChipRemainingBytes, 100_000 - a!.memory.onChipUsedBytes - b!.memory.onChipUsedBytes);
  t.true(renderConsole(res, 1).includes('Models compiled successfully in 1 ms.'));
});

test('bad option combinations are refused with one-line errors', (t) => {
  const m = modelInput('m.tflite', chain(1, [4, 4]));
  t.throws(() => compileModel([m], { minRuntime: 9 }), { message: /-m 9/ });
  t.throws(() => compileModel([m, m], { numSegments: 2 }), { message: /several models/ });
  t.throws(() => compileModel([m], { numSegments: 2, intermediateTensors: ['c0'] }), { message: /-i/ });
  t.throws(() => compileModel([m], { delegateSearchStep: 2 }), { message: /-d/ });
});
