/**
 * 3-D convolution and pooling (NCDHW) through TFLite's 2-D builtins, all on 4-D tensors. TFLite 2.9 has CONV_3D but no
 * 3-D pools, and the Edge TPU neither; the depth axis is handled as a batch of 2-D problems:
 *
 * - pooling is separable: pool H×W with the depth slices as the batch ([N·D, H, W, C]), then pool D with a [kd, 1]
 *   window over [N, D, H'·W', C] (max of maxes; for an unpadded average, the mean of means);
 * - a convolution is the sum over the kernel's depth taps j of a 2-D convolution with W[:, :, j] over every depth
 *   slice, each shifted by j·dilation and strided along depth (STRIDED_SLICE), plus the bias.
 */

import { tensorVal, type OnnxCtx, type Value } from '../context.js';
import { windowOf } from '../geometry.js';
import { channelsLast, permuteValues } from '../layout.js';
import { F32, floatOnly, type OnnxOpConverter } from './common.js';

const LOWEST = -3.4028234663852886e38;

function padded(c: OnnxCtx, x: number, pads: number[][], name: string, value: number): number {
  if (pads.every(([a, b]) => a === 0 && b === 0)) return x;
  return c.b.op(
    'PADV2',
    [
      x,
      c.b.constant(`${name}/paddings`, 'int32', [4, 2], pads.flat()),
      c.b.constant(`${name}/pad_value`, F32, [], [value]),
    ],
    {},
    { outputs: [{ name }] },
  )[0]!;
}

/** MaxPool / AveragePool over a rank-5 input. */
export function pool3d(c: OnnxCtx, type: 'MAX_POOL_2D' | 'AVERAGE_POOL_2D'): Value[] {
  if (c.node.output.length > 1 && c.node.output[1])
    throw c.refuse('the Indices output', 'TFLite max pooling does not return indices');
  if ((c.attr.ints('dilations') ?? []).some((d) => d !== 1)) throw c.refuse('dilated 3-D pooling');
  const [N, C, D, H, W] = c.shape(0) as [number, number, number, number, number];
  const ceil = c.attr.i('ceil_mode', 0) === 1;
  const win = windowOf(c, [D, H, W], c.attr.ints('kernel_shape')!, ceil);
  const hasPads = win.pads.some(([a, b]) => a !== 0 || b !== 0);
  if (type === 'AVERAGE_POOL_2D' && hasPads)
    throw c.refuse(
      '3-D average pooling over padding',
      'Kiln splits 3-D pooling into 2-D pools, which average padded windows only without padding',
    );
  const cl = channelsLast(5);
  const x = c.tensor(0, cl);
  const [kd, kh, kw] = win.kernel as [number, number, number];
  const [sd, sh, sw] = win.strides as [number, number, number];
  const fill = type === 'MAX_POOL_2D' ? LOWEST : 0;
  const hw = padded(
    c,
    c.b.reshape(x, [N * D, H, W, C], { name: `${c.name}/slices` }),
    [[0, 0], win.pads[1]!, win.pads[2]!, [0, 0]],
    `${c.name}/pad_hw`,
    fill,
  );
  const y1 = c.b.pool(
    type,
    hw,
    { filter: [kh, kw], stride: [sh, sw], padding: 'VALID' },
    { name: `${c.name}/pool_hw` },
  );
  const [, Ho, Wo] = c.b.g.tensor(y1).shape as [number, number, number, number];
  const d = padded(
    c,
    c.b.reshape(y1, [N, D, Ho * Wo, C], { name: `${c.name}/depth` }),
    [[0, 0], win.pads[0]!, [0, 0], [0, 0]],
    `${c.name}/pad_d`,
    fill,
  );
  const y2 = c.b.pool(type, d, { filter: [kd, 1], stride: [sd, 1], padding: 'VALID' }, { name: `${c.name}/pool_d` });
  const Do = c.b.g.tensor(y2).shape[1]!;
  return [tensorVal(c.b.reshape(y2, [N, Do, Ho, Wo, C], { name: c.out() }), cl)];
}

/** A grouped 2-D convolution (NHWC) with an OIHW kernel slice and no bias. */
function conv2dGroups(
  c: OnnxCtx,
  x: number,
  w: Float32Array,
  shape: [number, number, number, number],
  group: number,
  geo: { stride: [number, number]; dilation: [number, number] },
  name: string,
): number {
  const [M, Cg, kh, kw] = shape;
  const mg = M / group;
  const parts =
    group === 1
      ? [x]
      : c.b.op('SPLIT', [c.b.constant(`${name}/split_axis`, 'int32', [], [3]), x], { numSplits: group });
  const outs = parts.map((xp, g) => {
    const wg = w.subarray(g * mg * Cg * kh * kw, (g + 1) * mg * Cg * kh * kw);
    return c.b.conv2d(
      xp,
      c.b.constant(`${name}/kernel${g}`, F32, [mg, kh, kw, Cg], permuteValues(wg, [mg, Cg, kh, kw], [0, 2, 3, 1])),
      c.b.constant(`${name}/bias${g}`, F32, [mg], new Float32Array(mg)),
      { ...geo, padding: 'VALID' },
      { name: group === 1 ? name : `${name}/group${g}` },
    );
  });
  return outs.length === 1 ? outs[0]! : c.b.concat(outs, 3, { name });
}

