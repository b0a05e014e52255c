import test, { type ExecutionContext } from 'ava';

import { isKilnError } from '../../shared/common/errors.js';
import type { AnyTypedArray } from '../../shared/toolchain/ir/dtype.js';
import { Interpreter } from '../../shared/toolchain/interpreter/index.js';
import { toTfliteBytes } from '../../shared/toolchain/loaders/convert.js';
import { melWeights, turn } from '../../shared/toolchain/loaders/onnx/ops/spectral-tables.js';
import { TfliteRuntime } from '../../shared/toolchain/runtime/tflite-runtime.js';

import { nodeTestsMatch, withNodeData } from './helpers/conformance.js';
import { attribute, convertOnnxBytes, graphModel, initializer, valueInfo } from './helpers/onnx-proto-parts.js';

// ONNX's spectral ops (DFT, STFT, the windows, MelWeightMatrix) built in code, converted, and run in the TFLite
// runtime and in Kiln's interpreter against a float64 reference written from ONNX's definitions and onnxruntime.

type Elem = 'float' | 'int32' | 'int64';
interface Port {
  name: string;
  elem: Elem;
  dims: number[];
  /** A constant (initializer) instead of a graph input. */
  init?: number[];
}
type Feed = Float32Array | Int32Array;

function model(op: string, inputs: (Port | null)[], out: Port, attrs: object[] = [], opset = 17): Uint8Array {
  const ports = inputs.filter((p): p is Port => p !== null);
  return graphModel({
    opset,
    nodes: [{ opType: op, name: 'n', input: inputs.map((p) => p?.name ?? ''), output: [out.name], attribute: attrs }],
    initializers: ports.filter((p) => p.init).map((p) => initializer(p.name, p.elem, p.dims, p.init!)),
    inputs: ports.filter((p) => !p.init).map((p) => valueInfo(p.name, p.elem, p.dims)),
    outputs: [valueInfo(out.name, out.elem, out.dims.length ? out.dims : undefined)],
  });
}

/** An output port whose shape the model does not declare. */
const undeclared = (name: string): Port => ({ name, elem: 'float', dims: [] });

const bytesOf = (a: Feed): Uint8Array => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);

/** The converted model's output in the TFLite runtime and in Kiln's interpreter, and its op types. */
async function runConverted(
  bytes: Uint8Array,
  feeds: Feed[],
): Promise<{ tflite: Float32Array; kiln: Float32Array; ops: string[] }> {
  const conv = convertOnnxBytes(bytes);
  const rt = await TfliteRuntime.load(toTfliteBytes(conv.model));
  try {
    const out = (await rt.run(feeds.map(bytesOf)))[0]!.bytes.slice();
    const kiln = new Interpreter(conv.model).run(feeds as AnyTypedArray[]).outputs[0]!.data as Float32Array;
    return {
      tflite: new Float32Array(out.buffer),
      kiln: Float32Array.from(kiln),
      ops: conv.model.graph.ops.map((o) => o.type),
    };
  } finally {
    rt.close();
  }
}

async function ortRun(bytes: Uint8Array, ports: Port[], feeds: Feed[]): Promise<Float32Array> {
  const ort = await import('onnxruntime-node');
  const session = await ort.InferenceSession.create(bytes);
  const live = ports.filter((p) => !p.init);
  const res = await session.run(
    Object.fromEntries(
      live.map((p, i) => [p.name, new ort.Tensor(p.elem === 'float' ? 'float32' : 'int32', feeds[i]!, p.dims)]),
    ),
  );
  return res[session.outputNames[0]!]!.data as Float32Array;
}

/** Worst |got − want| − rtol·|want| (≤ atol passes). */
function worst(got: ArrayLike<number>, want: ArrayLike<number>, rtol = 1e-5): number {
  if (got.length !== want.length) return Infinity;
  let w = 0;
  for (let i = 0; i < want.length; i++) w = Math.max(w, Math.abs(got[i]! - want[i]!) - rtol * Math.abs(want[i]!));
  return w;
}

