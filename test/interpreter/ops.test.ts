import test from 'ava';
import { ModelBuilder } from '../../shared/toolchain/ir/builder.js';
import type { DType } from '../../shared/toolchain/ir/dtype.js';
import type { Quantization } from '../../shared/toolchain/ir/types.js';
import { rng } from '../helpers/models.js';
import { expectSameAsTflite } from './oracle-compare.js';

// One single-op model per op (and per option that changes the arithmetic), run in Kiln and in the TFLite runtime.
const Q = ModelBuilder.quant;
type B = ModelBuilder;

const ints = (n: number, lo: number, hi: number, seed = 11): number[] => {
  const r = rng(seed);
  return Array.from({ length: n }, () => lo + Math.floor(r() * (hi - lo + 1)));
};
const floats = (n: number, seed = 12): number[] => {
  const r = rng(seed);
  return Array.from({ length: n }, () => r() * 2 - 1);
};
const perChannel = (n: number, base: number, axis: number): Quantization => ({
  scale: Array.from({ length: n }, (_, i) => base * (1 + 0.37 * i)),
  zeroPoint: new Array<number>(n).fill(0),
  axis,
});

interface Case {
  name: string;
  build: (b: B) => void;
}

const U8 = (b: B, shape: number[], scale = 0.05, zp = 120): number => b.input('x', shape, 'uint8', Q(scale, zp));
const I8 = (b: B, shape: number[], scale = 0.05, zp = -3): number => b.input('x', shape, 'int8', Q(scale, zp));
const F = (b: B, shape: number[]): number => b.input('x', shape, 'float32');
const out = (dtype: DType, scale?: number, zp?: number, shape?: number[]) => ({
  dtype,
  ...(scale !== undefined ? { quant: Q(scale, zp ?? 0) } : {}),
  ...(shape ? { shape } : {}),
});

