import { badOp, unsupportedType } from '../errors.js';
import type { Kernel, KernelArgs } from '../kernel.js';
import { ActivationFunctionType } from '../../tflite/schema.js';
import { LSTM_INPUT } from './lstm-inputs.js';
import { integerLstm } from './lstm-integer.js';

export { LSTM_INPUT } from './lstm-inputs.js';

const I = LSTM_INPUT;

/** The cell-gate and output activation (params->activation); TFLite applies the same function to both. */
function activationFn(op: KernelArgs['op'], act: number): (v: number) => number {
  switch (act) {
    case ActivationFunctionType.NONE:
      return (v) => v;
    case ActivationFunctionType.RELU:
      return (v) => (v < 0 ? 0 : v);
    case ActivationFunctionType.RELU_N1_TO_1:
      return (v) => (v < -1 ? -1 : v > 1 ? 1 : v);
    case ActivationFunctionType.RELU6:
      return (v) => (v < 0 ? 0 : v > 6 ? 6 : v);
    case ActivationFunctionType.TANH:
      return Math.tanh;
    default:
      throw badOp(op, `activation ${act} is not supported`);
  }
}

const sigmoid = (v: number): number => 1 / (1 + Math.exp(-v));

interface Gate {
  wx: Float32Array;
  wh: Float32Array;
  peephole: Float32Array | null;
  layerNorm: Float32Array | null;
  bias: Float32Array | null;
}

/**
 * UNIDIRECTIONAL_SEQUENCE_LSTM, float32 (TFLite 2.9's lstm_eval EvalFloat / LstmStepFloat). Per time step and batch:
 * each gate = bias + Wx·x + Wh·h (with layer norm: the bias comes after normalising and scaling), + peephole·c for the
 * input and forget gates (old c) and the output gate (new c); input/forget/output gates through a sigmoid, the cell gate
 * through the op's activation; CIFG (no input-gate weights) uses 1 − forget as the input gate; c = f·c + i·g clipped to
 * ±cell_clip when > 0; h = o·act(c), projected (+ bias, clipped to ±proj_clip when > 0) when there are projection
 * weights. Output and cell state are variable tensors: they carry over from one `run` to the next, as in TFLite.
 */
