/**
 * MaxPool's second output, Indices: the flat offset of each window's maximum in the N·C·H·W input (row-major within
 * the plane, or column-major with storage_order=1), the offsets MaxUnpool reads. TFLite's MAX_POOL_2D returns no
 * indices, so the windows are laid out by a constant table: the input as [N·C, H·W] with one −FLT_MAX column appended
 * (where a window covers padding), one GATHER of every window's taps → [N·C, positions, taps], REDUCE_MAX over the
 * taps for the values and ARG_MAX for the first tap holding the maximum (ONNX takes the first in row-major window
 * order, as ARG_MAX does), whose spatial offset a second GATHER reads from a constant table (position·taps + tap →
 * offset), plus each plane's offset.
 */

import { TensorType } from '../../../tflite/schema.js';
import { tensorVal, type OnnxCtx, type Value } from '../context.js';
import { windowOf } from '../geometry.js';
import { F32, castTo, floatOnly, typedOp as op } from './common.js';

const I32 = 'int32';
const LOWEST = -3.4028234663852886e38;

/** Per output position and window tap: the source offset in the plane (−1 for padding), row- or column-major. */
export function windowTable(
  hw: [number, number],
  out: [number, number],
  win: { kernel: number[]; strides: number[]; dilations: number[]; pads: [number, number][] },
  columnMajor: boolean,
): number[] {
  const [H, W] = hw;
  const [kh, kw] = win.kernel as [number, number];
  const t: number[] = [];
  for (let i = 0; i < out[0]; i++)
    for (let j = 0; j < out[1]; j++)
      for (let a = 0; a < kh; a++)
        for (let b = 0; b < kw; b++) {
          const h = i * win.strides[0]! - win.pads[0]![0] + a * win.dilations[0]!;
          const w = j * win.strides[1]! - win.pads[1]![0] + b * win.dilations[1]!;
          t.push(h < 0 || h >= H || w < 0 || w >= W ? -1 : columnMajor ? w * H + h : h * W + w);
        }
  return t;
}

export function maxPoolWithIndices(c: OnnxCtx): Value[] {
  floatOnly(c);
  if (c.rank(0) !== 4) throw c.refuse(`the Indices output of a ${c.rank(0) - 2}-D max pool`, 'Kiln converts 2-D');
  const [N, C, H, W] = c.shape(0) as [number, number, number, number];
  const kernel = c.attr.ints('kernel_shape');
  if (!kernel || kernel.length !== 2) throw c.refuse('a kernel_shape that is not 2-D');
  const win = windowOf(c, [H, W], kernel, c.attr.i('ceil_mode', 0) === 1);
  const out = [0, 1].map((i) => {
    const k = (kernel[i]! - 1) * win.dilations[i]! + 1;
    return Math.floor(([H, W][i]! + win.pads[i]![0] + win.pads[i]![1] - k) / win.strides[i]!) + 1;
  }) as [number, number];
  if (out.some((d) => d <= 0)) throw c.refuse(`a window larger than the padded input [${H}, ${W}]`);
  if (N * C * H * W >= 2 ** 31) throw c.refuse(`an input of ${N * C * H * W} elements (offsets past int32)`);
  const rows = N * C;
  const plane = H * W;
  const taps = kernel[0]! * kernel[1]!;
  const positions = out[0] * out[1];
  const sourceTable = windowTable([H, W], out, win, false);
  const b = c.b;
  const name = c.name;
  const x = b.reshape(c.tensor(0, null), [rows, plane], { name: `${name}/planes` });
  const lowest = b.constant(`${name}/lowest`, F32, [rows, 1], new Float32Array(rows).fill(LOWEST));
  const extended = b.concat([x, lowest], 1, { name: `${name}/with_padding` });
  const gathered = op(
    c,
    'GATHER',
    [
      extended,
      b.constant(
        `${name}/taps`,
        I32,
        [positions * taps],
        sourceTable.map((s) => (s < 0 ? plane : s)),
      ),
    ],
    [rows, positions * taps],
    F32,
    `${name}/windows_flat`,
    { axis: 1, batchDims: 0 },
  );
  const windows = b.reshape(gathered, [rows, positions, taps], { name: `${name}/windows` });
  const tapAxis = b.constant(`${name}/tap_axis`, I32, [1], [2]);
  const max = op(c, 'REDUCE_MAX', [windows, tapAxis], [rows, positions], F32, `${name}/max`, { keepDims: false });
  const y = b.reshape(max, [N, C, out[0], out[1]], { name: c.out(0) });
  const tap = op(c, 'ARG_MAX', [windows, tapAxis], [rows, positions], I32, `${name}/tap`, {
    outputType: TensorType.INT32,
  });
  const firstTap = b.constant(
    `${name}/first_tap`,
    I32,
    [positions],
    Array.from({ length: positions }, (_v, p) => p * taps),
  );
  const at = op(c, 'ADD', [tap, firstTap], [rows, positions], I32, `${name}/tap_at`, { fusedActivationFunction: 0 });
  const columnMajor = c.attr.i('storage_order', 0) === 1;
  const offsets = columnMajor ? windowTable([H, W], out, win, true) : sourceTable;
  const spatial = op(
    c,
    'GATHER',
    [b.constant(`${name}/offsets`, I32, [positions * taps], offsets), at],
    [rows, positions],
    I32,
    `${name}/in_plane`,
    { axis: 0, batchDims: 0 },
  );
  const planeOffset = b.constant(
    `${name}/plane_offsets`,
    I32,
    [rows, 1],
    Array.from({ length: rows }, (_v, r) => r * plane),
  );
  const flat = op(c, 'ADD', [spatial, planeOffset], [rows, positions], I32, `${name}/flat_index`, {
    fusedActivationFunction: 0,
  });
  const indices = b.reshape(castTo(c, flat, 'int64', `${name}/index64`), [N, C, out[0], out[1]], {
    name: c.out(1),
  });
  return [tensorVal(y), tensorVal(indices)];
}