const convCases: Case[] = [
  {
    name: 'CONV_2D float32 SAME stride 1 RELU',
    build: (b) =>
      b.output(
        b.conv2d(
          F(b, [1, 7, 7, 3]),
          b.constant('w', 'float32', [4, 3, 3, 3], floats(108)),
          b.constant('b', 'float32', [4], floats(4)),
          { activation: 'RELU' },
        ),
      ),
  },
  {
    name: 'CONV_2D float32 VALID stride 2 dilation 2',
    build: (b) =>
      b.output(
        b.conv2d(
          F(b, [1, 9, 9, 2]),
          b.constant('w', 'float32', [3, 3, 3, 2], floats(54)),
          b.constant('b', 'float32', [3], floats(3)),
          { padding: 'VALID', stride: 2, dilation: 2 },
        ),
      ),
  },
  {
    name: 'CONV_2D uint8 per-tensor SAME stride 2 RELU6',
    build: (b) =>
      b.output(
        b.conv2d(
          U8(b, [1, 9, 9, 3]),
          b.constant('w', 'uint8', [5, 3, 3, 3], ints(135, 0, 255), Q(0.02, 131)),
          b.constant('b', 'int32', [5], ints(5, -500, 500), Q(0.05 * 0.02, 0)),
          { stride: 2, activation: 'RELU6' },
          out('uint8', 0.08, 10),
        ),
      ),
  },
  {
    name: 'CONV_2D int8 per-channel VALID',
    build: (b) =>
      b.output(
        b.conv2d(
          I8(b, [1, 8, 8, 6]),
          b.constant('w', 'int8', [4, 3, 3, 6], ints(216, -127, 127), perChannel(4, 0.01, 0)),
          b.constant('b', 'int32', [4], ints(4, -900, 900)),
          { padding: 'VALID' },
          out('int8', 0.2, 5),
        ),
      ),
  },
  {
    name: 'CONV_2D int8 per-channel 1x1 with dilation-free stride 1',
    build: (b) =>
      b.output(
        b.conv2d(
          I8(b, [1, 5, 5, 16]),
          b.constant('w', 'int8', [8, 1, 1, 16], ints(128, -127, 127), perChannel(8, 0.004, 0)),
          b.constant('b', 'int32', [8], ints(8, -900, 900)),
          {},
          out('int8', 0.05, -20),
        ),
      ),
  },
  {
    name: 'DEPTHWISE_CONV_2D float32 depth multiplier 2',
    build: (b) =>
      b.output(
        b.depthwiseConv2d(
          F(b, [1, 6, 6, 3]),
          b.constant('w', 'float32', [1, 3, 3, 6], floats(54)),
          b.constant('b', 'float32', [6], floats(6)),
          { depthMultiplier: 2 },
        ),
      ),
  },
  {
    name: 'DEPTHWISE_CONV_2D uint8 SAME stride 2 RELU6',
    build: (b) =>
      b.output(
        b.depthwiseConv2d(
          U8(b, [1, 9, 9, 4]),
          b.constant('w', 'uint8', [1, 3, 3, 4], ints(36, 0, 255), Q(0.03, 140)),
          b.constant('b', 'int32', [4], ints(4, -300, 300), Q(0.05 * 0.03, 0)),
          { stride: 2, activation: 'RELU6' },
          out('uint8', 0.04, 0),
        ),
      ),
  },
  {
    name: 'DEPTHWISE_CONV_2D int8 per-channel dilation 2',
    build: (b) =>
      b.output(
        b.depthwiseConv2d(
          I8(b, [1, 9, 9, 5]),
          b.constant('w', 'int8', [1, 3, 3, 5], ints(45, -127, 127), perChannel(5, 0.01, 3)),
          b.constant('b', 'int32', [5], ints(5, -300, 300)),
          { dilation: 2 },
          out('int8', 0.1, 3),
        ),
      ),
  },
  {
    name: 'DEPTHWISE_CONV_2D int8 depth multiplier 2',
    build: (b) =>
      b.output(
        b.depthwiseConv2d(
          I8(b, [1, 5, 5, 2]),
          b.constant('w', 'int8', [1, 3, 3, 4], ints(36, -127, 127), perChannel(4, 0.01, 3)),
          b.constant('b', 'int32', [4], ints(4, -300, 300)),
          { depthMultiplier: 2 },
          out('int8', 0.1, 3),
        ),
      ),
  },
  {
    name: 'DEPTHWISE_CONV_2D float32 8 channels stride 2 RELU6, batch 2',
    build: (b) =>
      b.output(
        b.depthwiseConv2d(
          F(b, [2, 9, 7, 8]),
          b.constant('w', 'float32', [1, 3, 3, 8], floats(72)),
          b.constant('b', 'float32', [8], floats(8)),
          { stride: 2, activation: 'RELU6' },
        ),
      ),
  },
  {
    name: 'DEPTHWISE_CONV_2D uint8 12 channels dilation 2 VALID, batch 2',
    build: (b) =>
      b.output(
        b.depthwiseConv2d(
          U8(b, [2, 10, 9, 12]),
          b.constant('w', 'uint8', [1, 3, 3, 12], ints(108, 0, 255), Q(0.03, 131)),
          b.constant('b', 'int32', [12], ints(12, -3000, 3000), Q(0.05 * 0.03, 0)),
          { dilation: 2, padding: 'VALID' },
          out('uint8', 0.02, 128),
        ),
      ),
  },
  {
    name: 'L2_NORMALIZATION float32',
    build: (b) => b.output(b.op('L2_NORMALIZATION', [F(b, [2, 3, 7])], {}, { outputs: [out('float32')] })[0]!),
  },
  {
    name: 'L2_NORMALIZATION uint8',
    build: (b) =>
      b.output(
        b.op('L2_NORMALIZATION', [U8(b, [1, 4, 4, 24], 0.05, 120)], {}, { outputs: [out('uint8', 1 / 128, 128)] })[0]!,
      ),
  },
  {
    name: 'L2_NORMALIZATION int8',
    build: (b) =>
      b.output(b.op('L2_NORMALIZATION', [I8(b, [3, 40], 0.1, -3)], {}, { outputs: [out('int8', 1 / 128, 0)] })[0]!),
  },
  {
    name: 'FULLY_CONNECTED float32 RELU',
    build: (b) =>
      b.output(
        b.fullyConnected(
          F(b, [2, 10]),
          b.constant('w', 'float32', [4, 10], floats(40)),
          b.constant('b', 'float32', [4], floats(4)),
          { activation: 'RELU' },
        ),
      ),
  },
  {
    name: 'FULLY_CONNECTED uint8',
    build: (b) =>
      b.output(
        b.fullyConnected(
          U8(b, [1, 20]),
          b.constant('w', 'uint8', [6, 20], ints(120, 0, 255), Q(0.01, 128)),
          b.constant('b', 'int32', [6], ints(6, -400, 400)),
          {},
          out('uint8', 0.1, 128),
        ),
      ),
  },
  {
    name: 'FULLY_CONNECTED int8 keep_num_dims',
    build: (b) =>
      b.output(
        b.fullyConnected(
          I8(b, [1, 3, 16]),
          b.constant('w', 'int8', [5, 16], ints(80, -127, 127), Q(0.01, 0)),
          b.constant('b', 'int32', [5], ints(5, -400, 400)),
          { keepNumDims: true },
          out('int8', 0.05, 2, [1, 3, 5]),
        ),
      ),
  },
];