/** The converted model agrees with `want` (and onnxruntime, when `ort`) in the TFLite runtime and the interpreter. */
async function agrees(
  t: ExecutionContext,
  what: string,
  bytes: Uint8Array,
  ports: Port[],
  feeds: Feed[],
  want: ArrayLike<number>,
  o: { atol?: number; ort?: boolean } = {},
): Promise<string[]> {
  const atol = o.atol ?? 1e-5;
  const { tflite, kiln, ops } = await runConverted(bytes, feeds);
  t.true(worst(tflite, want) <= atol, `${what}: TFLite ${Array.from(tflite).join()} vs ${Array.from(want).join()}`);
  t.true(worst(kiln, want) <= atol, `${what}: interpreter ${Array.from(kiln).join()} vs ${Array.from(want).join()}`);
  if (o.ort !== false) {
    const ref = await ortRun(bytes, ports, feeds);
    t.true(
      worst(tflite, ref) <= atol,
      `${what}: TFLite ${Array.from(tflite).join()} vs onnxruntime ${Array.from(ref).join()}`,
    );
  }
  return ops;
}

function refusal(t: ExecutionContext, bytes: Uint8Array, pattern: RegExp): void {
  const e = t.throws(() => convertOnnxBytes(bytes));
  t.true(isKilnError(e), String(e));
  t.regex(e!.message, pattern);
}

/** Deterministic values in [-1, 1). */
function values(n: number, seed: number): Float32Array {
  let s = seed >>> 0;
  return Float32Array.from({ length: n }, () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return (s / 2 ** 32) * 2 - 1;
  });
}

/**
 * The DFT in float64 from its definition: x of `shape` [..., n (at axis), ..., parts], cut or zero-padded to `size`;
 * output [..., bins, ..., 2].
 */
function refDft(
  x: ArrayLike<number>,
  shape: number[],
  axis: number,
  o: { size?: number; inverse?: boolean; onesided?: boolean } = {},
): number[] {
  const r = shape.length;
  const parts = shape[r - 1]!;
  const n = shape[axis]!;
  const size = o.size ?? n;
  const bins = o.onesided ? Math.floor(size / 2) + 1 : size;
  const outer = shape.slice(0, axis).reduce((a, b) => a * b, 1);
  const inner = shape.slice(axis + 1, r - 1).reduce((a, b) => a * b, 1);
  const sign = o.inverse ? 1 : -1;
  const out: number[] = [];
  for (let p = 0; p < outer; p++)
    for (let k = 0; k < bins; k++)
      for (let i = 0; i < inner; i++) {
        let re = 0;
        let im = 0;
        for (let j = 0; j < Math.min(n, size); j++) {
          const at = ((p * n + j) * inner + i) * parts;
          const a = x[at]!;
          const b = parts === 2 ? x[at + 1]! : 0;
          const th = (sign * 2 * Math.PI * j * k) / size;
          re += a * Math.cos(th) - b * Math.sin(th);
          im += a * Math.sin(th) + b * Math.cos(th);
        }
        const scale = o.inverse ? 1 / size : 1;
        out.push(re * scale, im * scale);
      }
  return out;
}

test('the cos/sin table is exact at the quarter turns and agrees with Math elsewhere', (t) => {
  t.deepEqual(turn(4, 8), [-1, 0]);
  t.deepEqual(turn(6, 8), [0, -1]);
  t.deepEqual(turn(5, 20), [0, 1]);
  t.deepEqual(turn(-3, 12), [0, -1]);
  const [c, s] = turn(3, 7);
  t.is(c, Math.cos((6 * Math.PI) / 7));
  t.is(s, Math.sin((6 * Math.PI) / 7));
});

