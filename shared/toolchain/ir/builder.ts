import { ActivationFunctionType, Padding } from '../tflite/schema.js';
import { bytesOf, dtypeBytes, type AnyTypedArray, type DType } from './dtype.js';
import { Graph, numElements } from './graph.js';
import { IrModel } from './model.js';
import { makeOptions } from './op-options.js';
import { inferOutputs } from './shape-inference.js';
import type { Quantization } from './types.js';

export type Activation = keyof typeof ActivationFunctionType;
export type PaddingName = 'SAME' | 'VALID';

/** How an op's output tensor should look; shape and dtype are inferred when omitted. */
export interface OutSpec {
  name?: string;
  dtype?: DType;
  shape?: number[];
  quant?: Quantization;
}

export interface OpExtras {
  version?: number;
  customCode?: string;
  customOptions?: Uint8Array;
  /** One entry per output (shape/dtype inferred where absent). Required for ops without a shape rule. */
  outputs?: OutSpec[];
}

const q = (scale: number | number[], zeroPoint: number | number[] = 0, axis = 0): Quantization => {
  const s = Array.isArray(scale) ? scale : [scale];
  const z = Array.isArray(zeroPoint) ? zeroPoint : s.map(() => zeroPoint);
  return { scale: s, zeroPoint: z, axis };
};

function toBytes(dtype: DType, values: ArrayLike<number> | AnyTypedArray): Uint8Array {
  if (ArrayBuffer.isView(values)) return bytesOf(values as AnyTypedArray).slice();
  const arr = Array.from(values as ArrayLike<number>);
  switch (dtype) {
    case 'float32':
      return bytesOf(Float32Array.from(arr));
    case 'int32':
      return bytesOf(Int32Array.from(arr));
    case 'int8':
      return bytesOf(Int8Array.from(arr));
    case 'uint8':
    case 'bool':
      return bytesOf(Uint8Array.from(arr));
    case 'int16':
      return bytesOf(Int16Array.from(arr));
    case 'int64':
      return bytesOf(BigInt64Array.from(arr, (v) => BigInt(v)));
    case 'float64':
      return bytesOf(Float64Array.from(arr));
    default:
      throw new Error(`cannot make constant data of type ${dtype}`);
  }
}

/**
 * Builds models in code: tests make their fixtures with it and loaders emit through it. Every method returns tensor
 * ids; output shapes come from shape inference unless given.
 *
 *   const b = new ModelBuilder();
 *   const x = b.input('x', [1, 8, 8, 3]);
 *   const y = b.conv2d(x, b.constant('w', 'float32', [4, 3, 3, 3], w), b.constant('b', 'float32', [4], bias));
 *   b.output(b.softmax(b.fullyConnected(b.reshape(y, [1, -1]), ...)));
 *   const model = b.build();
 */
export class ModelBuilder {
  readonly g = new Graph();
  private counter = 0;

  static quant = q;

  private uniqueName(base: string): string {
    return `${base}_${this.counter++}`;
  }

  input(name: string, shape: number[], dtype: DType = 'float32', quant?: Quantization): number {
    const t = this.g.addTensor({ name, dtype, shape, ...(quant ? { quant } : {}) });
    this.g.inputs.push(t.id);
    return t.id;
  }

  constant(
    name: string,
    dtype: DType,
    shape: number[],
    values: ArrayLike<number> | AnyTypedArray,
    quant?: Quantization,
  ): number {
    const data = toBytes(dtype, values);
    if (data.length !== numElements(shape) * dtypeBytes(dtype)) {
      throw new Error(`constant ${name}: ${data.length} bytes do not fit shape [${shape.join(',')}] of ${dtype}`);
    }
    return this.g.addTensor({ name, dtype, shape, data, ...(quant ? { quant } : {}) }).id;
  }

  /** Any op: type is the TFLite builtin name; `fields` are its builtin options (schema field names, camelCase). */
  op(type: string, inputs: number[], fields: Record<string, unknown> = {}, extras: OpExtras = {}): number[] {
    const { options, optionsType } = makeOptions(type, fields);
    const specs = extras.outputs ?? [{}];
    const needInference = specs.some((s) => !s.shape || !s.dtype) || extras.outputs === undefined;
    const inferred = needInference ? inferOutputs(this.g, type, inputs, options) : [];
    const n = extras.outputs ? extras.outputs.length : inferred.length;
    const outputs: number[] = [];
    for (let i = 0; i < n; i++) {
      const spec = specs[i] ?? {};
      const inf = inferred[i];
      const shape = spec.shape ?? inf?.shape;
      const dtype = spec.dtype ?? inf?.dtype;
      if (!shape || !dtype) throw new Error(`${type}: output ${i} needs an explicit shape and dtype`);
      const quant = spec.quant;
      outputs.push(
        this.g.addTensor({
          name: spec.name ?? this.uniqueName(type.toLowerCase()),
          dtype,
          shape,
          ...(quant ? { quant } : {}),
        }).id,
      );
    }
    this.g.addOp({
      type,
      inputs,
      outputs,
      options,
      optionsType,
      ...(extras.version !== undefined ? { version: extras.version } : {}),
      ...(extras.customCode !== undefined ? { customCode: extras.customCode } : {}),
      ...(extras.customOptions !== undefined ? { customOptions: extras.customOptions } : {}),
    });
    return outputs;
  }