const poolCases: Case[] = [
  {
    name: 'AVERAGE_POOL_2D float32 SAME',
    build: (b) => b.output(b.pool('AVERAGE_POOL_2D', F(b, [1, 7, 7, 3]), { filter: 3, stride: 2, padding: 'SAME' })),
  },
  {
    name: 'AVERAGE_POOL_2D uint8 SAME (edge windows)',
    build: (b) =>
      b.output(
        b.pool(
          'AVERAGE_POOL_2D',
          U8(b, [1, 7, 7, 3]),
          { filter: 3, stride: 2, padding: 'SAME' },
          out('uint8', 0.05, 120),
        ),
      ),
  },
  {
    name: 'AVERAGE_POOL_2D int8 VALID',
    build: (b) =>
      b.output(b.pool('AVERAGE_POOL_2D', I8(b, [1, 8, 8, 4]), { filter: [2, 3], stride: 2 }, out('int8', 0.05, -3))),
  },
  {
    name: 'MAX_POOL_2D uint8 SAME',
    build: (b) =>
      b.output(
        b.pool('MAX_POOL_2D', U8(b, [1, 7, 7, 3]), { filter: 3, stride: 2, padding: 'SAME' }, out('uint8', 0.05, 120)),
      ),
  },
  {
    name: 'MAX_POOL_2D float32 RELU6',
    build: (b) => b.output(b.pool('MAX_POOL_2D', F(b, [1, 6, 6, 2]), { filter: 2, activation: 'RELU6' })),
  },
];

const bin = (
  type: 'ADD' | 'SUB' | 'MUL',
  dt: 'uint8' | 'int8',
  bShape: number[],
  act: 'NONE' | 'RELU' = 'NONE',
): Case => ({
  name: `${type} ${dt} broadcast [${bShape}] ${act}`,
  build: (b) => {
    const x = dt === 'uint8' ? U8(b, [1, 4, 4, 3], 0.05, 100) : I8(b, [1, 4, 4, 3], 0.05, 4);
    const y = b.constant(
      'y',
      dt,
      bShape,
      ints(
        bShape.reduce((a, v) => a * v, 1),
        dt === 'uint8' ? 0 : -128,
        dt === 'uint8' ? 255 : 127,
      ),
      Q(0.03, dt === 'uint8' ? 130 : -7),
    );
    b.output(
      b.binary(type, x, y, { activation: act }, out(dt, type === 'MUL' ? 0.02 : 0.07, dt === 'uint8' ? 125 : 1)),
    );
  },
});

const eltCases: Case[] = [
  bin('ADD', 'uint8', [1, 4, 4, 3]),
  bin('ADD', 'int8', [3], 'RELU'),
  bin('SUB', 'uint8', [1, 1, 4, 3]),
  bin('SUB', 'int8', [1, 4, 4, 3]),
  bin('ADD', 'int8', [1, 4, 4, 3], 'RELU'),
  bin('MUL', 'uint8', [3]),
  bin('MUL', 'int8', [1, 4, 4, 3]),
  {
    name: 'ADD float32 broadcast RELU6',
    build: (b) =>
      b.output(
        b.binary('ADD', F(b, [2, 3, 4]), b.constant('y', 'float32', [3, 1], floats(3)), { activation: 'RELU6' }),
      ),
  },
  {
    name: 'MUL float32',
    build: (b) => b.output(b.binary('MUL', F(b, [2, 3]), b.constant('y', 'float32', [2, 3], floats(6)))),
  },
  {
    name: 'DIV float32',
    build: (b) => b.output(b.binary('DIV', F(b, [2, 3]), b.constant('y', 'float32', [3], [0.5, -2, 3]))),
  },
  {
    name: 'MAXIMUM int8',
    build: (b) =>
      b.output(
        b.op(
          'MAXIMUM',
          [I8(b, [2, 5]), b.constant('y', 'int8', [5], ints(5, -100, 100), Q(0.05, -3))],
          {},
          { outputs: [out('int8', 0.05, -3)] },
        )[0]!,
      ),
  },
  {
    name: 'MINIMUM float32',
    build: (b) => b.output(b.op('MINIMUM', [F(b, [2, 5]), b.constant('y', 'float32', [1], [0.1])])[0]!),
  },
  {
    name: 'SQUARED_DIFFERENCE float32',
    build: (b) => b.output(b.op('SQUARED_DIFFERENCE', [F(b, [2, 5]), b.constant('y', 'float32', [5], floats(5))])[0]!),
  },
  {
    name: 'FLOOR_DIV int32',
    build: (b) =>
      b.output(
        b.op('FLOOR_DIV', [b.input('x', [6], 'int32'), b.constant('y', 'int32', [6], [3, -3, 5, -5, 7, 2])])[0]!,
      ),
  },
];