/** Conv over a rank-5 input with constant weights. */
export function conv3d(c: OnnxCtx): Value[] {
  if (!c.isConst(1)) throw c.refuse('a 3-D convolution whose weights are computed at run time');
  const [N, Cin, D, H, W] = c.shape(0) as [number, number, number, number, number];
  const Wt = c.const(1);
  const [M, Cg, kd, kh, kw] = Wt.shape as [number, number, number, number, number];
  const group = c.attr.i('group', 1);
  if (Cg * group !== Cin || M % group !== 0)
    throw c.refuse(`group ${group} does not divide ${Cin} input and ${M} output channels`);
  const win = windowOf(c, [D, H, W], c.attr.ints('kernel_shape') ?? [kd, kh, kw]);
  const [sd, sh, sw] = win.strides as [number, number, number];
  const [dd, dh, dw] = win.dilations as [number, number, number];
  const cl = channelsLast(5);
  const x = c.tensor(0, cl);
  const depth = padded(
    c,
    c.b.reshape(x, [N, D, H * W, Cin], { name: `${c.name}/depth` }),
    [[0, 0], win.pads[0]!, [0, 0], [0, 0]],
    `${c.name}/pad_d`,
    0,
  );
  const Dp = D + win.pads[0]![0] + win.pads[0]![1];
  const xs = padded(
    c,
    c.b.reshape(depth, [N * Dp, H, W, Cin], { name: `${c.name}/slices` }),
    [[0, 0], win.pads[1]!, win.pads[2]!, [0, 0]],
    `${c.name}/pad_hw`,
    0,
  );
  const Do = Math.floor((Dp - ((kd - 1) * dd + 1)) / sd) + 1;
  const w = Float32Array.from(Wt.v);
  const tap = M * Cg * kh * kw;
  let sum: number | undefined;
  let Ho = 0;
  let Wo = 0;
  for (let j = 0; j < kd; j++) {
    // W[:, :, j] as an OIHW kernel
    const wj = new Float32Array(tap);
    for (let o = 0; o < M * Cg; o++)
      wj.set(w.subarray((o * kd + j) * kh * kw, (o * kd + j + 1) * kh * kw), o * kh * kw);
    const y = conv2dGroups(
      c,
      xs,
      wj,
      [M, Cg, kh, kw],
      group,
      { stride: [sh, sw], dilation: [dh, dw] },
      `${c.name}/tap${j}`,
    );
    [, Ho, Wo] = c.b.g.tensor(y).shape as [number, number, number, number];
    const y4 = c.b.reshape(y, [N, Dp, Ho * Wo, M], { name: `${c.name}/tap${j}/depth` });
    const k = (what: string, v: number[]): number => c.b.constant(`${c.name}/tap${j}/${what}`, 'int32', [4], v);
    const sl = c.b.op(
      'STRIDED_SLICE',
      [
        y4,
        k('begin', [0, j * dd, 0, 0]),
        k('end', [N, j * dd + sd * (Do - 1) + 1, Ho * Wo, M]),
        k('strides', [1, sd, 1, 1]),
      ],
      { beginMask: 0, endMask: 0, shrinkAxisMask: 0 },
      { outputs: [{ name: `${c.name}/tap${j}/shifted`, shape: [N, Do, Ho * Wo, M] }] },
    )[0]!;
    sum = sum === undefined ? sl : c.b.binary('ADD', sum, sl, {}, { name: `${c.name}/sum${j}` });
  }
  const bias = c.has(2) ? Float32Array.from(c.const(2).v) : new Float32Array(M);
  const biased = c.b.binary(
    'ADD',
    sum!,
    c.b.constant(`${c.name}/bias`, F32, [M], bias),
    {},
    { name: `${c.name}/biased` },
  );
  return [tensorVal(c.b.reshape(biased, [N, Do, Ho, Wo, M], { name: c.out() }), cl)];
}

/** Wraps a 2-D converter: rank-5 inputs go to the 3-D one. */
export const orVolume =
  (flat: OnnxOpConverter, volume: OnnxOpConverter): OnnxOpConverter =>
  (c) => {
    if (c.rank(0) !== 5) return flat(c);
    floatOnly(c);
    return volume(c);
  };
