/**
 * ConvTranspose over a rank-5 input as 2-D TRANSPOSE_CONVs, one per kernel depth tap: every input depth slice goes
 * through tap z's 2-D kernel at once (the slices batched), and lands at output depth id·stride + z·dilation — the
 * results spread by the depth stride (PAD of zero slices between them), shifted by the tap's offset, and summed. Pads
 * crop the full result; the bias is added last. Weights may be constants or computed at run time.
 */
import { emitPad, emitSlice } from '../../emit.js';
import { tensorVal, type OnnxCtx, type Value } from '../context.js';
import { channelsLast } from '../layout.js';
import { F32 } from './common.js';
import { dilateAtRunTime } from './nn.js';

export function convTranspose3d(c: OnnxCtx): Value[] {
  if (c.has(2) && !c.isConst(2)) throw c.refuse('a bias computed at run time');
  if (c.attr.i('group', 1) !== 1) throw c.refuse('grouped transposed convolution');
  if (c.attr.ints('output_shape') || c.attr.s('auto_pad', 'NOTSET') !== 'NOTSET')
    throw c.refuse('a 3-D transposed convolution sized by output_shape or auto_pad', 'Give its pads explicitly');
  const outPad = c.attr.ints('output_padding') ?? [0, 0, 0];
  if (outPad.some((v) => v !== 0)) throw c.refuse('a 3-D transposed convolution with output_padding');
  const [N, Cin, D, H, W] = c.shape(0) as [number, number, number, number, number];
  const [, Cout, kd, kh, kw] = c.shape(1) as [number, number, number, number, number];
  const [sd, sh, sw] = (c.attr.ints('strides') ?? [1, 1, 1]) as [number, number, number];
  const [dd, dh, dw] = (c.attr.ints('dilations') ?? [1, 1, 1]) as [number, number, number];
  const pads = c.attr.ints('pads') ?? [0, 0, 0, 0, 0, 0];
  const b = c.b;
  const n = (what: string): string => `${c.name}/${what}`;
  const x = b.reshape(c.tensor(0, channelsLast(5)), [N * D, H, W, Cin], { name: n('slices') });
  // weights [in][out][kd][kh][kw] → [out][kd][kh][kw][in]
  const w = c.tensor(1, [1, 2, 3, 4, 0]);
  const kh2 = (kh - 1) * dh + 1;
  const kw2 = (kw - 1) * dw + 1;
  const Hf = sh * (H - 1) + kh2;
  const Wf = sw * (W - 1) + kw2;
  const Df = sd * (D - 1) + (kd - 1) * dd + 1;
  const F = Hf * Wf * Cout;
  const spread = sd * (D - 1) + 1;
  let sum: number | undefined;
  for (let z = 0; z < kd; z++) {
    const tap = b.reshape(emitSlice(b, w, [0, z, 0, 0, 0], [Cout, 1, kh, kw, Cin], n(`tap${z}`)), [Cout, kh, kw, Cin], {
      name: n(`tap${z}_2d`),
    });
    const kernel = dilateAtRunTime(c, tap, [Cout, kh, kw, Cin], dh, dw);
    const y = b.op(
      'TRANSPOSE_CONV',
      [b.constant(n(`tap${z}_shape`), 'int32', [4], [N * D, Hf, Wf, Cout]), kernel, x],
      { padding: 1, strideH: sh, strideW: sw },
      { outputs: [{ name: n(`tap${z}_full`), shape: [N * D, Hf, Wf, Cout], dtype: F32 }] },
    )[0]!;
    let depth = b.reshape(y, [N * D, 1, F], { name: n(`tap${z}_rows`) });
    if (sd > 1) {
      const gaps = emitPad(
        b,
        depth,
        [
          [0, 0],
          [0, sd - 1],
          [0, 0],
        ],
        n(`tap${z}_gaps`),
      );
      depth = emitSlice(
        b,
        b.reshape(gaps, [N, D * sd, F], { name: n(`tap${z}_strided`) }),
        [0, 0, 0],
        [N, spread, F],
        n(`tap${z}_spread`),
      );
    } else depth = b.reshape(depth, [N, D, F], { name: n(`tap${z}_depth`) });
    const placed = emitPad(
      b,
      depth,
      [
        [0, 0],
        [z * dd, Df - spread - z * dd],
        [0, 0],
      ],
      n(`tap${z}_placed`),
    );
    sum = sum === undefined ? placed : b.binary('ADD', sum, placed, {}, { name: n(`sum${z}`) });
  }
  const [pd0, ph0, pw0, pd1, ph1, pw1] = pads as [number, number, number, number, number, number];
  const [Do, Ho, Wo] = [Df - pd0 - pd1, Hf - ph0 - ph1, Wf - pw0 - pw1];
  let y = b.reshape(sum!, [N * Df, Hf, Wf, Cout], { name: n('full') });
  if (ph0 || ph1 || pw0 || pw1) y = emitSlice(b, y, [0, ph0, pw0, 0], [N * Df, Ho, Wo, Cout], n('crop_hw'));
  if (pd0 || pd1) {
    const rows = b.reshape(y, [N, Df, Ho * Wo * Cout], { name: n('depth_rows') });
    y = emitSlice(b, rows, [0, pd0, 0], [N, Do, Ho * Wo * Cout], n('crop_d'));
  }
  y = b.reshape(y, [N * Do, Ho, Wo, Cout], { name: n('cropped') });
  if (c.has(2))
    y = b.binary(
      'ADD',
      y,
      b.constant(n('bias'), F32, [Cout], Float32Array.from(c.const(2).v)),
      {},
      { name: n('biased') },
    );
  return [tensorVal(b.reshape(y, [N, Do, Ho, Wo, Cout], { name: c.out() }), channelsLast(5))];
}