const act = (
  type: string,
  dt: 'uint8' | 'int8' | 'float32',
  o?: [number, number],
  fields: Record<string, unknown> = {},
): Case => ({
  name: `${type} ${dt}${Object.keys(fields).length ? ` ${JSON.stringify(fields)}` : ''}`,
  build: (b) => {
    const x = dt === 'uint8' ? U8(b, [2, 50], 0.06, 128) : dt === 'int8' ? I8(b, [2, 50], 0.06, 0) : F(b, [2, 50]);
    b.output(b.unary(type, x, o ? out(dt, o[0], o[1]) : undefined, fields));
  },
});

const actCases: Case[] = [
  act('LOGISTIC', 'uint8', [1 / 256, 0]),
  act('LOGISTIC', 'int8', [1 / 256, -128]),
  act('LOGISTIC', 'float32'),
  act('TANH', 'uint8', [1 / 128, 128]),
  act('TANH', 'int8', [1 / 128, 0]),
  act('TANH', 'float32'),
  act('RELU', 'uint8', [0.03, 0]),
  act('RELU', 'int8', [0.03, -128]),
  act('RELU6', 'uint8', [6 / 255, 0]),
  act('RELU6', 'int8', [0.025, -128]),
  act('RELU_N1_TO_1', 'int8', [1 / 127, 0]),
  act('RELU', 'float32'),
  act('HARD_SWISH', 'int8', [0.05, -30]),
  act('HARD_SWISH', 'uint8', [0.04, 20]),
  act('HARD_SWISH', 'float32'),
  act('LEAKY_RELU', 'int8', [0.04, -10], { alpha: 0.2 }),
  act('LEAKY_RELU', 'float32', undefined, { alpha: 0.3 }),
  act('EXP', 'float32'),
  act('ABS', 'float32'),
  act('NEG', 'float32'),
  act('SQUARE', 'float32'),
  { name: 'SQRT float32', build: (b) => b.output(b.unary('SQRT', b.op('ABS', [F(b, [10])])[0]!)) },
  { name: 'RSQRT float32', build: (b) => b.output(b.unary('RSQRT', b.op('ABS', [F(b, [10])])[0]!)) },
  {
    name: 'PRELU float32',
    build: (b) => b.output(b.op('PRELU', [F(b, [1, 3, 3, 4]), b.constant('a', 'float32', [1, 1, 4], floats(4))])[0]!),
  },
  {
    name: 'PRELU uint8',
    build: (b) =>
      b.output(
        b.op(
          'PRELU',
          [U8(b, [1, 3, 3, 4]), b.constant('a', 'uint8', [1, 1, 4], [10, 50, 128, 200], Q(0.01, 128))],
          {},
          { outputs: [out('uint8', 0.04, 100)] },
        )[0]!,
      ),
  },
  {
    // As Kiln's quantizer makes it: alpha an asymmetric int8 constant with its own parameters.
    name: 'PRELU int8',
    build: (b) =>
      b.output(
        b.op(
          'PRELU',
          [I8(b, [1, 3, 3, 4]), b.constant('a', 'int8', [1, 1, 4], [-90, -10, 40, 127], Q(0.002, -50))],
          {},
          { outputs: [out('int8', 0.03, -60)] },
        )[0]!,
      ),
  },
  { name: 'SOFTMAX uint8', build: (b) => b.output(b.softmax(U8(b, [2, 30], 0.1, 128), 1, out('uint8', 1 / 256, 0))) },
  {
    name: 'SOFTMAX int8 beta 0.7',
    build: (b) => b.output(b.softmax(I8(b, [2, 30], 0.1, 0), 0.7, out('int8', 1 / 256, -128))),
  },
  { name: 'SOFTMAX float32', build: (b) => b.output(b.softmax(F(b, [3, 7]), 1.5)) },
];

