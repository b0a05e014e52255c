import { KilnError } from '../../common/errors.js';
import type { IrModel } from '../ir/model.js';
import type { CaptureRunner } from './capture.js';
import type { Sample } from '../data/dataset.js';
import { feedInput } from '../data/feed.js';

/** Float vs dequantized error of one tensor over the debug samples (in the spirit of TFLite's QuantizationDebugger). */
export interface LayerError {
  tensor: string;
  /** Op that produces the tensor in the float model ('input' for graph inputs). */
  op: string;
  mse: number;
  maxAbs: number;
  /** 10·log10(Σ float² / Σ (float − dequantized)²), capped at 200 dB. */
  snrDb: number;
}

export const SNR_CAP_DB = 200;

/** Error statistics from accumulated sums. Pure. */
export function layerError(
  tensor: string,
  op: string,
  n: number,
  sumSqErr: number,
  sumSqRef: number,
  maxAbs: number,
): LayerError {
  const snr =
    sumSqErr === 0
      ? SNR_CAP_DB
      : sumSqRef === 0
        ? -SNR_CAP_DB
        : Math.min(SNR_CAP_DB, 10 * Math.log10(sumSqRef / sumSqErr));
  return { tensor, op, mse: n > 0 ? sumSqErr / n : 0, maxAbs, snrDb: snr };
}

/**
 * Runs float and quantized models on the same samples, capturing every tensor, and compares each quantized activation
 * (dequantized) with the float tensor of the same id (the quantizer keeps the float model's tensor ids; the tensors it
 * adds have new ids and are skipped). Results are in float-model tensor order.
 */
export async function compareLayers(
  floatModel: IrModel,
  quantModel: IrModel,
  samples: Sample[],
  open: (m: IrModel) => Promise<CaptureRunner>,
  onSample?: (done: number, total: number) => void,
): Promise<LayerError[]> {
  const fg = floatModel.graph;
  const qg = quantModel.graph;
  const { producer } = fg.index();
  const pairs = fg.tensors
    .filter((t) => t.dtype === 'float32' && !fg.isConstant(t.id))
    .map((t) => t.id)
    .filter((id) => {
      const q = qg.tensors[id];
      return (
        q !== undefined && (q.dtype === 'int8' || q.dtype === 'uint8') && !qg.isConstant(id) && q.quant !== undefined
      );
    });
  const acc = pairs.map(() => ({ n: 0, err: 0, ref: 0, max: 0 }));
  const fr = await open(floatModel);
  let qr: CaptureRunner | undefined;
  try {
    qr = await open(quantModel);
    for (let s = 0; s < samples.length; s++) {
      const sample = samples[s]!;
      // Views: both results are read before either runner runs again (two runners, one per model).
      const fRes = await fr.run(sample, { capture: true, views: true });
      const qInputs = qr.inputs.map((t, i) => feedInput(t, sample[i]!));
      const qRes = await qr.run(qInputs, { capture: true, views: true });
      if (!fRes.tensors || !qRes.tensors)
        throw new KilnError('E_INTERNAL', 'the executor returned no captured tensors');
      pairs.forEach((id, k) => {
        const f = fRes.tensors!.get(id)!.data as Float32Array;
        const qv = qRes.tensors!.get(id)!.data as Int8Array | Uint8Array;
        const { scale, zeroPoint } = qg.tensor(id).quant!;
        const sc = scale[0]!;
        const zp = zeroPoint[0]!;
        const a = acc[k]!;
        for (let i = 0; i < f.length; i++) {
          const d = f[i]! - sc * (qv[i]! - zp);
          a.err += d * d;
          a.ref += f[i]! * f[i]!;
          const ad = Math.abs(d);
          if (ad > a.max) a.max = ad;
        }
        a.n += f.length;
      });
      onSample?.(s + 1, samples.length);
    }
  } finally {
    fr.close?.();
    qr?.close?.();
  }
  return pairs.map((id, k) => {
    const a = acc[k]!;
    const p = producer[id]!;
    return layerError(fg.tensor(id).name, p >= 0 ? fg.ops[p]!.type : 'input', a.n, a.err, a.ref, a.max);
  });
}

/** The `n` tensors with the lowest SNR. */
export function worstLayers(layers: LayerError[], n = 5): LayerError[] {
  return [...layers].sort((a, b) => a.snrDb - b.snrDb).slice(0, n);
}
