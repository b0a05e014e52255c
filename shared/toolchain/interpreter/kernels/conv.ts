import type { Tensor } from '../../ir/types.js';
import { badOp, unsupportedCase, unsupportedType } from '../errors.js';
import { quantizeMultiplier } from '../fixed-point.js';
import type { Kernel, KernelArgs } from '../kernel.js';
import { floatActivationRange, isClampActivation, isQuant8, qp, quantActivationRange } from '../quant.js';
import { geometry, im2col } from './conv-common.js';
import { gemmRoundingFor, makeQGemm, padK } from './qgemm.js';
import { wasmIm2colQ } from '../wasm/im2col-wasm.js';
import { wasmFConv } from '../wasm/fgemm-wasm.js';

/**
 * Per-output-channel requantization of a conv-like op: real multiplier = input · filter[c] / output, in doubles
 * (TFLite's per-channel path). With `legacy` (per-tensor uint8 convs and every quantized FULLY_CONNECTED: TFLite's
 * GetQuantizedConvolutionMultipler) the product input · filter is taken in float32 first, as TFLite does; the
 * multiplier can then differ in its last bits, which decides exact halfway cases.
 */
export function channelMultipliers(
  input: Tensor,
  filter: Tensor,
  output: Tensor,
  channels: number,
  legacy = false,
): { mult: Int32Array; shift: Int32Array } {
  const mult = new Int32Array(channels);
  const shift = new Int32Array(channels);
  const fs = filter.quant?.scale ?? [0];
  const inScale = qp(input).scale;
  const outScale = qp(output).scale;
  for (let c = 0; c < channels; c++) {
    const fScale = fs.length > 1 ? fs[c]! : fs[0]!;
    const q = quantizeMultiplier((legacy ? Math.fround(inScale * fScale) : inScale * fScale) / outScale);
    mult[c] = q.multiplier;
    shift[c] = q.shift;
  }
  return { mult, shift };
}

export function biasValues(k: KernelArgs, index: number, channels: number): Int32Array {
  if (!k.tensor(index)) return new Int32Array(channels);
  if (k.dtype(index) !== 'int32') throw unsupportedType(k.op, `a ${k.dtype(index)} bias`);
  return Int32Array.from(k.input(index) as Int32Array);
}

export function filterZeroPoints(filter: Tensor, channels: number): Int32Array {
  const z = filter.quant?.zeroPoint ?? [0];
  return Int32Array.from({ length: channels }, (_, c) => (z.length > 1 ? z[c]! : (z[0] ?? 0)));
}

/**
 * True when the weights (input 1) or the bias are computed at run time: the wasm and integer paths pack them once
 * while preparing, so they would read the buffer before any run filled it.
 */
export function liveWeights(k: KernelArgs, biasIndex: number): boolean {
  return !k.isConst(1) || (k.tensor(biasIndex) !== undefined && !k.isConst(biasIndex));
}

/** The interpreter gap for integer weights computed at run time (calibration then runs the TFLite runtime). */
export const liveQuantWeights = (k: KernelArgs): Error =>
  unsupportedCase(
    k.op,
    'integer weights or bias computed at run time',
    'Make the weights constants; the TFLite runtime runs the model as it is',
  );