const quantCases: Case[] = [
  { name: 'QUANTIZE float32 → int8', build: (b) => b.output(b.unary('QUANTIZE', F(b, [40]), out('int8', 0.01, 3))) },
  {
    name: 'QUANTIZE float32 → uint8',
    build: (b) => b.output(b.unary('QUANTIZE', F(b, [40]), out('uint8', 0.008, 128))),
  },
  {
    name: 'QUANTIZE uint8 → int8',
    build: (b) => b.output(b.unary('QUANTIZE', U8(b, [40], 0.05, 128), out('int8', 0.05, 0))),
  },
  {
    name: 'QUANTIZE uint8 → uint8 rescale',
    build: (b) => b.output(b.unary('QUANTIZE', U8(b, [40], 0.05, 128), out('uint8', 0.11, 90))),
  },
  {
    name: 'QUANTIZE int8 → int8 rescale',
    build: (b) => b.output(b.unary('QUANTIZE', I8(b, [40], 0.05, 3), out('int8', 0.031, -9))),
  },
  { name: 'DEQUANTIZE uint8', build: (b) => b.output(b.unary('DEQUANTIZE', U8(b, [40]), out('float32'))) },
  { name: 'DEQUANTIZE int8', build: (b) => b.output(b.unary('DEQUANTIZE', I8(b, [40]), out('float32'))) },
  {
    name: 'CAST float32 → int32',
    build: (b) =>
      b.output(
        b.unary('CAST', F(b, [12]), out('int32', undefined, undefined, [12]), { inDataType: 0, outDataType: 2 }),
      ),
  },
];

const c32 = (b: B, name: string, v: number[]): number => b.constant(name, 'int32', [v.length], v);

