import { badOp, unsupportedType } from '../errors.js';
import type { Kernel } from '../kernel.js';
import { floatActivationRange, isClampActivation, isQuant8, qp, quantActivationRange } from '../quant.js';
import { biasValues, channelMultipliers, filterZeroPoints, liveQuantWeights, liveWeights } from './conv.js';
import { gemmRoundingFor, makeQGemm, padK } from './qgemm.js';
import { wasmFConv } from '../wasm/fgemm-wasm.js';

export const fullyConnected: Kernel = (k) => {
  const inShape = k.shape(0);
  const wShape = k.shape(1);
  if (wShape.length !== 2) throw badOp(k.op, 'weights must be 2-D');
  if ((k.opts.weightsFormat ?? 0) !== 0) throw badOp(k.op, 'shuffled weights are not supported');
  const [units, depth] = wShape as [number, number];
  const total = inShape.reduce((a, b) => a * b, 1);
  if (total % depth !== 0) throw badOp(k.op, `input of ${total} values is not a multiple of the weight depth ${depth}`);
  const batch = total / depth;
  const outShape = k.opts.keepNumDims ? [...inShape.slice(0, -1), units] : [batch, units];
  const act = k.opts.fusedActivationFunction ?? 0;
  if (!isClampActivation(act)) throw badOp(k.op, `fused activation ${act} is not supported`);
  const out = k.output(0, outShape);
  const dt = k.dtype(0);
  if (dt === 'float32' && k.dtype(1) === 'float32') {
    const x = k.input(0) as Float32Array;
    const w = k.input(1) as Float32Array;
    const bias = k.tensor(2) ? (k.input(2) as Float32Array) : new Float32Array(units);
    const [lo, hi] = floatActivationRange(act);
    const y = out as Float32Array;
    const g = { batch: 1, inH: 1, inW: batch, inC: depth, kH: 1, kW: 1, outH: 1, outW: batch };
    const unit = { strideH: 1, strideW: 1, dilH: 1, dilW: 1, padH: 0, padW: 0 };
    const fast = liveWeights(k, 2) ? null : wasmFConv({ g: { ...g, ...unit }, w, bias, outC: units, lo, hi });
    if (fast) {
      k.kernel('wasm fgemm');
      return () => fast(x, 0, y, 0);
    }
    return () => {
      for (let b = 0; b < batch; b++) {
        const xb = b * depth;
        for (let u = 0; u < units; u++) {
          let acc = 0;
          const wb = u * depth;
          for (let i = 0; i < depth; i++) acc += x[xb + i]! * w[wb + i]!;
          acc += bias[u]!;
          y[b * units + u] = acc < lo ? lo : acc > hi ? hi : acc;
        }
      }
    };
  }
  if (!isQuant8(dt) || !isQuant8(k.dtype(1)) || !isQuant8(k.outTensor(0).dtype)) {
    throw unsupportedType(k.op, `${dt} input with ${k.dtype(1)} weights and ${k.outTensor(0).dtype} output`);
  }
  if (liveWeights(k, 2)) throw liveQuantWeights(k);
  const inT = k.tensor(0)!;
  const wT = k.tensor(1)!;
  const outT = k.outTensor(0);
  const { mult, shift } = channelMultipliers(inT, wT, outT, units, (wT.quant?.scale.length ?? 1) <= 1);
  const bias = biasValues(k, 2, units);
  const wz = filterZeroPoints(wT, units);
  const kp = padK(depth);
  const wsrc = k.input(1);
  const w = new Int16Array(units * kp);
  for (let u = 0; u < units; u++)
    for (let i = 0; i < depth; i++) w[u * kp + i] = (wsrc[u * depth + i] as number) - wz[u]!;
  const [actMin, actMax] = quantActivationRange(act, outT);
  const inOff = -qp(inT).zp;
  const gemm = makeQGemm({
    w,
    n: units,
    kp,
    bias,
    mult,
    shift,
    zp: qp(outT).zp,
    actMin,
    actMax,
    rows: batch,
    rounding: gemmRoundingFor(dt),
  });
  const x = k.input(0) as Int8Array | Uint8Array;
  const y = out as Int8Array | Uint8Array;
  k.kernel(gemm.name);
  return () => {
    const a = gemm.a;
    for (let b = 0; b < batch; b++) for (let i = 0; i < depth; i++) a[b * kp + i] = x[b * depth + i]! + inOff;
    gemm.run(batch, y, 0, units);
  };
};
