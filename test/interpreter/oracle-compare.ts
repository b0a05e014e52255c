import type { ExecutionContext } from 'ava';
import { bytesOf, typedView, type AnyTypedArray } from '../../shared/toolchain/ir/dtype.js';
import type { IrModel } from '../../shared/toolchain/ir/model.js';
import { toTflite } from '../../shared/toolchain/ir/to-tflite.js';
import { Interpreter } from '../../shared/toolchain/interpreter/index.js';
import { randomInputs } from '../../shared/toolchain/interpreter/random-inputs.js';
import { TfliteRuntime } from '../../shared/toolchain/runtime/tflite-runtime.js';
import { writeTflite } from '../../shared/toolchain/tflite/writer.js';

/**
 * Runs `model` in Kiln's interpreter and in the TFLite runtime on the same deterministic inputs and asserts that every
 * output byte is equal (float32 outputs: relative error ≤ 1e-5, absolute ≤ 1e-6 near zero; with `exact`, float32
 * outputs must be equal byte for byte too).
 */
export async function expectSameAsTflite(
  t: ExecutionContext,
  model: IrModel,
  opts: {
    seeds?: number[];
    bytes?: Uint8Array;
    inputs?: (seed: number, interp: Interpreter) => AnyTypedArray[];
    exact?: boolean;
  } = {},
): Promise<void> {
  const bytes = opts.bytes ?? writeTflite(toTflite(model));
  const interp = new Interpreter(model);
  const rt = await TfliteRuntime.load(bytes);
  try {
    for (const seed of opts.seeds ?? [1, 2]) {
      const inputs = opts.inputs ? opts.inputs(seed, interp) : randomInputs(interp.inputs, seed);
      const got = interp.run(inputs).outputs;
      const want = await rt.run(inputs.map((a) => bytesOf(a)));
      t.is(got.length, want.length);
      want.forEach((w, i) => {
        const g = got[i]!;
        const gb = bytesOf(g.data);
        t.is(gb.length, w.bytes.length, `output ${i} (${w.name}) size`);
        if (w.dtype === 'float32' && !opts.exact) {
          const a = typedView('float32', gb) as Float32Array;
          const b = typedView('float32', w.bytes) as Float32Array;
          let worst = 0;
          let at = -1;
          for (let j = 0; j < b.length; j++) {
            const err = Math.abs(a[j]! - b[j]!);
            const rel = err <= 1e-6 ? 0 : err / Math.abs(b[j]!);
            if (!(rel <= worst)) {
              worst = rel;
              at = j;
            }
          }
          t.true(
            worst <= 1e-5,
            `seed ${seed} output ${i} (${w.name}): relative error ${worst} at ${at}: ${a[at]} vs ${b[at]}`,
          );
        } else {
          let bad = 0;
          let first = -1;
          for (let j = 0; j < gb.length; j++) {
            if (gb[j] !== w.bytes[j]) {
              bad++;
              if (first < 0) first = j;
            }
          }
          t.is(
            bad,
            0,
            `seed ${seed} output ${i} (${w.name}, ${w.dtype}): ${bad} bytes differ, first at byte ${first}: ${gb[first]} vs ${w.bytes[first]}`,
          );
        }
      });
    }
  } finally {
    rt.close();
  }
}