const shapeCases: Case[] = [
  { name: 'RESHAPE uint8', build: (b) => b.output(b.reshape(U8(b, [1, 2, 3, 4]), [6, -1], out('uint8', 0.05, 120))) },
  {
    name: 'SQUEEZE float32',
    build: (b) => b.output(b.unary('SQUEEZE', F(b, [1, 3, 1, 2]), undefined, { squeezeDims: [0, 2] })),
  },
  { name: 'EXPAND_DIMS float32', build: (b) => b.output(b.op('EXPAND_DIMS', [F(b, [3, 2]), c32(b, 'axis', [1])])[0]!) },
  {
    name: 'CONCATENATION uint8 with rescaling',
    build: (b) => {
      const x = U8(b, [1, 2, 2, 3], 0.05, 120);
      const y = b.input('y', [1, 2, 2, 2], 'uint8', Q(0.09, 30));
      b.output(b.concat([x, y], 3, out('uint8', 0.07, 100)));
    },
  },
  {
    name: 'CONCATENATION float32 axis -2',
    build: (b) => b.output(b.concat([F(b, [2, 3, 2]), b.input('y', [2, 1, 2])], -2)),
  },
  {
    name: 'SPLIT uint8',
    build: (b) =>
      b.output(
        ...b.op(
          'SPLIT',
          [c32(b, 'axis', [2]), U8(b, [1, 2, 6, 2])],
          { numSplits: 3 },
          { outputs: [0, 1, 2].map(() => out('uint8', 0.05, 120, [1, 2, 2, 2])) },
        ),
      ),
  },
  {
    name: 'SPLIT_V float32',
    build: (b) =>
      b.output(
        ...b.op(
          'SPLIT_V',
          [F(b, [2, 7]), c32(b, 'sizes', [2, -1, 1]), c32(b, 'axis', [1])],
          { numSplits: 3 },
          { outputs: [2, 4, 1].map((n) => out('float32', undefined, undefined, [2, n])) },
        ),
      ),
  },
  {
    name: 'PACK float32 axis 1',
    build: (b) => b.output(b.op('PACK', [F(b, [2, 3]), b.input('y', [2, 3])], { valuesCount: 2, axis: 1 })[0]!),
  },
  { name: 'UNPACK float32', build: (b) => b.output(...b.op('UNPACK', [F(b, [2, 3])], { num: 3, axis: 1 })) },
  {
    name: 'SLICE float32',
    build: (b) =>
      b.output(b.op('SLICE', [F(b, [3, 4, 5]), c32(b, 'begin', [1, 0, 2]), c32(b, 'size', [2, -1, 2])])[0]!),
  },
  {
    name: 'STRIDED_SLICE float32 masks and negative stride',
    build: (b) =>
      b.output(
        b.op('STRIDED_SLICE', [F(b, [4, 6]), c32(b, 'b', [1, 5]), c32(b, 'e', [3, 0]), c32(b, 's', [1, -2])], {
          beginMask: 1,
          endMask: 0,
          shrinkAxisMask: 0,
        })[0]!,
      ),
  },
  {
    name: 'STRIDED_SLICE shrink axis',
    build: (b) =>
      b.output(
        b.op('STRIDED_SLICE', [F(b, [4, 6]), c32(b, 'b', [2, 1]), c32(b, 'e', [3, 5]), c32(b, 's', [1, 2])], {
          shrinkAxisMask: 1,
        })[0]!,
      ),
  },
  {
    name: 'TRANSPOSE float32',
    build: (b) => b.output(b.op('TRANSPOSE', [F(b, [2, 3, 4]), c32(b, 'perm', [2, 0, 1])])[0]!),
  },
  {
    name: 'PAD uint8 (zero point fill)',
    build: (b) =>
      b.output(
        b.op(
          'PAD',
          [U8(b, [1, 2, 3, 1]), b.constant('p', 'int32', [4, 2], [0, 0, 1, 2, 2, 0, 0, 1])],
          {},
          { outputs: [out('uint8', 0.05, 120)] },
        )[0]!,
      ),
  },
  {
    name: 'PADV2 float32 with value',
    build: (b) =>
      b.output(
        b.op(
          'PADV2',
          [F(b, [2, 3]), b.constant('p', 'int32', [2, 2], [1, 0, 0, 2]), b.constant('v', 'float32', [1], [0.25])],
          {},
          { outputs: [out('float32', undefined, undefined, [3, 5])] },
        )[0]!,
      ),
  },
  {
    name: 'MIRROR_PAD REFLECT',
    build: (b) =>
      b.output(
        b.op(
          'MIRROR_PAD',
          [F(b, [3, 4]), b.constant('p', 'int32', [2, 2], [2, 1, 1, 3])],
          { mode: 0 },
          { outputs: [out('float32', undefined, undefined, [6, 8])] },
        )[0]!,
      ),
  },
  {
    name: 'MIRROR_PAD SYMMETRIC',
    build: (b) =>
      b.output(
        b.op(
          'MIRROR_PAD',
          [F(b, [3, 4]), b.constant('p', 'int32', [2, 2], [2, 1, 1, 3])],
          { mode: 1 },
          { outputs: [out('float32', undefined, undefined, [6, 8])] },
        )[0]!,
      ),
  },
  {
    name: 'TILE int8',
    build: (b) =>
      b.output(
        b.op(
          'TILE',
          [I8(b, [1, 1, 2, 3]), c32(b, 'm', [1, 3, 2, 1])],
          {},
          { outputs: [out('int8', 0.05, -3, [1, 3, 4, 3])] },
        )[0]!,
      ),
  },
  {
    name: 'GATHER float32 axis 1',
    build: (b) => b.output(b.op('GATHER', [F(b, [3, 5, 2]), c32(b, 'i', [4, 0, 2, 2])], { axis: 1 })[0]!),
  },
  {
    name: 'GATHER_ND float32',
    build: (b) => b.output(b.op('GATHER_ND', [F(b, [3, 4, 2]), b.constant('i', 'int32', [2, 2], [2, 1, 0, 3])])[0]!),
  },
  {
    // MoveNet's pattern: one [b, y, x] index into a [1,H,W,C] map → a row of C values (int8 keeps scale and zero point).
    name: 'GATHER_ND int8 rows of a feature map',
    build: (b) =>
      b.output(
        b.op(
          'GATHER_ND',
          [I8(b, [1, 6, 6, 5]), b.constant('i', 'int32', [3, 3], [0, 2, 3, 0, 5, 0, 0, 0, 5])],
          {},
          { outputs: [out('int8', 0.05, -3, [3, 5])] },
        )[0]!,
      ),
  },
  {
    name: 'GATHER_ND int8 full-depth indices (one scalar each)',
    build: (b) =>
      b.output(
        b.op(
          'GATHER_ND',
          [
            I8(b, [1, 4, 4, 3], 0.1, 7),
            b.constant('i', 'int32', [2, 2, 4], [0, 1, 2, 0, 0, 3, 3, 2, 0, 0, 0, 1, 0, 2, 1, 1]),
          ],
          {},
          { outputs: [out('int8', 0.1, 7, [2, 2])] },
        )[0]!,
      ),
  },
  {
    name: 'GATHER_ND uint8 leading-axis slices',
    build: (b) =>
      b.output(
        b.op(
          'GATHER_ND',
          [U8(b, [4, 3, 2]), b.constant('i', 'int32', [2, 1], [3, 1])],
          {},
          { outputs: [out('uint8', 0.05, 120, [2, 3, 2])] },
        )[0]!,
      ),
  },
  {
    name: 'TOPK_V2 float32 k 4 over rows of 10',
    build: (b) =>
      b.output(
        ...b.op(
          'TOPK_V2',
          [F(b, [2, 3, 10]), b.constant('k', 'int32', [], [4])],
          {},
          {
            outputs: [out('float32', undefined, undefined, [2, 3, 4]), out('int32', undefined, undefined, [2, 3, 4])],
          },
        ),
      ),
  },
  {
    // 60 int8 values per row: ties are frequent, and TFLite puts the lower index first.
    name: 'TOPK_V2 int8 k 7 (ties keep index order)',
    build: (b) =>
      b.output(
        ...b.op(
          'TOPK_V2',
          [I8(b, [3, 60], 0.05, -3), b.constant('k', 'int32', [], [7])],
          {},
          {
            outputs: [out('int8', 0.05, -3, [3, 7]), out('int32', undefined, undefined, [3, 7])],
          },
        ),
      ),
  },
  ...(['EQUAL', 'NOT_EQUAL', 'GREATER', 'GREATER_EQUAL', 'LESS', 'LESS_EQUAL'] as const).map((type): Case => ({
    name: `${type} int8 against a broadcast constant`,
    build: (b) =>
      b.output(
        b.op(
          type,
          [I8(b, [2, 4, 8]), b.constant('y', 'int8', [8], ints(8, -128, 127, 4), Q(0.05, -3))],
          {},
          { outputs: [out('bool', undefined, undefined, [2, 4, 8])] },
        )[0]!,
      ),
  })),
  {
    name: 'GREATER_EQUAL float32',
    build: (b) =>
      b.output(
        b.op(
          'GREATER_EQUAL',
          [F(b, [3, 5]), b.constant('y', 'float32', [3, 5], floats(15, 3))],
          {},
          {
            outputs: [out('bool', undefined, undefined, [3, 5])],
          },
        )[0]!,
      ),
  },
  {
    name: 'SPACE_TO_DEPTH uint8',
    build: (b) =>
      b.output(
        b.op(
          'SPACE_TO_DEPTH',
          [U8(b, [1, 4, 6, 2])],
          { blockSize: 2 },
          { outputs: [out('uint8', 0.05, 120, [1, 2, 3, 8])] },
        )[0]!,
      ),
  },
  {
    name: 'DEPTH_TO_SPACE float32',
    build: (b) =>
      b.output(
        b.op(
          'DEPTH_TO_SPACE',
          [F(b, [1, 2, 3, 8])],
          { blockSize: 2 },
          { outputs: [out('float32', undefined, undefined, [1, 4, 6, 2])] },
        )[0]!,
      ),
  },
  {
    name: 'SPACE_TO_BATCH_ND float32 with padding',
    build: (b) =>
      b.output(
        b.op('SPACE_TO_BATCH_ND', [
          F(b, [1, 3, 4, 2]),
          c32(b, 'bs', [2, 2]),
          b.constant('p', 'int32', [2, 2], [1, 0, 0, 0]),
        ])[0]!,
      ),
  },
  {
    name: 'BATCH_TO_SPACE_ND float32 with crops',
    build: (b) =>
      b.output(
        b.op('BATCH_TO_SPACE_ND', [
          F(b, [4, 2, 2, 1]),
          c32(b, 'bs', [2, 2]),
          b.constant('c', 'int32', [2, 2], [1, 0, 0, 1]),
        ])[0]!,
      ),
  },
];

