import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { AnyTypedArray } from '../../../shared/toolchain/ir/dtype.js';
import { toTfliteBytes, type ConvertResult, type TensorInfo } from '../../../shared/toolchain/loaders/convert.js';
import { SourceRunner, type HostValue } from '../../helpers/source-exec/run.js';
import { TfliteRuntime } from '../../../shared/toolchain/runtime/tflite-runtime.js';
import { rng } from '../../../shared/common/rng.js';

const INTERPRETER = fileURLToPath(new URL('../../../shared/toolchain/interpreter/index.ts', import.meta.url));

export type InputGen = (info: TensorInfo, r: () => number) => Float32Array | Int32Array;

export const uniform: InputGen = (info, r) => {
  const n = info.shape.reduce((a, b) => a * b, 1);
  return info.dtype === 'int32'
    ? Int32Array.from({ length: n }, () => Math.floor(r() * 20) - 10)
    : Float32Array.from({ length: n }, () => r() * 2 - 1);
};

export interface OutputParity {
  name: string;
  /** Max |source − converted| over all samples, per runtime. */
  oracle: number;
  interpreter: number | null;
  /** max − min of the source outputs over all samples. */
  range: number;
}

/**
 * Runs the converted model on the TFLite runtime (the oracle) and on Kiln's interpreter (when it exists) against the
 * source model run in tfjs, on `samples` seeded random inputs.
 */
export async function parity(
  res: ConvertResult,
  samples = 5,
  gen: InputGen = uniform,
  seed = 1,
): Promise<{ outputs: OutputParity[]; backend: string }> {
  const rt = await TfliteRuntime.load(toTfliteBytes(res.model));
  const src = await SourceRunner.create(res.source!);
  const interp = existsSync(INTERPRETER)
    ? new (await import('../../../shared/toolchain/interpreter/index.js')).Interpreter(res.model)
    : null;
  const r = rng(seed);
  const outs: OutputParity[] = res.outputs.map((o) => ({
    name: o.name,
    oracle: 0,
    interpreter: interp ? 0 : null,
    range: 0,
  }));
  const lo = res.outputs.map(() => Infinity);
  const hi = res.outputs.map(() => -Infinity);
  try {
    for (let s = 0; s < samples; s++) {
      const xs = res.inputs.map((i) => gen(i, r));
      const want = await src.run(
        xs.map((x, i) => ({ shape: res.inputs[i]!.shape, dtype: res.inputs[i]!.dtype as HostValue['dtype'], data: x })),
      );
      const got = await rt.run(xs.map((x) => new Uint8Array(x.buffer, x.byteOffset, x.byteLength)));
      const fromInterp = interp ? interp.run(xs as AnyTypedArray[]).outputs : null;
      res.outputs.forEach((o, k) => {
        const w = want[k]!.data;
        const g = got[k]!;
        const oracle =
          o.dtype === 'int32' ? new Int32Array(g.bytes.slice().buffer) : new Float32Array(g.bytes.slice().buffer);
        if (oracle.length !== w.length)
          throw new Error(`output ${o.name}: ${oracle.length} values from TFLite, ${w.length} from tfjs`);
        for (let i = 0; i < w.length; i++) {
          const v = Number(w[i]);
          lo[k] = Math.min(lo[k]!, v);
          hi[k] = Math.max(hi[k]!, v);
          outs[k]!.oracle = Math.max(outs[k]!.oracle, Math.abs(oracle[i]! - v));
          if (fromInterp)
            outs[k]!.interpreter = Math.max(outs[k]!.interpreter!, Math.abs(Number(fromInterp[k]!.data[i]) - v));
        }
      });
    }
  } finally {
    rt.close();
    src.close();
  }
  outs.forEach((o, k) => (o.range = hi[k]! - lo[k]!));
  return { outputs: outs, backend: src.backend };
}

/** The acceptance bound: max abs error ≤ 1e-4 of the output range (exact for constant outputs). */
export const tolerance = (o: OutputParity): number => 1e-4 * o.range;
