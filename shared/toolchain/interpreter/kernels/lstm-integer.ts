import type { Tensor } from '../../ir/types.js';
import { badOp, unsupportedType } from '../errors.js';
import {
  int16ActivationTable,
  invSqrtQuantizedMultiplierExp,
  mulByQuantMul,
  quantizeMultiplier,
  roundingDivideByPOT,
  wrap16,
  type QuantizedMultiplier,
} from '../fixed-point.js';
import type { KernelArgs } from '../kernel.js';
import { LSTM_INPUT as I } from './lstm-inputs.js';

const f32 = Math.fround;

export interface LstmDims {
  timeMajor: boolean;
  maxTime: number;
  nBatch: number;
  nInput: number;
  nCell: number;
  nOutput: number;
}

/** One gate's constants: weights, pre-folded zero-point biases, multipliers, optional peephole and layer norm. */
interface IntGate {
  wx: Int8Array;
  wh: Int8Array;
  /** bias + (−input_zp)·Σ row of wx (the gate bias only without layer norm). */
  biasX: Int32Array;
  /** (−output_state_zp)·Σ row of wh. */
  biasH: Int32Array;
  mx: QuantizedMultiplier;
  mh: QuantizedMultiplier;
  peephole: Int16Array | null;
  mc: QuantizedMultiplier;
  layerNorm: Int16Array | null;
  lnBias: Int32Array | null;
  mln: QuantizedMultiplier;
  varianceGuard: number;
  act: Int16Array;
}

/** TFLite CheckedLog2: the integer log2 of a power-of-two scale, or null. */
function checkedLog2(x: number): number | null {
  const l = f32(f32(Math.log(x)) * f32(1 / f32(Math.log(2))));
  const r = Math.round(l);
  return Math.abs(f32(l - r)) < 1e-3 ? r : null;
}

/**
 * UNIDIRECTIONAL_SEQUENCE_LSTM, full integer (TFLite 2.9's 8x8_16 path: lstm_eval EvalInteger8x8_16 with the
 * portable tensor_utils). int8 input, output state and weights, int16 cell state (a power-of-two scale ≤ 2^−9), int32
 * biases, int16 peephole and layer-norm weights. Each gate: two int8 GEMMs rescaled into int16 at the gate's
 * intermediate scale (2^−12 without layer norm, op.extra.intermediates[0..3] with it), int16 peephole, integer layer norm,
 * then gemmlowp's int16 sigmoid (F3) or tanh (F3); the cell update in Q(−cell_scale); the hidden state is
 * sigmoid(o)·tanh(c) requantized to intermediates[4] and projected to the output state. As in TFLite, the cell gate and
 * the output use tanh whatever the op's fused activation says, and the hidden zero point enters with TFLite 2.9's signs:
 * subtracted when the hidden state is requantized (PortableCwiseMul) and added (+zp·Σ row) in the projection bias; both
 * were checked byte for byte against the runtime.
 */