const resizeCases: Case[] = [
  ...(['none', 'align', 'half'] as const).flatMap((mode): Case[] => {
    const fields = { alignCorners: mode === 'align', halfPixelCenters: mode === 'half' };
    return [
      {
        name: `RESIZE_BILINEAR uint8 ${mode}`,
        build: (b) =>
          b.output(
            b.op('RESIZE_BILINEAR', [U8(b, [1, 5, 4, 3]), c32(b, 's', [9, 7])], fields, {
              version: mode === 'half' ? 3 : 1,
              outputs: [out('uint8', 0.05, 120, [1, 9, 7, 3])],
            })[0]!,
          ),
      },
      {
        name: `RESIZE_BILINEAR int8 ${mode}`,
        build: (b) =>
          b.output(
            b.op('RESIZE_BILINEAR', [I8(b, [1, 5, 4, 3]), c32(b, 's', [9, 7])], fields, {
              version: 2,
              outputs: [out('int8', 0.05, -3, [1, 9, 7, 3])],
            })[0]!,
          ),
      },
      {
        name: `RESIZE_BILINEAR float32 ${mode}`,
        build: (b) =>
          b.output(
            b.op('RESIZE_BILINEAR', [F(b, [1, 5, 4, 3]), c32(b, 's', [9, 7])], fields, {
              version: mode === 'half' ? 3 : 1,
              outputs: [out('float32', undefined, undefined, [1, 9, 7, 3])],
            })[0]!,
          ),
      },
      {
        name: `RESIZE_NEAREST_NEIGHBOR uint8 ${mode}`,
        build: (b) =>
          b.output(
            b.op('RESIZE_NEAREST_NEIGHBOR', [U8(b, [1, 5, 4, 3]), c32(b, 's', [9, 7])], fields, {
              version: mode === 'half' ? 3 : 1,
              outputs: [out('uint8', 0.05, 120, [1, 9, 7, 3])],
            })[0]!,
          ),
      },
      {
        name: `RESIZE_NEAREST_NEIGHBOR int8 ${mode}`,
        build: (b) =>
          b.output(
            b.op('RESIZE_NEAREST_NEIGHBOR', [I8(b, [1, 5, 4, 3]), c32(b, 's', [9, 7])], fields, {
              version: mode === 'half' ? 3 : 2,
              outputs: [out('int8', 0.05, -3, [1, 9, 7, 3])],
            })[0]!,
          ),
      },
    ];
  }),
];

