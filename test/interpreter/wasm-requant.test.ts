import test from 'ava';
import { mulByQuantMul, mulByQuantMulRuy } from '../../shared/toolchain/interpreter/fixed-point.js';
import { jsQGemm, type QGemmSpec } from '../../shared/toolchain/interpreter/kernels/qgemm.js';
import { wasmQGemm } from '../../shared/toolchain/interpreter/wasm/qgemm-wasm.js';
import { requantParams } from '../../shared/toolchain/interpreter/wasm/requant-params.js';
import { wasmAlloc, wasmKernels } from '../../shared/toolchain/interpreter/wasm/runtime.js';
import { rng } from '../../shared/common/rng.js';

// The WebAssembly vector requantization and GEMM against the scalar JavaScript references they must equal bit for bit.

const k = wasmKernels();
const wasmTest = k ? test : test.skip;

/** Accumulators over the whole int32 range, the edges, and exact halfway cases of the final shift. */
function accumulators(r: () => number, n: number): Int32Array {
  const edge = [0, 1, -1, 2 ** 31 - 1, -(2 ** 31), 2 ** 30, -(2 ** 30), 12345, -12345];
  return Int32Array.from({ length: n }, (_, i) =>
    i < edge.length ? edge[i]! : r() < 0.5 ? (r() * 2 ** 32) | 0 : Math.round((r() - 0.5) * 2 ** (4 + r() * 20)),
  );
}

for (const [name, gemmlowp, ref] of [
  ['ruy x86 rounding', false, mulByQuantMulRuy],
  ['gemmlowp rounding', true, mulByQuantMul],
] as const) {
  wasmTest(`vector requantization equals the scalar ${name} on any accumulator, multiplier and shift`, (t) => {
    const r = rng(gemmlowp ? 7 : 8);
    const p = wasmAlloc(224);
    const acc = wasmAlloc(32);
    const out = wasmAlloc(16);
    let checked = 0;
    for (let trial = 0; trial < 4000; trial++) {
      const mult = Int32Array.from({ length: 8 }, () => 2 ** 30 + Math.floor(r() * (2 ** 30 - 1)));
      const shift = Int32Array.from({ length: 8 }, () => Math.floor(r() * 41) - 30);
      const bias = Int32Array.from({ length: 8 }, () => Math.round((r() - 0.5) * 2 ** 16));
      const a = accumulators(r, 8);
      const zp = Math.floor(r() * 256) - 128;
      const signed = r() < 0.5;
      const [lo, hi] = signed ? [-128, 127] : [0, 255];
      const params = requantParams(bias, mult, shift, 8, gemmlowp)!;
      new Int32Array(k!.mem.buffer, p, 56).set(params);
      new Int32Array(k!.mem.buffer, acc, 8).set(a);
      k!.rq8(acc, p, out, zp, lo, hi, signed ? 1 : 0, gemmlowp ? 1 : 0);
      const got = signed ? new Int8Array(k!.mem.buffer, out, 8) : new Uint8Array(k!.mem.buffer, out, 8);
      for (let c = 0; c < 8; c++) {
        const v = Math.min(hi, Math.max(lo, ref((a[c]! + bias[c]!) | 0, mult[c]!, shift[c]!) + zp));
        if (got[c] !== v) {
          t.fail(`acc ${a[c]} bias ${bias[c]} m ${mult[c]} shift ${shift[c]} zp ${zp}: got ${got[c]}, want ${v}`);
          return;
        }
        checked++;
      }
    }
    t.is(checked, 32000);
  });
}

wasmTest('qgemm8 equals the JavaScript GEMM for odd row counts and channel counts', (t) => {
  const r = rng(3);
  for (const [m, n, kp] of [
    [1, 1, 8],
    [5, 13, 16],
    [7, 8, 24],
    [33, 30, 72],
    [4, 64, 8],
  ] as const) {
    const spec: QGemmSpec = {
      w: Int16Array.from({ length: n * kp }, () => Math.floor(r() * 511) - 255),
      n,
      kp,
      bias: Int32Array.from({ length: n }, () => Math.round((r() - 0.5) * 2 ** 14)),
      mult: Int32Array.from({ length: n }, () => 2 ** 30 + Math.floor(r() * 2 ** 30)),
      shift: Int32Array.from({ length: n }, () => -Math.floor(r() * 12) - 4),
      zp: -3,
      actMin: -128,
      actMax: 100,
      rounding: 'ruy-avx',
      rows: m,
    };
    const fast = wasmQGemm(spec)!;
    const slow = jsQGemm(spec);
    const a = Int16Array.from({ length: m * kp }, () => Math.floor(r() * 511) - 255);
    fast.a.set(a);
    slow.a.set(a);
    const got = new Int8Array(m * n + 3);
    const want = new Int8Array(m * n + 3);
    fast.run(m, got, 1, n);
    slow.run(m, want, 1, n);
    t.deepEqual(Array.from(got), Array.from(want), `M ${m} N ${n} K ${kp}`);
  }
});
