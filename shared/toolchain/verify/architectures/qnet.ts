import { ModelBuilder, type Activation, type PaddingName } from '../../ir/builder.js';
import type { IrModel } from '../../ir/model.js';
import type { Quantization } from '../../ir/types.js';

/**
 * A thin layer over ModelBuilder that makes full-int8 models the way the TFLite converter emits them: uint8 input →
 * QUANTIZE → int8 body (per-channel int8 weights, int32 biases) → QUANTIZE → uint8 output. Latency depends on shapes,
 * not on values, so weights are cheap deterministic bytes (a window into one pseudo-random pool) and every activation
 * gets one plausible scale.
 */

const POOL_SIZE = 1 << 16;
let pool: Int8Array | null = null;

/** A fixed pool of pseudo-random int8 values in [−127, 127] (xorshift32; the same on every run). */
function randomPool(): Int8Array {
  if (pool) return pool;
  const p = new Int8Array(POOL_SIZE);
  let s = 0x9e3779b9;
  for (let i = 0; i < POOL_SIZE; i++) {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    p[i] = ((s >>> 0) % 255) - 127;
  }
  pool = p;
  return p;
}

/** n int8 weights: the pool tiled from a per-tensor offset (deterministic, ~memcpy speed). */
export function weightBytes(n: number, seed: number): Int8Array {
  const p = randomPool();
  const out = new Int8Array(n);
  let at = (seed * 7919) % POOL_SIZE;
  for (let i = 0; i < n;) {
    const len = Math.min(POOL_SIZE - at, n - i);
    out.set(p.subarray(at, at + len), i);
    i += len;
    at = 0;
  }
  return out;
}

/** Activation quantization: ReLU-family outputs use the whole int8 range for [0, 6]; others are centred. */
const ACT_SCALE = 6 / 255;
const actQuant = (relu: boolean): Quantization => ModelBuilder.quant(relu ? ACT_SCALE : 2 * ACT_SCALE, relu ? -128 : 0);

export interface ConvOpts {
  stride?: number;
  padding?: PaddingName;
  activation?: Activation;
  dilation?: number;
}

export class QNet {
  readonly b = new ModelBuilder();
  private n = 0;

  constructor(readonly name: string) {}

  private id(kind: string): string {
    return `${this.name}/${kind}_${this.n++}`;
  }

  private scaleOf(x: number): number {
    return this.b.g.tensor(x).quant!.scale[0]!;
  }

  private out(activation: Activation | undefined, name: string): { name: string; quant: Quantization } {
    const relu = activation === 'RELU' || activation === 'RELU6';
    return { name, quant: actQuant(relu) };
  }

  /** Per-channel int8 weights along `axis` (scales ≈ 0.002, as for He-initialised layers after folding). */
  private weights(shape: number[], axis: number): number {
    const cout = shape[axis]!;
    const n = shape.reduce((a, d) => a * d, 1);
    const ws = Array.from({ length: cout }, (_, i) => 0.002 + 0.00001 * (i % 97));
    return this.b.constant(this.id('w'), 'int8', shape, weightBytes(n, this.n), ModelBuilder.quant(ws, 0, axis));
  }

  private bias(x: number, ws: readonly number[], name: string): number {
    const s = this.scaleOf(x);
    const vals = new Int32Array(ws.length);
    for (let i = 0; i < vals.length; i++) vals[i] = ((i * 37) % 201) - 100;
    return this.b.constant(
      name,
      'int32',
      [ws.length],
      vals,
      ModelBuilder.quant(
        ws.map((w) => w * s),
        0,
        0,
      ),
    );
  }

  /** The uint8 model input and its QUANTIZE to int8. */
  input(shape: number[]): number {
    const x = this.b.input(`${this.name}/input`, shape, 'uint8', ModelBuilder.quant(1 / 128, 128));
    return this.b.op(
      'QUANTIZE',
      [x],
      {},
      { outputs: [{ name: this.id('quantize'), dtype: 'int8', shape, quant: ModelBuilder.quant(1 / 128, 0) }] },
    )[0]!;
  }

  conv(x: number, cout: number, k: number | [number, number], o: ConvOpts = {}): number {
    const cin = this.b.g.tensor(x).shape[3]!;
    const [kh, kw] = Array.isArray(k) ? k : [k, k];
    const w = this.weights([cout, kh, kw, cin], 0);
    const ws = this.b.g.tensor(w).quant!.scale;
    const bias = this.bias(x, ws, this.id('b'));
    return this.b.conv2d(
      x,
      w,
      bias,
      {
        stride: o.stride ?? 1,
        padding: o.padding ?? 'SAME',
        activation: o.activation ?? 'RELU',
        dilation: o.dilation ?? 1,
      },
      this.out(o.activation ?? 'RELU', this.id('conv')),
    );
  }

