import test from 'ava';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isKilnError } from '../../shared/common/errors.js';
import { inspectModel } from '../../shared/toolchain/edgetpu/inspect.js';
import { readTflite } from '../../shared/toolchain/tflite/reader.js';
import { writeTflite } from '../../shared/toolchain/tflite/writer.js';
import { kiln } from '../helpers/cli.js';
import { tinyCnnTflite } from '../../shared/toolchain/samples/tiny-cnn.js';
import { rng } from '../helpers/models.js';

const dir = mkdtempSync(join(tmpdir(), 'kiln-malformed-'));
const good = tinyCnnTflite();

function file(name: string, bytes: Uint8Array): string {
  const p = join(dir, name);
  writeFileSync(p, bytes);
  return p;
}

function randomBytes(n: number, seed: number): Uint8Array {
  const r = rng(seed);
  return Uint8Array.from({ length: n }, () => Math.floor(r() * 256));
}

/** Finds the little-endian u32 `value` in `bytes` (first occurrence at a 4-byte boundary). */
function findU32(bytes: Uint8Array, value: number): number {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let i = 0; i + 4 <= bytes.length; i += 4) if (dv.getUint32(i, true) === value) return i;
  return -1;
}

const cases: [string, () => Uint8Array, RegExp][] = [
  ['empty', () => new Uint8Array(0), /empty/],
  ['truncated to 6 bytes', () => good.slice(0, 6), /too short/],
  ['truncated to half', () => good.slice(0, good.length >> 1), /outside the file|not a valid TFLite/],
  ['random bytes', () => randomBytes(4096, 3), /not a TFLite model: file identifier/],
  [
    'random bytes with a TFL3 identifier',
    () => {
      const b = randomBytes(4096, 4);
      b.set([0x54, 0x46, 0x4c, 0x33], 4);
      return b;
    },
    /not a valid TFLite flatbuffer|invalid model/,
  ],
  [
    'wrong identifier',
    () => {
      const b = good.slice();
      b.set([0x54, 0x46, 0x4c, 0x32], 4);
      return b;
    },
    /file identifier is "TFL2"/,
  ],
  [
    'operator input index out of range',
    () => {
      const m = readTflite(good);
      m.subgraphs[0]!.operators[1]!.inputs[0] = 999;
      return writeTflite(m);
    },
    /refers to tensor 999, but the model has/,
  ],
  [
    'opcode index out of range',
    () => {
      const m = readTflite(good);
      m.subgraphs[0]!.operators[0]!.opcodeIndex = 77;
      return writeTflite(m);
    },
    /refers to operator code 77/,
  ],
  [
    'buffer index out of range',
    () => {
      const m = readTflite(good);
      m.subgraphs[0]!.tensors[1]!.buffer = 4242;
      return writeTflite(m);
    },
    /refers to buffer 4242/,
  ],
  [
    'a vector declaring 2^31 elements',
    () => {
      const m = readTflite(good);
      m.subgraphs[0]!.tensors[0]!.shape = [1, 6, 6, 0x1234567];
      const b = writeTflite(m);
      const at = findU32(b, 0x1234567) - 16; // the shape vector's length word precedes its 4 elements
      new DataView(b.buffer, b.byteOffset).setUint32(at, 0x7fffffff, true);
      return b;
    },
    /declares 2147483647 elements|outside the file/,
  ],
  [
    'a tensor declaring 10^12 elements',
    () => {
      const m = readTflite(good);
      m.subgraphs[0]!.tensors[0]!.shape = [1, 1_000_000, 1_000_000, 1];
      return writeTflite(m);
    },
    /1000000000000 elements, over the limit/,
  ],
  [
    'constant data that does not match its shape',
    () => {
      const m = readTflite(good);
      m.subgraphs[0]!.tensors[1]!.shape = [4, 3, 3, 9];
      return writeTflite(m);
    },
    /bytes of constant data, but shape/,
  ],
  // Regression cases found by the fuzzer (test/reliability/fuzz.test.ts):
  [
    'a tensor type TFLite does not define',
    () => {
      const m = readTflite(good);
      m.subgraphs[0]!.tensors[2]!.type = 97 as never;
      return writeTflite(m);
    },
    /tensor type 97, which TFLite does not define/,
  ],
  [
    'an operator that reads what a later operator writes (a cycle)',
    () => {
      const m = readTflite(good);
      const ops = m.subgraphs[0]!.operators;
      ops[0]!.inputs[0] = ops[1]!.outputs[0]!;
      return writeTflite(m);
    },
    /reads tensor \d+ before operator 1 writes it/,
  ],
  [
    'an operator without its required inputs',
    () => {
      const m = readTflite(good);
      m.subgraphs[0]!.operators[0]!.inputs = [m.subgraphs[0]!.operators[0]!.inputs[0]!];
      return writeTflite(m);
    },
    /CONV_2D\) has 1 of the 2 inputs/,
  ],
  [
    'two operators writing the same tensor',
    () => {
      const m = readTflite(good);
      const ops = m.subgraphs[0]!.operators;
      ops[2]!.outputs = [...ops[1]!.outputs];
      return writeTflite(m);
    },
    /writes tensor \d+, which operator 1 already writes/,
  ],
];

for (const [name, make, reason] of cases) {
  test(`kiln inspect on a file with ${name}: exit 2 and a one-line reason`, (t) => {
    const r = kiln(['inspect', file(`${name.replace(/\W+/g, '_')}.tflite`, make())]);
    t.is(r.status, 2, r.stderr);
    t.is(r.stdout, '');
    const lines = r.stderr.trimEnd().split('\n');
    t.is(lines.length, 1, r.stderr);
    t.regex(lines[0]!, reason);
    t.notRegex(r.stderr, /TypeError|RangeError|at .*\.ts:\d+/);
  });
}

test('a missing file and a folder are bad input too', (t) => {
  t.is(kiln(['inspect', join(dir, 'nope.tflite')]).status, 2);
  const r = kiln(['inspect', dir]);
  t.is(r.status, 2);
  t.regex(r.stderr, /is not a file/);
});

test('1,000 mutated files only ever give KilnErrors (no TypeError/RangeError, no hang)', (t) => {
  const r = rng(99);
  let refused = 0;
  for (let i = 0; i < 1000; i++) {
    const b = good.slice();
    const flips = 1 + Math.floor(r() * 8);
    for (let k = 0; k < flips; k++) b[8 + Math.floor(r() * (b.length - 8))] = Math.floor(r() * 256);
    try {
      inspectModel(readTflite(b), b.length);
    } catch (e) {
      if (!isKilnError(e)) t.fail(`mutation ${i}: ${(e as Error).name}: ${(e as Error).message}`);
      refused++;
    }
  }
  t.true(refused > 0);
});
