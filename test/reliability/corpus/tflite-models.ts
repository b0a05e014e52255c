import { ModelBuilder } from '../../../shared/toolchain/ir/builder.js';
import { IrModel } from '../../../shared/toolchain/ir/model.js';
import { toTflite } from '../../../shared/toolchain/ir/to-tflite.js';
import type { TfliteModel } from '../../../shared/toolchain/tflite/model.js';
import { readTflite } from '../../../shared/toolchain/tflite/reader.js';
import { writeTflite } from '../../../shared/toolchain/tflite/writer.js';
import { tinyCnnTflite } from '../../../shared/toolchain/samples/tiny-cnn.js';

/** Model bytes for the corpus: a valid tiny CNN, and variants broken in one named way each. */
export const goodTflite = (): Uint8Array => tinyCnnTflite(11);

/** The tiny CNN as a TfliteModel, changed by `edit`, written back. */
export function editedTflite(edit: (m: TfliteModel) => void): Uint8Array {
  const m = readTflite(goodTflite());
  edit(m);
  return writeTflite(m);
}

export function builtTflite(build: (b: ModelBuilder) => void, extraGraphs = 0): Uint8Array {
  const b = new ModelBuilder();
  build(b);
  const ir = b.build();
  const graphs = [ir.graph];
  for (let i = 0; i < extraGraphs; i++) {
    const g = new ModelBuilder();
    const x = g.input(`sub${i}_x`, [1, 4]);
    g.output(g.unary('RELU', x));
    graphs.push(g.build().graph);
  }
  return writeTflite(toTflite(new IrModel(graphs)));
}

/** A conv model whose weights hold one special value. */
export function weightsWith(value: number): Uint8Array {
  return builtTflite((b) => {
    const x = b.input('x', [1, 4, 4, 1]);
    const w = Array.from({ length: 9 }, (_v, i) => (i === 4 ? value : 0.1));
    b.output(b.conv2d(x, b.constant('w', 'float32', [1, 3, 3, 1], w), b.constant('b', 'float32', [1], [0])));
  });
}

/** Overwrites the 32-bit little-endian word at `at`. */
export function poke(bytes: Uint8Array, at: number, value: number): Uint8Array {
  const out = bytes.slice();
  new DataView(out.buffer).setUint32(at, value >>> 0, true);
  return out;
}
