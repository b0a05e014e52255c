import test from 'ava';
import { ModelBuilder } from '../../shared/toolchain/ir/builder.js';
import { Histogram } from '../../shared/toolchain/quantize/histogram.js';
import { readNpyFloat32 as readNpy } from '../../shared/toolchain/npy/index.js';
import {
  asymmetricParams,
  biasScales,
  quantizeBias,
  quantizeWeightsSymmetric,
  representedRange,
} from '../../shared/toolchain/quantize/quant-params.js';
import { chooseRange, type TensorStat } from '../../shared/toolchain/quantize/ranges.js';
import { parseQuantizeConfig } from '../../shared/toolchain/quantize/config.js';
import { normalizePixels } from '../../shared/toolchain/data/images.js';
import { precheckModel } from '../../shared/toolchain/quantize/precheck.js';
import { layerError } from '../../shared/toolchain/quantize/debugger.js';
import { rng } from '../helpers/models.js';
import { npyBytes } from './helpers.js';

test('asymmetric int8 parameters include zero and cover the range', (t) => {
  const p = asymmetricParams(-1, 3);
  t.is(p.zeroPoint, Math.round(-128 + 1 / p.scale));
  const [lo, hi] = representedRange(p);
  t.true(lo <= -1 + p.scale && hi >= 3 - p.scale);
  t.deepEqual(asymmetricParams(0.5, 2).zeroPoint, -128); // range widened to include 0
  t.deepEqual(asymmetricParams(-2, -0.5).zeroPoint, 127);
  t.true(asymmetricParams(0, 0).scale > 0); // constant-zero tensors still get a usable scale
});

test('symmetric weights: per channel along the axis, zero point 0, values in [-127, 127]', (t) => {
  // [2 channels, 3] on axis 0: channel 0 max 1, channel 1 max 10 (values off any coarse grid)
  const w = Float32Array.of(0.1, -1, 0.37, 10, -3.3, 7.77);
  const { data, scales } = quantizeWeightsSymmetric(w, [2, 3], 0, false);
  t.is(scales.length, 2);
  t.true(Math.abs(scales[0]! - 1 / 127) < 1e-7 && Math.abs(scales[1]! - 10 / 127) < 1e-6);
  t.deepEqual(Array.from(data), [13, -127, 47, 127, -42, 99]);
  const per = quantizeWeightsSymmetric(w, [2, 3], null, false);
  t.is(per.scales.length, 1);
  t.is(per.data[1], -13);
  // depthwise [1, H, W, C] with axis 3: channel is the innermost index
  const dw = quantizeWeightsSymmetric(Float32Array.of(1, 2, -1, 4), [1, 1, 2, 2], 3, false);
  t.deepEqual(dw.data.length, 4);
  t.true(Math.abs(dw.scales[0]! - 1 / 127) < 1e-7 && Math.abs(dw.scales[1]! - 4 / 127) < 1e-6);
});

test('weights already on a uniform grid are re-quantized without loss', (t) => {
  const s = 0.0123;
  const w = Float32Array.from([-100, -37, 0, 5, 90, 100], (k) => k * s);
  const { data, scales } = quantizeWeightsSymmetric(w, [6], null);
  const back = Array.from(data, (q) => q * scales[0]!);
  back.forEach((v, i) => t.true(Math.abs(v - w[i]!) < 1e-6, `${v} vs ${w[i]}`));
});

test('bias: scale = input scale × weight scale per channel, int32 values', (t) => {
  const scales = biasScales(0.5, [0.01, 0.02]);
  t.deepEqual(scales, [Math.fround(0.005), Math.fround(0.01)]);
  t.deepEqual(Array.from(quantizeBias(Float32Array.of(1, -1), scales)), [200, -100]);
});

test('histogram: growing ranges merge bins exactly and survive JSON', (t) => {
  const h = new Histogram();
  const r = rng(3);
  let n = 0;
  for (let k = 0; k < 20; k++) {
    const span = 2 ** (k % 7);
    const v = Float32Array.from({ length: 500 }, () => (r() - 0.3) * span);
    h.add(v, Math.min(...v), Math.max(...v));
    n += v.length;
  }
  t.is(h.total, n);
  const j = h.toJSON();
  t.is(
    j.counts.reduce((a, b) => a + b, 0),
    n,
  );
  t.true(Number.isInteger(Math.log2(j.width)));
  t.deepEqual(Histogram.fromJSON(JSON.parse(JSON.stringify(j))).toJSON(), j);
});

function statOf(values: number[]): TensorStat {
  const h = new Histogram();
  const v = Float32Array.from(values);
  h.add(v, Math.min(...values), Math.max(...values));
  return { min: Math.min(...values), max: Math.max(...values), hist: h.toJSON() };
}