test('DFT of a real signal along a middle axis (FULLY_CONNECTED by a DFT matrix) as the definition and onnxruntime', async (t) => {
  const shape = [2, 6, 3, 1];
  const x = values(36, 1);
  const ports: Port[] = [{ name: 'x', elem: 'float', dims: shape }];
  const bytes = model('DFT', ports, { name: 'y', elem: 'float', dims: [2, 6, 3, 2] }, [attribute.i('axis', 1)]);
  const ops = await agrees(t, 'axis 1', bytes, ports, [x], refDft(x, shape, 1));
  t.true(ops.includes('FULLY_CONNECTED'));
  t.true(ops.includes('TRANSPOSE'), 'the axis moves last');
  refusal(
    t,
    model('DFT', ports, { name: 'y', elem: 'float', dims: [2, 6, 3, 2] }, [attribute.i('axis', 3)]),
    /axis 3 for an input of rank 4/,
  );
  const three: Port[] = [{ name: 'x', elem: 'float', dims: [2, 6, 3] }];
  refusal(t, model('DFT', three, undeclared('y'), [attribute.i('axis', 1)]), /shape \[2, 6, 3\].*real part/);
});

test('DFT: inverse of a complex signal (negative axis), onesided, and dft_length padding or cutting the signal', async (t) => {
  const cplx = [3, 5, 2];
  const z = values(30, 2);
  const zp: Port[] = [{ name: 'x', elem: 'float', dims: cplx }];
  const inv = model('DFT', zp, { name: 'y', elem: 'float', dims: cplx }, [
    attribute.i('axis', -2),
    attribute.i('inverse', 1),
  ]);
  await agrees(t, 'inverse', inv, zp, [z], refDft(z, cplx, 1, { inverse: true }));

  const real = [2, 8, 1];
  const x = values(16, 3);
  for (const size of [11, 5]) {
    const ports: Port[] = [
      { name: 'x', elem: 'float', dims: real },
      { name: 'n', elem: 'int64', dims: [], init: [size] },
    ];
    const bins = Math.floor(size / 2) + 1;
    const bytes = model('DFT', ports, { name: 'y', elem: 'float', dims: [2, bins, 2] }, [
      attribute.i('axis', 1),
      attribute.i('onesided', 1),
    ]);
    await agrees(t, `onesided, dft_length ${size}`, bytes, ports, [x], refDft(x, real, 1, { size, onesided: true }));
  }

  const cut = [4, 8, 2];
  const w = values(64, 4);
  const ports: Port[] = [
    { name: 'x', elem: 'float', dims: cut },
    { name: 'n', elem: 'int64', dims: [], init: [5] },
  ];
  const bytes = model('DFT', ports, { name: 'y', elem: 'float', dims: [4, 5, 2] }, [attribute.i('axis', 1)]);
  await agrees(t, 'complex, cut to 5', bytes, ports, [w], refDft(w, cut, 1, { size: 5 }));
});

test('DFT at opset 20: the axis is an input (default −2)', async (t) => {
  const shape = [7, 3, 2];
  const x = values(42, 5);
  const ports: Port[] = [
    { name: 'x', elem: 'float', dims: shape },
    { name: 'n', elem: 'int64', dims: [], init: [7] },
    { name: 'axis', elem: 'int64', dims: [], init: [0] },
  ];
  const bytes = model('DFT', ports, { name: 'y', elem: 'float', dims: [7, 3, 2] }, [], 20);
  await agrees(t, 'axis input 0', bytes, ports, [x], refDft(x, shape, 0));
  const last = model('DFT', [ports[0]!], { name: 'y', elem: 'float', dims: shape }, [], 20);
  await agrees(t, 'default axis', last, [ports[0]!], [x], refDft(x, shape, 1));
});

test('DFT with dft_length given at run time: the declared bins give the candidate sizes, SELECT_V2 picks the run-time one', async (t) => {
  const shape = [3, 8, 1];
  const x = values(24, 6);
  const ports: Port[] = [
    { name: 'x', elem: 'float', dims: shape },
    { name: 'n', elem: 'int32', dims: [] },
  ];
  // onesided, 5 bins: 8 or 9 points
  const bytes = model('DFT', ports, { name: 'y', elem: 'float', dims: [3, 5, 2] }, [
    attribute.i('axis', 1),
    attribute.i('onesided', 1),
  ]);
  for (const size of [8, 9]) {
    const ops = await agrees(
      t,
      `${size} points`,
      bytes,
      ports,
      [x, Int32Array.from([size])],
      refDft(x, shape, 1, { size, onesided: true }),
    );
    t.true(ops.includes('SELECT_V2'));
  }
  // two-sided: the declared 10 bins are the size
  const padded = model('DFT', ports, { name: 'y', elem: 'float', dims: [3, 10, 2] }, [attribute.i('axis', 1)]);
  await agrees(t, 'two-sided, 10', padded, ports, [x, Int32Array.from([10])], refDft(x, shape, 1, { size: 10 }));
  refusal(t, model('DFT', ports, undeclared('y'), [attribute.i('axis', 1)]), /dft_length.*run time/);
});