export const conv2d: Kernel = (k) => {
  const inShape = k.shape(0);
  const fShape = k.shape(1);
  if (inShape.length !== 4 || fShape.length !== 4) throw badOp(k.op, 'input and filter must be 4-D');
  const [outC, kH, kW, fC] = fShape as [number, number, number, number];
  if (fC !== inShape[3]) throw badOp(k.op, `filter depth ${fC} does not match input depth ${inShape[3]}`);
  const act = k.opts.fusedActivationFunction ?? 0;
  if (!isClampActivation(act)) throw badOp(k.op, `fused activation ${act} is not supported`);
  const g = geometry(inShape, kH, kW, k.opts);
  const out = k.output(0, [g.batch, g.outH, g.outW, outC]);
  const src = k.input(0);
  const K = kH * kW * fC;
  const M = g.outH * g.outW;
  const dt = k.dtype(0);

  if (dt === 'float32' && k.dtype(1) === 'float32') {
    const w = k.input(1) as Float32Array;
    const bias = k.tensor(2) ? (k.input(2) as Float32Array) : new Float32Array(outC);
    const [lo, hi] = floatActivationRange(act);
    const fast = liveWeights(k, 2) ? null : wasmFConv({ g, w, bias, outC, lo, hi });
    if (fast) {
      k.kernel('wasm fgemm + im2col');
      const inSize = g.inH * g.inW * g.inC;
      return () => {
        for (let b = 0; b < g.batch; b++) fast(src as Float32Array, b * inSize, out as Float32Array, b * M * outC);
      };
    }
    const rows = Math.min(M, 256);
    const a = new Float32Array(rows * K);
    const o32 = out as Float32Array;
    return () => {
      for (let b = 0; b < g.batch; b++) {
        for (let p0 = 0; p0 < M; p0 += rows) {
          const p1 = Math.min(M, p0 + rows);
          im2col(src as Float32Array, b * g.inH * g.inW * g.inC, g, a, K, 0, 0, p0, p1);
          for (let r = 0; r < p1 - p0; r++) {
            const ob = (b * M + p0 + r) * outC;
            const ab = r * K;
            for (let o = 0; o < outC; o++) {
              let acc = 0;
              const wb = o * K;
              for (let i = 0; i < K; i++) acc += a[ab + i]! * w[wb + i]!;
              acc += bias[o]!;
              o32[ob + o] = acc < lo ? lo : acc > hi ? hi : acc;
            }
          }
        }
      }
    };
  }

  if (!isQuant8(dt) || !isQuant8(k.dtype(1))) throw unsupportedType(k.op, `${dt} input with ${k.dtype(1)} filter`);
  if (liveWeights(k, 2)) throw liveQuantWeights(k);
  const inT = k.tensor(0)!;
  const fT = k.tensor(1)!;
  const outT = k.outTensor(0);
  const { mult, shift } = channelMultipliers(inT, fT, outT, outC, dt === 'uint8');
  const bias = biasValues(k, 2, outC);
  const wz = filterZeroPoints(fT, outC);
  const kp = padK(K);
  const wsrc = k.input(1);
  const w = new Int16Array(outC * kp);
  for (let o = 0; o < outC; o++) for (let i = 0; i < K; i++) w[o * kp + i] = (wsrc[o * K + i] as number) - wz[o]!;
  const [actMin, actMax] = quantActivationRange(act, outT);
  const inOff = -qp(inT).zp;
  const rows = Math.max(1, Math.min(M, Math.floor(262144 / kp)));
  const gemm = makeQGemm({
    w,
    n: outC,
    kp,
    bias,
    mult,
    shift,
    zp: qp(outT).zp,
    actMin,
    actMax,
    rows,
    rounding: gemmRoundingFor(dt),
  });
  const o8 = out as Int8Array | Uint8Array;
  const fast = gemm.aPtr !== undefined ? wasmIm2colQ(g, kp, inOff, dt === 'int8') : null;
  k.kernel(`${gemm.name} + ${fast ? 'wasm' : 'js'} im2col`);
  if (fast) {
    const aPtr = gemm.aPtr!;
    return () => {
      for (let b = 0; b < g.batch; b++) {
        fast.load(src as Int8Array | Uint8Array, b * g.inH * g.inW * g.inC);
        for (let p0 = 0; p0 < M; p0 += rows) {
          const p1 = Math.min(M, p0 + rows);
          fast.rows(aPtr, p0, p1);
          gemm.run(p1 - p0, o8, (b * M + p0) * outC, outC);
        }
      }
    };
  }
  return () => {
    for (let b = 0; b < g.batch; b++) {
      for (let p0 = 0; p0 < M; p0 += rows) {
        const p1 = Math.min(M, p0 + rows);
        im2col(src as Int8Array, b * g.inH * g.inW * g.inC, g, gemm.a, kp, inOff, 0, p0, p1);
        gemm.run(p1 - p0, o8, (b * M + p0) * outC, outC);
      }
    }
  };
};