export const unidirectionalSequenceLstm: Kernel = (k) => {
  if (k.numInputs !== 24) throw badOp(k.op, `needs 24 inputs, has ${k.numInputs}`);
  const inShape = k.shape(I.input);
  if (inShape.length !== 3) throw badOp(k.op, `input must be 3-D, is [${inShape.join(',')}]`);
  const timeMajor = k.opts.timeMajor ?? false;
  const [maxTime, nBatch] = timeMajor ? [inShape[0]!, inShape[1]!] : [inShape[1]!, inShape[0]!];
  const nInput = inShape[2]!;
  const fw = k.shape(I.inputToForget);
  if (fw.length !== 2 || fw[1] !== nInput) throw badOp(k.op, `input_to_forget_weights [${fw}] do not take ${nInput}`);
  const nCell = fw[0]!;
  const rw = k.shape(I.recurrentToForget);
  if (rw.length !== 2 || rw[0] !== nCell) throw badOp(k.op, `recurrent_to_forget_weights [${rw}] do not fit ${nCell}`);
  const nOutput = rw[1]!;
  for (const i of [I.outputState, I.cellState]) {
    const t = k.tensor(i);
    if (!t?.isVariable)
      throw badOp(k.op, `input ${i} (the ${i === I.outputState ? 'output' : 'cell'} state) must be a variable tensor`);
  }
  const dt = k.dtype(I.input);
  const wt = k.dtype(I.inputToForget);
  if (dt === 'int8' && wt === 'int8') return integerLstm(k, { timeMajor, maxTime, nBatch, nInput, nCell, nOutput });
  if (dt !== 'float32' || wt !== 'float32') {
    throw unsupportedType(
      k.op,
      `${dt} input with ${wt} weights (the float32 and the int8 × int16-cell LSTMs are implemented)`,
    );
  }
  const f32 = (i: number, len: number, what: string): Float32Array | null => {
    if (!k.tensor(i)) return null;
    if (k.dtype(i) !== 'float32') throw unsupportedType(k.op, `a ${k.dtype(i)} ${what}`);
    const v = k.input(i) as Float32Array;
    if (v.length !== len) throw badOp(k.op, `${what} (input ${i}) has ${v.length} values, needs ${len}`);
    return v;
  };
  const need = (i: number, len: number, what: string): Float32Array => {
    const v = f32(i, len, what);
    if (!v) throw badOp(k.op, `${what} (input ${i}) is required`);
    return v;
  };
  const cifg = !k.tensor(I.inputToInput);
  const useLayerNorm = !!k.tensor(I.forgetLayerNorm);
  const gate = (wx: number, wh: number, peep: number, ln: number, bias: number, name: string): Gate => ({
    wx: need(wx, nCell * nInput, `${name} input weights`),
    wh: need(wh, nCell * nOutput, `${name} recurrent weights`),
    peephole: f32(peep, nCell, `${name} peephole weights`),
    layerNorm: useLayerNorm ? need(ln, nCell, `${name} layer norm coefficients`) : null,
    bias: f32(bias, nCell, `${name} gate bias`),
  });
  const inputGate = cifg
    ? null
    : gate(I.inputToInput, I.recurrentToInput, I.cellToInput, I.inputLayerNorm, I.inputGateBias, 'input');
  const forgetGate = gate(
    I.inputToForget,
    I.recurrentToForget,
    I.cellToForget,
    I.forgetLayerNorm,
    I.forgetGateBias,
    'forget',
  );
  const cellGate = gate(I.inputToCell, I.recurrentToCell, -1, I.cellLayerNorm, I.cellGateBias, 'cell');
  const outputGate = gate(
    I.inputToOutput,
    I.recurrentToOutput,
    I.cellToOutput,
    I.outputLayerNorm,
    I.outputGateBias,
    'output',
  );
  const proj = f32(I.projectionWeights, nOutput * nCell, 'projection weights');
  const projBias = f32(I.projectionBias, nOutput, 'projection bias');
  if (!proj && nOutput !== nCell)
    throw badOp(k.op, `without projection the output size ${nOutput} must equal ${nCell}`);
  const hState = k.input(I.outputState) as Float32Array;
  const cState = k.input(I.cellState) as Float32Array;
  if (hState.length !== nBatch * nOutput || cState.length !== nBatch * nCell) {
    throw badOp(k.op, `state tensors do not hold ${nBatch} batches of ${nOutput} outputs and ${nCell} cells`);
  }
  const act = activationFn(k.op, k.opts.fusedActivationFunction ?? ActivationFunctionType.TANH);
  const cellClip = k.opts.cellClip ?? 0;
  const projClip = k.opts.projClip ?? 0;
  const x = k.input(I.input) as Float32Array;
  const y = k.output(0, timeMajor ? [maxTime, nBatch, nOutput] : [nBatch, maxTime, nOutput]) as Float32Array;

  const gi = new Float64Array(nCell);
  const gf = new Float64Array(nCell);
  const gc = new Float64Array(nCell);
  const go = new Float64Array(nCell);
  const hc = new Float64Array(nCell);

  /** Pre-activation of one gate for one batch row: x at xb, h at hb, peephole over the cell state at cb. */
  const preact = (gt: Gate, out: Float64Array, xb: number, hb: number, cb: number): void => {
    for (let c = 0; c < nCell; c++) {
      let s = gt.layerNorm || !gt.bias ? 0 : gt.bias[c]!;
      const wxb = c * nInput;
      for (let j = 0; j < nInput; j++) s += gt.wx[wxb + j]! * x[xb + j]!;
      const whb = c * nOutput;
      for (let j = 0; j < nOutput; j++) s += gt.wh[whb + j]! * hState[hb + j]!;
      if (gt.peephole) s += gt.peephole[c]! * cState[cb + c]!;
      out[c] = s;
    }
    if (gt.layerNorm) {
      let sum = 0;
      let sumSq = 0;
      for (let c = 0; c < nCell; c++) {
        sum += out[c]!;
        sumSq += out[c]! * out[c]!;
      }
      const mean = sum / nCell;
      const variance = sumSq / nCell - mean * mean;
      const inv = 1 / Math.sqrt(variance + 1e-8);
      for (let c = 0; c < nCell; c++) out[c] = (out[c]! - mean) * inv * gt.layerNorm[c]! + (gt.bias ? gt.bias[c]! : 0);
    }
  };

  const step = (xb: number, b: number, yb: number): void => {
    const hb = b * nOutput;
    const cb = b * nCell;
    preact(forgetGate, gf, xb, hb, cb);
    for (let c = 0; c < nCell; c++) gf[c] = sigmoid(gf[c]!);
    if (inputGate) {
      preact(inputGate, gi, xb, hb, cb);
      for (let c = 0; c < nCell; c++) gi[c] = sigmoid(gi[c]!);
    } else {
      for (let c = 0; c < nCell; c++) gi[c] = 1 - gf[c]!;
    }
    preact(cellGate, gc, xb, hb, cb);
    for (let c = 0; c < nCell; c++) gc[c] = act(gc[c]!);
    for (let c = 0; c < nCell; c++) {
      let v = gf[c]! * cState[cb + c]! + gi[c]! * gc[c]!;
      if (cellClip > 0) v = v < -cellClip ? -cellClip : v > cellClip ? cellClip : v;
      cState[cb + c] = v;
    }
    preact(outputGate, go, xb, hb, cb);
    for (let c = 0; c < nCell; c++) hc[c] = sigmoid(go[c]!) * act(cState[cb + c]!);
    if (proj) {
      for (let o = 0; o < nOutput; o++) {
        let s = projBias ? projBias[o]! : 0;
        const pb = o * nCell;
        for (let c = 0; c < nCell; c++) s += proj[pb + c]! * hc[c]!;
        if (projClip > 0) s = s < -projClip ? -projClip : s > projClip ? projClip : s;
        hState[hb + o] = s;
      }
    } else {
      for (let o = 0; o < nOutput; o++) hState[hb + o] = hc[o]!;
    }
    for (let o = 0; o < nOutput; o++) y[yb + o] = hState[hb + o]!;
  };

  return () => {
    for (let t = 0; t < maxTime; t++) {
      for (let b = 0; b < nBatch; b++) {
        const row = timeMajor ? t * nBatch + b : b * maxTime + t;
        step(row * nInput, b, row * nOutput);
      }
    }
  };
};