/** STFT from its definition: frames f·step + t of `size` samples times the window, each DFT'd. */
function refStft(
  x: ArrayLike<number>,
  shape: number[],
  step: number,
  size: number,
  o: { window?: ArrayLike<number>; onesided?: boolean } = {},
): number[] {
  const [batch, length, parts] = shape as [number, number, number];
  const frames = Math.floor((length - size) / step) + 1;
  const framed: number[] = [];
  for (let b = 0; b < batch; b++)
    for (let f = 0; f < frames; f++)
      for (let j = 0; j < size; j++)
        for (let p = 0; p < parts; p++)
          framed.push(x[(b * length + f * step + j) * parts + p]! * (o.window ? o.window[j]! : 1));
  return refDft(framed, [batch * frames, size, parts], 1, { onesided: o.onesided ?? true });
}

test('STFT with frame_step and frame_length given at run time (frames gathered at run time, size picked from the declared bins)', async (t) => {
  const shape = [2, 40, 1];
  const x = values(80, 7);
  const ports: Port[] = [
    { name: 'signal', elem: 'float', dims: shape },
    { name: 'step', elem: 'int32', dims: [] },
    { name: 'length', elem: 'int32', dims: [] },
  ];
  // 7 frames of 5 bins: 8 or 9 samples every 5
  const bytes = model('STFT', [ports[0]!, ports[1]!, null, ports[2]!], {
    name: 'y',
    elem: 'float',
    dims: [2, 7, 5, 2],
  });
  for (const size of [8, 9]) {
    const feeds = [x, Int32Array.from([5]), Int32Array.from([size])];
    const ops = await agrees(t, `frame_length ${size}`, bytes, ports, feeds, refStft(x, shape, 5, size), {
      atol: 2e-5,
    });
    t.true(ops.includes('GATHER') && ops.includes('FULLY_CONNECTED'));
  }
  refusal(t, model('STFT', [ports[0]!, ports[1]!, null, ports[2]!], undeclared('y')), /frame_length.*run time/);
});

test('STFT with a window: constant (folded into the DFT matrix), on a real or complex signal, or given at run time', async (t) => {
  const win = Array.from({ length: 8 }, (_v, n) => 0.5 - 0.5 * Math.cos((2 * Math.PI * n) / 8));
  for (const parts of [1, 2]) {
    const shape = [1, 30, parts];
    const x = values(30 * parts, 8);
    const ports: Port[] = [
      { name: 'signal', elem: 'float', dims: shape },
      { name: 'step', elem: 'int64', dims: [], init: [4] },
      { name: 'window', elem: 'float', dims: [8], init: win },
    ];
    const bytes = model('STFT', ports, { name: 'y', elem: 'float', dims: [1, 6, 8, 2] }, [attribute.i('onesided', 0)]);
    const want = refStft(x, shape, 4, 8, { window: win, onesided: false });
    // onnxruntime 1.30 windows complex frames wrongly (every frame's DFT comes out the same): the definition decides
    const ops = await agrees(t, `constant window, ${parts} parts`, bytes, ports, [x], want, {
      atol: 2e-5,
      ort: parts === 1,
    });
    t.false(ops.includes('MUL'), 'the window is part of the matrix');
  }

  const real = [1, 30, 1];
  const y = values(30, 9);
  const live: Port[] = [
    { name: 'signal', elem: 'float', dims: real },
    { name: 'step', elem: 'int32', dims: [] },
    { name: 'window', elem: 'float', dims: [8] },
  ];
  const w = values(8, 10);
  const runtime = model('STFT', live, { name: 'y', elem: 'float', dims: [1, 8, 5, 2] });
  await agrees(
    t,
    'run-time window',
    runtime,
    live,
    [y, Int32Array.from([3]), w],
    refStft(y, real, 3, 8, { window: w }),
    {
      atol: 2e-5,
    },
  );
});