/** Mean squared int8 quantization error of values under a range. */
function quantError(values: number[], [lo, hi]: [number, number]): number {
  const p = asymmetricParams(lo, hi);
  let e = 0;
  for (const v of values) {
    const q = Math.min(127, Math.max(-128, Math.round(v / p.scale) + p.zeroPoint));
    e += (v - p.scale * (q - p.zeroPoint)) ** 2;
  }
  return e / values.length;
}

test('ranges: minmax keeps outliers, percentile clips them, mse minimizes the quantization error', (t) => {
  const r = rng(5);
  const values = Array.from({ length: 20000 }, () => r() * 2 - 1);
  values.push(40); // one outlier
  const s = statOf(values);
  t.deepEqual(chooseRange(s, 'minmax'), [s.min, 40]);
  const [, pHi] = chooseRange(s, 'percentile', 99.9);
  t.true(pHi < 2, `percentile upper ${pHi}`);
  // heavy tail (|gaussian|^3): the mse range is narrower than min/max and quantizes with less error
  const heavy = Array.from({ length: 20000 }, () => {
    const g = Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r());
    return g * g * g;
  });
  const h = statOf(heavy);
  const mse = chooseRange(h, 'mse');
  t.true(mse[1] - mse[0] < h.max - h.min);
  t.true(
    quantError(heavy, mse) < quantError(heavy, [h.min, h.max]),
    `${quantError(heavy, mse)} vs ${quantError(heavy, [h.min, h.max])}`,
  );
});

test('npy reader: float32 and int8 arrays, shape, clear errors', (t) => {
  const a = readNpy(npyBytes([2, 3], Float32Array.of(1, 2, 3, 4, 5, 6.5)));
  t.deepEqual(a.shape, [2, 3]);
  t.deepEqual(Array.from(a.data), [1, 2, 3, 4, 5, 6.5]);
  const bytes = npyBytes([4], Float32Array.of(0, 0, 0, 0));
  const e = t.throws(() => readNpy(bytes.slice(0, 20)));
  t.is((e as { code?: string }).code, 'E_NPY');
  t.is(
    (t.throws(() => readNpy(new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]))) as { code?: string }).code,
    'E_NPY',
  );
});

test('config: defaults, validation with a one-line error', (t) => {
  const c = parseQuantizeConfig({
    quantize: { calibration: { normalization: { scale: 1 / 255, offset: 0 }, channelOrder: 'BGR' } },
    compile: { anything: 1 },
  });
  t.is(c.method, 'minmax');
  t.is(c.io, 'uint8');
  t.is(c.calibration.channelOrder, 'BGR');
  const e = t.throws(() => parseQuantizeConfig({ quantize: { method: 'kl' } }));
  t.is((e as { code?: string }).code, 'E_BAD_ARGUMENT');
  t.regex(e!.message, /quantize\.method/);
});

test('pixel normalization: channel order, mean/std and scale/offset', (t) => {
  const px = Uint8Array.of(0, 128, 255);
  const cfg = parseQuantizeConfig({}).calibration;
  const a = normalizePixels(px, 3, { ...cfg, normalization: { mean: [0], std: [255] } });
  t.deepEqual(Array.from(a), [0, Math.fround(128 / 255), 1]);
  t.deepEqual(
    Array.from(normalizePixels(px, 3, { ...cfg, channelOrder: 'BGR', normalization: { scale: 2, offset: -1 } })),
    [509, 255, -1],
  );
});

test('pre-check flags float tensors, dynamic shapes and bad per-channel axes', (t) => {
  const b = new ModelBuilder();
  const x = b.input('x', [1, 4], 'int8', ModelBuilder.quant(0.1, 0));
  const w = b.constant('w', 'int8', [3, 4], new Int8Array(12), { scale: [1, 1, 1], zeroPoint: [0, 0, 0], axis: 2 });
  const bias = b.constant('b', 'int32', [3], [0, 0, 0], { scale: [0.1, 0.1, 0.1], zeroPoint: [0, 0, 0], axis: 0 });
  const y = b.fullyConnected(x, w, bias, {}, { dtype: 'float32' });
  b.output(y);
  const m = b.build();
  m.graph.tensor(x).shapeSignature = [-1, 4];
  const rules = precheckModel(m).map((p) => `${p.rule}:${p.tensor}`);
  t.true(rules.includes('fully-integer:' + m.graph.tensor(y).name));
  t.true(rules.includes('static-shapes:x'));
  t.true(rules.includes('quant-params:w'));
  t.false(rules.some((r) => r.endsWith(':b')));
});

test('layer error: SNR in dB from sums', (t) => {
  const e = layerError('t', 'CONV_2D', 10, 0.01, 100, 0.05);
  t.is(e.snrDb, 40);
  t.is(e.mse, 0.001);
  t.is(layerError('t', 'X', 1, 0, 1, 0).snrDb, 200);
});