const reduceCases: Case[] = [
  {
    name: 'MEAN float32 axes [1,2]',
    build: (b) => b.output(b.op('MEAN', [F(b, [1, 4, 5, 3]), c32(b, 'a', [1, 2])], { keepDims: true })[0]!),
  },
  {
    name: 'MEAN int8 spatial keep_dims',
    build: (b) =>
      b.output(
        b.op(
          'MEAN',
          [I8(b, [1, 4, 5, 3]), c32(b, 'a', [1, 2])],
          { keepDims: true },
          { outputs: [out('int8', 0.02, 1, [1, 1, 1, 3])] },
        )[0]!,
      ),
  },
  {
    name: 'MEAN uint8 spatial keep_dims',
    build: (b) =>
      b.output(
        b.op(
          'MEAN',
          [U8(b, [1, 4, 5, 3]), c32(b, 'a', [1, 2])],
          { keepDims: true },
          { outputs: [out('uint8', 0.02, 110, [1, 1, 1, 3])] },
        )[0]!,
      ),
  },
  {
    name: 'MEAN uint8 last axis',
    build: (b) =>
      b.output(
        b.op(
          'MEAN',
          [U8(b, [2, 3, 8]), c32(b, 'a', [2])],
          { keepDims: false },
          { outputs: [out('uint8', 0.03, 100, [2, 3])] },
        )[0]!,
      ),
  },
  {
    name: 'SUM float32',
    build: (b) => b.output(b.op('SUM', [F(b, [2, 3, 4]), c32(b, 'a', [0, 2])], { keepDims: false })[0]!),
  },
  {
    name: 'REDUCE_MAX int8',
    build: (b) =>
      b.output(
        b.op(
          'REDUCE_MAX',
          [I8(b, [2, 3, 4]), c32(b, 'a', [1])],
          { keepDims: true },
          { outputs: [out('int8', 0.05, -3, [2, 1, 4])] },
        )[0]!,
      ),
  },
  {
    name: 'REDUCE_MIN float32',
    build: (b) => b.output(b.op('REDUCE_MIN', [F(b, [2, 3, 4]), c32(b, 'a', [-1])], { keepDims: false })[0]!),
  },
  {
    name: 'ARG_MAX uint8 → int32',
    build: (b) =>
      b.output(
        b.op(
          'ARG_MAX',
          [U8(b, [2, 3, 7]), c32(b, 'a', [2])],
          { outputType: 2 },
          { outputs: [out('int32', undefined, undefined, [2, 3])] },
        )[0]!,
      ),
  },
  {
    name: 'ARG_MAX float32 → int64',
    build: (b) =>
      b.output(
        b.op(
          'ARG_MAX',
          [F(b, [2, 5, 3]), c32(b, 'a', [1])],
          { outputType: 4 },
          { outputs: [out('int64', undefined, undefined, [2, 3])] },
        )[0]!,
      ),
  },
  {
    name: 'ARG_MIN int8',
    build: (b) =>
      b.output(
        b.op(
          'ARG_MIN',
          [I8(b, [4, 6]), c32(b, 'a', [0])],
          { outputType: 2 },
          { outputs: [out('int32', undefined, undefined, [6])] },
        )[0]!,
      ),
  },
];

for (const c of [
  ...convCases,
  ...poolCases,
  ...eltCases,
  ...actCases,
  ...quantCases,
  ...shapeCases,
  ...resizeCases,
  ...reduceCases,
]) {
  test(c.name, async (t) => {
    const b = new ModelBuilder();
    c.build(b);
    await expectSameAsTflite(t, b.build());
  });
}
