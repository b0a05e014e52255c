import { BuiltinOperator, TensorType } from '../../../shared/toolchain/tflite/schema.js';
import type { BadInput } from './types.js';
import { builtTflite, editedTflite, goodTflite, poke, weightsWith } from './tflite-models.js';
import { garbage, oneFile } from './write.js';

const withId = (b: Uint8Array): Uint8Array => {
  b.set([0x54, 0x46, 0x4c, 0x33], 4);
  return b;
};

/** Broken or unsupported .tflite files. */
export const TFLITE_CASES: BadInput[] = [
  {
    name: 'empty-tflite',
    what: 'a 0-byte .tflite',
    write: oneFile('m.tflite', () => new Uint8Array(0)),
    expect: /empty/,
  },
  {
    name: 'truncated-header',
    what: 'the first 6 bytes of a model',
    write: oneFile('m.tflite', () => goodTflite().slice(0, 6)),
    expect: /not a TFLite flatbuffer/,
  },
  {
    name: 'truncated-half',
    what: 'the first half of a model',
    write: oneFile('m.tflite', () => {
      const g = goodTflite();
      return g.slice(0, g.length >> 1);
    }),
    expect: /not a valid TFLite flatbuffer/,
  },
  {
    name: 'garbage-no-identifier',
    what: '4 KiB of random bytes',
    write: oneFile('m.tflite', () => garbage(4096, 1)),
    expect: /not a TFLite flatbuffer/,
  },
  {
    name: 'garbage-with-identifier',
    what: 'random bytes with "TFL3" at offset 4',
    write: oneFile('m.tflite', () => withId(garbage(4096, 2))),
    expect: /not a valid TFLite flatbuffer/,
  },
  {
    name: 'root-offset-out-of-range',
    what: 'root table offset past the end of the file',
    write: oneFile('m.tflite', () => poke(goodTflite(), 0, 0x7fffff00)),
    expect: /not a valid TFLite flatbuffer/,
  },
  {
    name: 'tensor-buffer-index-out-of-range',
    what: 'a tensor naming buffer 9999',
    write: oneFile('m.tflite', () => editedTflite((m) => (m.subgraphs[0]!.tensors[1]!.buffer = 9999))),
    expect: /E_TFLITE_INDEX|buffer/,
  },
  {
    name: 'op-input-index-out-of-range',
    what: 'an operator reading tensor 4242',
    write: oneFile('m.tflite', () => editedTflite((m) => (m.subgraphs[0]!.operators[0]!.inputs[0] = 4242))),
    expect: /E_TFLITE_INDEX|4242/,
  },
  {
    name: 'opcode-index-out-of-range',
    what: 'an operator with opcode index 77',
    write: oneFile('m.tflite', () => editedTflite((m) => (m.subgraphs[0]!.operators[0]!.opcodeIndex = 77))),
    expect: /E_TFLITE_INDEX|opcode/,
  },
  {
    name: 'graph-input-index-out-of-range',
    what: 'a subgraph input naming tensor 500',
    write: oneFile('m.tflite', () => editedTflite((m) => (m.subgraphs[0]!.inputs = [500]))),
    expect: /E_TFLITE_INDEX|500/,
  },
  {
    name: 'no-subgraphs',
    what: 'a model with no subgraph',
    write: oneFile('m.tflite', () => editedTflite((m) => (m.subgraphs = []))),
    expect: /E_TFLITE_|subgraph/,
  },
  {
    name: 'huge-declared-shape',
    what: 'an input declared [1, 1000000, 1000000, 1] (10^12 elements)',
    write: oneFile('m.tflite', () =>
      editedTflite((m) => {
        const g = m.subgraphs[0]!;
        g.tensors[g.inputs[0]!]!.shape = [1, 1_000_000, 1_000_000, 2];
      }),
    ),
    expect: /E_TFLITE_LIMIT|E_SHAPE|elements|too large/i,
  },
  {
    name: 'negative-dimension',
    what: 'an input declared [1, -5, 6, 2]',
    write: oneFile('m.tflite', () =>
      editedTflite((m) => {
        const g = m.subgraphs[0]!;
        g.tensors[g.inputs[0]!]!.shape = [1, -5, 6, 2];
      }),
    ),
    expect: /negative dimension/,
  },
  {
    name: 'short-weight-buffer',
    what: 'conv weights with 8 bytes for 72 floats',
    write: oneFile('m.tflite', () =>
      editedTflite((m) => {
        const t = m.subgraphs[0]!.tensors.find((x) => String(x.name).includes('conv/weights'))!;
        m.buffers[t.buffer]!.data = new Uint8Array(8);
      }),
    ),
    expect: /E_TFLITE_|bytes/,
  },
  {
    name: 'nan-weights',
    what: 'a NaN in the conv weights',
    write: oneFile('m.tflite', () => weightsWith(NaN)),
    expect: /NaN|finite/i,
  },
  {
    name: 'inf-weights',
    what: 'an Infinity in the conv weights',
    write: oneFile('m.tflite', () => weightsWith(Infinity)),
    expect: /Inf|finite/i,
  },
  {
    name: 'dynamic-shape',
    what: 'a tensor stored with shape [-1, 36] (dynamic batch in the shape itself, not only in shape_signature)',
    write: oneFile('m.tflite', () =>
      editedTflite((m) => {
        const g = m.subgraphs[0]!;
        g.tensors[g.operators[1]!.outputs[0]!]!.shape = [-1, 36];
      }),
    ),
    expect: /dynamic/i,
  },
  {
    name: 'int64-tensor',
    what: 'an int64 input feeding ADD',
    write: oneFile('m.tflite', () =>
      builtTflite((b) => {
        const x = b.input('x', [1, 4], 'int64');
        b.output(b.binary('ADD', x, x));
      }),
    ),
    expect: /model input "x" is int64/,
  },
  {
    name: 'string-tensor',
    what: 'a string input',
    write: oneFile('m.tflite', () =>
      editedTflite((m) => {
        const g = m.subgraphs[0]!;
        g.tensors[g.inputs[0]!]!.type = TensorType.STRING;
      }),
    ),
    expect: /string|E_UNSUPPORTED_TYPE/i,
  },
  {
    name: 'while-loop',
    what: 'a WHILE op with condition and body subgraphs',
    write: oneFile('m.tflite', () =>
      builtTflite((b) => {
        const x = b.input('x', [1, 4]);
        b.output(b.op('WHILE', [x], {}, { outputs: [{ shape: [1, 4], dtype: 'float32' }] })[0]!);
      }, 2),
    ),
    expect: /control flow/,
  },
  {
    name: 'if-branches',
    what: 'an IF op with then/else subgraphs',
    write: oneFile('m.tflite', () =>
      builtTflite((b) => {
        const c = b.input('cond', [1], 'bool');
        const x = b.input('x', [1, 4]);
        b.output(b.op('IF', [c, x], {}, { outputs: [{ shape: [1, 4], dtype: 'float32' }] })[0]!);
      }, 2),
    ),
    expect: /control flow/,
  },
  {
    name: 'cyclic-graph',
    what: 'two ops feeding each other',
    write: oneFile('m.tflite', () =>
      editedTflite((m) => {
        const g = m.subgraphs[0]!;
        const [first, second] = g.operators;
        // the first op now reads what the second produces: a cycle conv → reshape → conv
        first!.inputs[0] = second!.outputs[0]!;
        second!.inputs[0] = first!.outputs[0]!;
      }),
    ),
    expect: /cycle/i,
  },
  {
    name: 'unknown-builtin-op',
    what: 'builtin operator code 250',
    write: oneFile('m.tflite', () =>
      editedTflite((m) => {
        m.operatorCodes[0]!.builtinCode = 250 as BuiltinOperator;
        m.operatorCodes[0]!.deprecatedBuiltinCode = 127;
      }),
    ),
    expect: /not a TFLite builtin operator/,
  },
  {
    name: 'unknown-custom-op',
    what: 'a custom op "MyFancyOp"',
    write: oneFile('m.tflite', () =>
      editedTflite((m) => {
        m.operatorCodes[0]!.builtinCode = BuiltinOperator.CUSTOM;
        m.operatorCodes[0]!.deprecatedBuiltinCode = BuiltinOperator.CUSTOM;
        m.operatorCodes[0]!.customCode = 'MyFancyOp';
      }),
    ),
    expect: /custom op "MyFancyOp" has no TFLite kernel/,
  },
  {
    name: 'html-in-names',
    what: 'an unsupported custom op and tensors named with <script> and <img onerror>',
    write: oneFile('m.tflite', () =>
      editedTflite((m) => {
        for (const t of m.subgraphs[0]!.tensors) t.name = `<script>alert("${String(t.name)}")</script>`;
        m.operatorCodes[0]!.builtinCode = BuiltinOperator.CUSTOM;
        m.operatorCodes[0]!.deprecatedBuiltinCode = BuiltinOperator.CUSTOM;
        m.operatorCodes[0]!.customCode = '<img src=x onerror=alert(1)>';
      }),
    ),
    expect: /custom op "<img src=x onerror=alert\(1\)>" has no TFLite kernel/,
  },
];