  private one(
    type: string,
    inputs: number[],
    fields: Record<string, unknown>,
    out?: OutSpec,
    version?: number,
  ): number {
    return this.op(type, inputs, fields, {
      ...(out ? { outputs: [out] } : {}),
      ...(version !== undefined ? { version } : {}),
    })[0]!;
  }

  conv2d(
    x: number,
    filter: number,
    bias: number,
    o: {
      stride?: number | [number, number];
      padding?: PaddingName;
      activation?: Activation;
      dilation?: number | [number, number];
    } = {},
    out?: OutSpec,
  ): number {
    const [sh, sw] = Array.isArray(o.stride) ? o.stride : [o.stride ?? 1, o.stride ?? 1];
    const [dh, dw] = Array.isArray(o.dilation) ? o.dilation : [o.dilation ?? 1, o.dilation ?? 1];
    return this.one(
      'CONV_2D',
      [x, filter, bias],
      {
        padding: Padding[o.padding ?? 'SAME'],
        strideH: sh,
        strideW: sw,
        dilationHFactor: dh,
        dilationWFactor: dw,
        fusedActivationFunction: ActivationFunctionType[o.activation ?? 'NONE'],
      },
      out,
    );
  }

  depthwiseConv2d(
    x: number,
    filter: number,
    bias: number,
    o: {
      stride?: number | [number, number];
      padding?: PaddingName;
      activation?: Activation;
      dilation?: number | [number, number];
      depthMultiplier?: number;
    } = {},
    out?: OutSpec,
  ): number {
    const [sh, sw] = Array.isArray(o.stride) ? o.stride : [o.stride ?? 1, o.stride ?? 1];
    const [dh, dw] = Array.isArray(o.dilation) ? o.dilation : [o.dilation ?? 1, o.dilation ?? 1];
    return this.one(
      'DEPTHWISE_CONV_2D',
      [x, filter, bias],
      {
        padding: Padding[o.padding ?? 'SAME'],
        strideH: sh,
        strideW: sw,
        depthMultiplier: o.depthMultiplier ?? 1,
        dilationHFactor: dh,
        dilationWFactor: dw,
        fusedActivationFunction: ActivationFunctionType[o.activation ?? 'NONE'],
      },
      out,
    );
  }

  fullyConnected(
    x: number,
    weights: number,
    bias: number | null,
    o: { activation?: Activation; keepNumDims?: boolean } = {},
    out?: OutSpec,
  ): number {
    return this.one(
      'FULLY_CONNECTED',
      [x, weights, bias ?? -1],
      { fusedActivationFunction: ActivationFunctionType[o.activation ?? 'NONE'], keepNumDims: o.keepNumDims ?? false },
      out,
    );
  }

  pool(
    type: 'MAX_POOL_2D' | 'AVERAGE_POOL_2D',
    x: number,
    o: {
      filter: number | [number, number];
      stride?: number | [number, number];
      padding?: PaddingName;
      activation?: Activation;
    },
    out?: OutSpec,
  ): number {
    const [fh, fw] = Array.isArray(o.filter) ? o.filter : [o.filter, o.filter];
    const [sh, sw] = Array.isArray(o.stride) ? o.stride : [o.stride ?? fh, o.stride ?? fw];
    return this.one(
      type,
      [x],
      {
        padding: Padding[o.padding ?? 'VALID'],
        strideH: sh,
        strideW: sw,
        filterHeight: fh,
        filterWidth: fw,
        fusedActivationFunction: ActivationFunctionType[o.activation ?? 'NONE'],
      },
      out,
    );
  }

  binary(
    type: 'ADD' | 'SUB' | 'MUL' | 'DIV',
    a: number,
    b: number,
    o: { activation?: Activation } = {},
    out?: OutSpec,
  ): number {
    return this.one(type, [a, b], { fusedActivationFunction: ActivationFunctionType[o.activation ?? 'NONE'] }, out);
  }

  unary(type: string, x: number, out?: OutSpec, fields: Record<string, unknown> = {}): number {
    return this.one(type, [x], fields, out);
  }

  softmax(x: number, beta = 1, out?: OutSpec): number {
    return this.one('SOFTMAX', [x], { beta }, out);
  }

  reshape(x: number, shape: number[], out?: OutSpec): number {
    const s = this.constant(this.uniqueName('shape'), 'int32', [shape.length], shape);
    return this.one('RESHAPE', [x, s], { newShape: shape }, out);
  }

  concat(xs: number[], axis: number, out?: OutSpec, activation: Activation = 'NONE'): number {
    return this.one('CONCATENATION', xs, { axis, fusedActivationFunction: ActivationFunctionType[activation] }, out);
  }

  output(...ids: number[]): void {
    this.g.outputs.push(...ids);
  }

  build(description = 'Built by Kiln'): IrModel {
    if (this.g.outputs.length === 0) throw new Error('a model needs at least one output');
    return new IrModel([this.g], description);
  }
}