export function integerLstm(k: KernelArgs, d: LstmDims): () => void {
  const { nCell, nOutput, nInput, nBatch, maxTime, timeMajor } = d;
  const op = k.op;
  const want = (i: number, dtype: string, what: string): void => {
    if (k.tensor(i) && k.dtype(i) !== dtype) throw unsupportedType(op, `an integer LSTM with a ${k.dtype(i)} ${what}`);
  };
  const scale = (t: Tensor | undefined, what: string): number => {
    const s = t?.quant?.scale[0];
    if (s === undefined || !(s > 0)) throw badOp(op, `${what} has no quantization scale`);
    return f32(s);
  };
  const zp = (t: Tensor | undefined): number => t?.quant?.zeroPoint[0] ?? 0;
  want(I.outputState, 'int8', 'output state');
  want(I.cellState, 'int16', 'cell state (needs int16)');
  for (const i of [1, 2, 3, 4, 5, 6, 7, 8, I.projectionWeights]) want(i, 'int8', `weight tensor (input ${i})`);
  for (const i of [9, 10, 11]) want(i, 'int16', `peephole weight tensor (input ${i})`);
  for (const i of [12, 13, 14, 15, I.projectionBias]) want(i, 'int32', `bias tensor (input ${i})`);
  for (const i of [20, 21, 22, 23]) want(i, 'int16', `layer norm tensor (input ${i})`);
  if (k.outTensor(0).dtype !== 'int8') throw unsupportedType(op, `an integer LSTM with ${k.outTensor(0).dtype} output`);

  const cifg = !k.tensor(I.inputToInput);
  const useLayerNorm = !!k.tensor(I.forgetLayerNorm);
  const usePeephole = !!k.tensor(I.cellToOutput);
  const useProjection = !!k.tensor(I.projectionWeights);
  if (!useProjection && nOutput !== nCell)
    throw badOp(op, `without projection the output size ${nOutput} must equal ${nCell}`);
  if (usePeephole && nOutput > nCell) {
    throw unsupportedType(
      op,
      `an integer LSTM with peephole weights and an output size ${nOutput} larger than the cell size ${nCell} (TFLite 2.9 reads the peephole past its end)`,
    );
  }

  const interIds = (op.extra?.['intermediates'] as number[] | undefined) ?? [];
  const inter = (i: number): Tensor => {
    const t = interIds[i] !== undefined ? k.graph.tensors[interIds[i]!] : undefined;
    if (!t?.quant) {
      throw badOp(
        op,
        `the integer LSTM needs 5 quantized intermediate tensors (op intermediates), intermediate ${i} is missing`,
      );
    }
    return t;
  };
  const interScale: number[] = [];
  for (let g = 0; g < 4; g++) interScale.push(useLayerNorm ? scale(inter(g), `intermediate ${g}`) : 2 ** -12);
  const hiddenT = inter(4);
  const hiddenScale = scale(hiddenT, 'intermediate 4 (hidden)');
  const hiddenZp = zp(hiddenT);

  const xT = k.tensor(I.input);
  const hT = k.tensor(I.outputState);
  const cT = k.tensor(I.cellState);
  const xScale = scale(xT, 'the input');
  const xZp = zp(xT);
  const hScale = scale(hT, 'the output state');
  const hZp = zp(hT);
  const cellLog2 = checkedLog2(scale(cT, 'the cell state'));
  if (cellLog2 === null || cellLog2 > -9) {
    throw unsupportedType(op, `an integer LSTM whose cell state scale is not a power of two ≤ 2^-9`);
  }
  const outScale = scale(k.outTensor(0), 'the output');

  const cellClip = f32(k.opts.cellClip ?? 0);
  const projClip = f32(k.opts.projClip ?? 0);
  const qCellClip =
    cellClip > 0 ? Math.trunc(Math.min(Math.max(f32(cellClip / f32(2 ** cellLog2)), -32768), 32767)) : 0;
  const qProjClip = projClip > 0 ? Math.trunc(Math.min(Math.max(f32(projClip / outScale), -128), 127)) : 0;

  const ints = <T extends Int8Array | Int16Array | Int32Array>(i: number, len: number, what: string): T => {
    if (!k.isConst(i)) throw badOp(op, `${what} (input ${i}) must be a constant`);
    const v = k.input(i) as T;
    if (v.length !== len) throw badOp(op, `${what} (input ${i}) has ${v.length} values, needs ${len}`);
    return v;
  };
  const rowSumsTimes = (w: Int8Array, cols: number, factor: number, bias: Int32Array | null): Int32Array => {
    const out = new Int32Array(w.length / cols);
    for (let r = 0; r < out.length; r++) {
      let s = 0;
      for (let c = 0; c < cols; c++) s += w[r * cols + c]!;
      out[r] = (bias ? bias[r]! : 0) + s * factor;
    }
    return out;
  };

  const gate = (
    wx: number,
    wh: number,
    peep: number,
    ln: number,
    bias: number,
    g: number,
    act: Int16Array,
    name: string,
  ): IntGate => {
    const wxv = ints<Int8Array>(wx, nCell * nInput, `${name} input weights`);
    const whv = ints<Int8Array>(wh, nCell * nOutput, `${name} recurrent weights`);
    const biasV = k.tensor(bias) ? ints<Int32Array>(bias, nCell, `${name} gate bias`) : null;
    if (!biasV) throw badOp(op, `${name} gate bias (input ${bias}) is required`);
    const lnV = useLayerNorm ? ints<Int16Array>(ln, nCell, `${name} layer norm coefficients`) : null;
    const peepV = peep >= 0 && usePeephole ? ints<Int16Array>(peep, nCell, `${name} peephole weights`) : null;
    const lnScale = lnV ? scale(k.tensor(ln), `${name} layer norm coefficients`) : 1;
    const peepScale = peepV ? scale(k.tensor(peep), `${name} peephole weights`) : 1;
    return {
      wx: wxv,
      wh: whv,
      biasX: rowSumsTimes(wxv, nInput, -xZp, lnV ? null : biasV),
      biasH: rowSumsTimes(whv, nOutput, -hZp, null),
      mx: quantizeMultiplier(f32(f32(scale(k.tensor(wx), `${name} input weights`) * xScale) / interScale[g]!)),
      mh: quantizeMultiplier(f32(f32(scale(k.tensor(wh), `${name} recurrent weights`) * hScale) / interScale[g]!)),
      peephole: peepV,
      mc: quantizeMultiplier(f32((2 ** cellLog2 * peepScale) / interScale[g]!)),
      layerNorm: lnV,
      lnBias: lnV ? biasV : null,
      mln: quantizeMultiplier(lnScale),
      varianceGuard: Math.max(1, Math.trunc(f32(10000 * lnScale))),
      act,
    };
  };
  const sigmoid = int16ActivationTable('logistic', 3);
  const tanhGate = int16ActivationTable('tanh', 3);
  const tanhCell = int16ActivationTable('tanh', 15 + cellLog2);
  const inputGate = cifg
    ? null
    : gate(I.inputToInput, I.recurrentToInput, I.cellToInput, I.inputLayerNorm, I.inputGateBias, 0, sigmoid, 'input');
  const forgetGate = gate(
    I.inputToForget,
    I.recurrentToForget,
    I.cellToForget,
    I.forgetLayerNorm,
    I.forgetGateBias,
    1,
    sigmoid,
    'forget',
  );
  const cellGate = gate(I.inputToCell, I.recurrentToCell, -1, I.cellLayerNorm, I.cellGateBias, 2, tanhGate, 'cell');
  const outputGate = gate(
    I.inputToOutput,
    I.recurrentToOutput,
    I.cellToOutput,
    I.outputLayerNorm,
    I.outputGateBias,
    3,
    sigmoid,
    'output',
  );
  const mHidden = quantizeMultiplier(f32((2 ** -15 / hiddenScale) * 2 ** -15));
  const proj = useProjection ? ints<Int8Array>(I.projectionWeights, nOutput * nCell, 'projection weights') : null;
  const projBiasV = k.tensor(I.projectionBias) ? ints<Int32Array>(I.projectionBias, nOutput, 'projection bias') : null;
  const projBias = proj ? rowSumsTimes(proj, nCell, hiddenZp, projBiasV) : null;
  const mProj = proj
    ? quantizeMultiplier(f32(f32(scale(k.tensor(I.projectionWeights), 'projection weights') * hiddenScale) / hScale))
    : null;

  const hState = k.input(I.outputState) as Int8Array;
  const cState = k.input(I.cellState) as Int16Array;
  if (hState.length !== nBatch * nOutput || cState.length !== nBatch * nCell) {
    throw badOp(op, `state tensors do not hold ${nBatch} batches of ${nOutput} outputs and ${nCell} cells`);
  }
  const x = k.input(I.input) as Int8Array;
  const y = k.output(0, timeMajor ? [maxTime, nBatch, nOutput] : [nBatch, maxTime, nOutput]) as Int8Array;

  // Scratch sized for the largest step (all batches at once when time-major).
  const rows = timeMajor ? nBatch : 1;
  const gi = new Int16Array(rows * nCell);
  const gf = new Int16Array(rows * nCell);
  const gc = new Int16Array(rows * nCell);
  const go = new Int16Array(rows * nCell);
  const hidden = new Int8Array(rows * nCell);

  /** MatrixBatchVectorMultiplyAccumulate (int8 × int8 → int16, accumulating into out). */
  const gemmAcc16 = (
    v: Int8Array,
    vOff: number,
    w: Int8Array,
    bias: Int32Array,
    m: QuantizedMultiplier,
    n: number,
    cols: number,
    out: Int16Array,
  ): void => {
    for (let b = 0; b < n; b++) {
      const vb = vOff + b * cols;
      for (let r = 0; r < nCell; r++) {
        let acc = bias[r]!;
        const wr = r * cols;
        for (let c = 0; c < cols; c++) acc += v[vb + c]! * w[wr + c]!;
        acc = mulByQuantMul(acc | 0, m.multiplier, m.shift) + out[b * nCell + r]!;
        out[b * nCell + r] = acc > 32767 ? 32767 : acc < -32768 ? -32768 : acc;
      }
    }
  };

  /** CalculateLstmGateInteger8x8_16 for n rows: x at xOff, h at hOff, cell state at cOff. */
  const runGate = (gt: IntGate, out: Int16Array, n: number, xOff: number, hOff: number, cOff: number): void => {
    out.fill(0, 0, n * nCell);
    gemmAcc16(x, xOff, gt.wx, gt.biasX, gt.mx, n, nInput, out);
    gemmAcc16(hState, hOff, gt.wh, gt.biasH, gt.mh, n, nOutput, out);
    if (gt.peephole) {
      // VectorBatchVectorCwiseProductAccumulate(peephole, n_output, cell_state, n_batch, ...) as TFLite calls it:
      // n_output values per row, walked contiguously over the cell state and the gate.
      const p = gt.peephole;
      for (let i = 0; i < n * nOutput; i++) {
        const prod = mulByQuantMul(p[i % nOutput]! * cState[cOff + i]!, gt.mc.multiplier, gt.mc.shift) + out[i]!;
        out[i] = prod > 32767 ? 32767 : prod < -32768 ? -32768 : prod;
      }
    }
    if (gt.layerNorm) layerNorm(gt, out, n);
    const act = gt.act;
    for (let i = 0; i < n * nCell; i++) out[i] = act[out[i]! + 32768]!;
  };

  /** ApplyLayerNorm (integer): mean and variance in 2^10-scaled integers, 1/σ by GetInvSqrtQuantizedMultiplierExp. */
  const layerNorm = (gt: IntGate, g: Int16Array, n: number): void => {
    const w = gt.layerNorm!;
    const bias = gt.lnBias!;
    const temp = Math.trunc(1048576 / nCell);
    for (let b = 0; b < n; b++) {
      const base = b * nCell;
      let sum = 0;
      let sumSq = 0n;
      for (let j = 0; j < nCell; j++) {
        const v = g[base + j]!;
        sum += v;
        sumSq += BigInt(v * v);
      }
      const mean = Number((BigInt(sum) * 1024n) / BigInt(nCell));
      const variance = sumSq * BigInt(temp) - BigInt(mean) * BigInt(mean);
      let variance2 = Number(BigInt.asIntN(32, variance / 1048576n));
      if (variance2 < 1) variance2 = gt.varianceGuard;
      const inv = invSqrtQuantizedMultiplierExp(variance2, -1);
      for (let j = 0; j < nCell; j++) {
        const shifted = (1024 * g[base + j]! - mean) | 0;
        const rescaled = mulByQuantMul(shifted, inv.multiplier, inv.shift);
        const val3 = Math.imul(rescaled, w[j]!) + bias[j]!;
        const val4 = Math.trunc((val3 > 0 ? val3 + 512 : val3 - 512) / 1024);
        const val5 = mulByQuantMul(val4 | 0, gt.mln.multiplier, gt.mln.shift + 12);
        g[base + j] = val5 > 32767 ? 32767 : val5 < -32768 ? -32768 : val5;
      }
    }
  };

  const cellShift = 30 + cellLog2;
  /** LstmStepInteger8x8_16 over n contiguous rows. */
  const step = (n: number, xOff: number, hOff: number, cOff: number, yOff: number): void => {
    if (inputGate) runGate(inputGate, gi, n, xOff, hOff, cOff);
    runGate(forgetGate, gf, n, xOff, hOff, cOff);
    runGate(cellGate, gc, n, xOff, hOff, cOff);
    // UpdateLstmCellInteger.
    for (let i = 0; i < n * nCell; i++) {
      const c = wrap16(roundingDivideByPOT(gf[i]! * cState[cOff + i]!, 15));
      const ig = inputGate ? gi[i]! : wrap16(32767 - gf[i]!);
      const u = wrap16(roundingDivideByPOT(ig * gc[i]!, cellShift));
      let s = c + u;
      s = s > 32767 ? 32767 : s < -32768 ? -32768 : s;
      if (qCellClip > 0) s = s > qCellClip ? qCellClip : s < -qCellClip ? -qCellClip : s;
      cState[cOff + i] = s;
    }
    runGate(outputGate, go, n, xOff, hOff, cOff);
    // CalculateLstmOutputInteger8x8_16.
    for (let i = 0; i < n * nCell; i++) {
      const t = tanhCell[cState[cOff + i]! + 32768]!;
      let v = mulByQuantMul(go[i]! * t, mHidden.multiplier, mHidden.shift) - hiddenZp;
      v = v > 127 ? 127 : v < -128 ? -128 : v;
      hidden[i] = v;
    }
    if (proj) {
      for (let b = 0; b < n; b++) {
        for (let r = 0; r < nOutput; r++) {
          let acc = projBias![r]!;
          const pr = r * nCell;
          for (let c = 0; c < nCell; c++) acc += hidden[b * nCell + c]! * proj[pr + c]!;
          acc = mulByQuantMul(acc | 0, mProj!.multiplier, mProj!.shift) + hZp;
          acc = acc > 127 ? 127 : acc < -128 ? -128 : acc;
          if (qProjClip > 0) acc = acc > qProjClip ? qProjClip : acc < -qProjClip ? -qProjClip : acc;
          hState[hOff + b * nOutput + r] = acc;
        }
      }
    } else {
      hState.set(hidden.subarray(0, n * nOutput), hOff);
    }
    y.set(hState.subarray(hOff, hOff + n * nOutput), yOff);
  };

  return () => {
    if (timeMajor) {
      for (let t = 0; t < maxTime; t++) step(nBatch, t * nBatch * nInput, 0, 0, t * nBatch * nOutput);
    } else {
      for (let b = 0; b < nBatch; b++) {
        for (let t = 0; t < maxTime; t++) {
          const row = b * maxTime + t;
          step(1, row * nInput, b * nOutput, b * nCell, row * nOutput);
        }
      }
    }
  };
}