const WINDOW_FORMULAS: Record<string, (n: number, span: number) => number> = {
  HannWindow: (n, m) => 0.5 - 0.5 * Math.cos((2 * Math.PI * n) / m),
  HammingWindow: (n, m) => 25 / 46 - (21 / 46) * Math.cos((2 * Math.PI * n) / m),
  BlackmanWindow: (n, m) => 0.42 - 0.5 * Math.cos((2 * Math.PI * n) / m) + 0.08 * Math.cos((4 * Math.PI * n) / m),
};

test('Hann, Hamming and Blackman windows: a run-time size is the declared output length; periodic and symmetric', async (t) => {
  for (const [op, f] of Object.entries(WINDOW_FORMULAS))
    for (const periodic of [1, 0]) {
      const ports: Port[] = [{ name: 'size', elem: 'int32', dims: [] }];
      const bytes = model(op, ports, { name: 'w', elem: 'float', dims: [12] }, [attribute.i('periodic', periodic)]);
      const want = Array.from({ length: 12 }, (_v, n) => f(n, periodic ? 12 : 11));
      await agrees(t, `${op} periodic=${periodic}`, bytes, ports, [Int32Array.from([12])], want, { atol: 1e-6 });
    }
  const ports: Port[] = [{ name: 'size', elem: 'int32', dims: [] }];
  refusal(t, model('HannWindow', ports, undeclared('w')), /size.*run time.*no 1-D output shape/);
  refusal(
    t,
    model('HannWindow', ports, { name: 'w', elem: 'int32', dims: [4] }, [attribute.i('output_datatype', 9)]),
    /output_datatype 9/,
  );
});

test('MelWeightMatrix from run-time scalars (builtins over the declared shape) and from constants, as ONNX reference and onnxruntime', async (t) => {
  const ports: Port[] = [
    { name: 'mel_bins', elem: 'int32', dims: [] },
    { name: 'dft_length', elem: 'int32', dims: [] },
    { name: 'sample_rate', elem: 'int32', dims: [] },
    { name: 'low', elem: 'float', dims: [] },
    { name: 'high', elem: 'float', dims: [] },
  ];
  const cases = [
    [8, 16, 8192, 0, 4096],
    [5, 20, 16000, 100, 7000],
    [6, 33, 22050, 30, 9000],
  ];
  for (const [m, n, sr, lo, hi] of cases as [number, number, number, number, number][]) {
    const rows = Math.floor(n / 2) + 1;
    const want = melWeights(m, n, sr, lo, hi);
    const feeds = [
      Int32Array.from([m]),
      Int32Array.from([n]),
      Int32Array.from([sr]),
      Float32Array.from([lo]),
      Float32Array.from([hi]),
    ];
    const bytes = model('MelWeightMatrix', ports, { name: 'w', elem: 'float', dims: [rows, m] });
    const ops = await agrees(t, `run time ${m}, ${n}, ${sr}, ${lo}, ${hi}`, bytes, ports, feeds, want, { atol: 1e-6 });
    t.true(ops.includes('FLOOR_DIV'));
    const constant = ports.map((p, i) => ({ ...p, init: [[m, n, sr, lo, hi][i]!] }));
    const folded = model('MelWeightMatrix', constant, undeclared('w'));
    const c = await agrees(t, `constant ${m}, ${n}`, folded, constant, [], want, { atol: 1e-6 });
    t.false(c.includes('FLOOR_DIV'), 'a constant table');
  }
  refusal(t, model('MelWeightMatrix', ports, undeclared('w')), /dft_length.*run time/);
});

withNodeData("ONNX's spectral node tests (DFT, STFT, windows, MelWeightMatrix) convert and match", async (t) => {
  await nodeTestsMatch(
    t,
    /^test_(dft|dft_axis|dft_inverse|stft|stft_with_window|(hann|hamming|blackman)window(_symmetric)?|melweightmatrix)$/,
    12,
  );
});