  dw(x: number, k: number, o: ConvOpts = {}): number {
    const c = this.b.g.tensor(x).shape[3]!;
    const w = this.weights([1, k, k, c], 3);
    const ws = this.b.g.tensor(w).quant!.scale;
    const bias = this.bias(x, ws, this.id('b'));
    return this.b.depthwiseConv2d(
      x,
      w,
      bias,
      {
        stride: o.stride ?? 1,
        padding: o.padding ?? 'SAME',
        activation: o.activation ?? 'RELU6',
        dilation: o.dilation ?? 1,
      },
      this.out(o.activation ?? 'RELU6', this.id('dwconv')),
    );
  }

  fc(x: number, units: number, activation: Activation = 'NONE'): number {
    const s = this.b.g.tensor(x).shape;
    const k = s.reduce((a, d) => a * d, 1) / s[0]!;
    const w = this.weights([units, k], 0);
    const ws = this.b.g.tensor(w).quant!.scale;
    const bias = this.bias(x, ws, this.id('b'));
    return this.b.fullyConnected(x, w, bias, { activation }, this.out(activation, this.id('fc')));
  }

  maxPool(x: number, k: number, stride: number, padding: PaddingName = 'VALID'): number {
    const q = this.b.g.tensor(x).quant!;
    return this.b.pool('MAX_POOL_2D', x, { filter: k, stride, padding }, { name: this.id('maxpool'), quant: q });
  }

  avgPool(x: number, k: number, stride: number, padding: PaddingName = 'VALID'): number {
    const q = this.b.g.tensor(x).quant!;
    return this.b.pool('AVERAGE_POOL_2D', x, { filter: k, stride, padding }, { name: this.id('avgpool'), quant: q });
  }

  /** Global average pooling as the converter emits it for Keras GlobalAveragePooling2D (an AVERAGE_POOL over H×W). */
  gap(x: number): number {
    const [, h, w] = this.b.g.tensor(x).shape;
    const q = this.b.g.tensor(x).quant!;
    return this.b.pool(
      'AVERAGE_POOL_2D',
      x,
      { filter: [h!, w!], stride: 1, padding: 'VALID' },
      { name: this.id('gap'), quant: q },
    );
  }

  add(a: number, c: number, activation: Activation = 'NONE'): number {
    return this.b.binary('ADD', a, c, { activation }, this.out(activation, this.id('add')));
  }

  mul(a: number, c: number): number {
    return this.b.binary('MUL', a, c, {}, this.out('NONE', this.id('mul')));
  }

  /** An unfoldable batch norm: MUL and ADD by per-channel constants (int8, per-tensor scale), activation fused in the ADD. */
  scaleShift(x: number, activation: Activation = 'NONE'): number {
    const c = this.shape(x)[3]!;
    const gamma = this.b.constant(this.id('gamma'), 'int8', [c], weightBytes(c, this.n), ModelBuilder.quant(1 / 64, 0));
    const beta = this.b.constant(this.id('beta'), 'int8', [c], weightBytes(c, this.n), ModelBuilder.quant(1 / 32, 0));
    return this.add(this.mul(x, gamma), beta, activation);
  }

  logistic(x: number): number {
    return this.b.unary('LOGISTIC', x, { name: this.id('sigmoid'), quant: ModelBuilder.quant(1 / 256, -128) });
  }

  concat(xs: number[], axis = 3): number {
    const q = this.b.g.tensor(xs[0]!).quant!;
    return this.b.concat(xs, axis, { name: this.id('concat'), quant: q });
  }

  reshape(x: number, shape: number[]): number {
    const q = this.b.g.tensor(x).quant!;
    return this.b.reshape(x, shape, { name: this.id('reshape'), quant: q });
  }

  /** Flatten to [1, N]. */
  flatten(x: number): number {
    const s = this.b.g.tensor(x).shape;
    return this.reshape(x, [1, s.reduce((a, d) => a * d, 1)]);
  }

  softmax(x: number): number {
    return this.b.softmax(x, 1, { name: this.id('softmax'), quant: ModelBuilder.quant(1 / 256, -128) });
  }

  /** QUANTIZE back to uint8 and mark the result as a model output. */
  output(x: number): number {
    const t = this.b.g.tensor(x);
    const q = t.quant!;
    const y = this.b.op(
      'QUANTIZE',
      [x],
      {},
      {
        outputs: [
          {
            name: `${this.name}/output_${this.n++}`,
            dtype: 'uint8',
            shape: [...t.shape],
            quant: ModelBuilder.quant(q.scale[0]!, q.zeroPoint[0]! + 128),
          },
        ],
      },
    )[0]!;
    this.b.output(y);
    return y;
  }

  shape(x: number): number[] {
    return this.b.g.tensor(x).shape;
  }

  build(): IrModel {
    return this.b.build(`Kiln rebuild of ${this.name} (random int8 weights)`);
  }
}
