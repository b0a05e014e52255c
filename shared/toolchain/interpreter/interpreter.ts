import { KilnError, isKilnError } from '../../common/errors.js';
import { dtypeBytes, typedView, type AnyTypedArray, type DType } from '../ir/dtype.js';
import { numElements, type Graph } from '../ir/graph.js';
import type { IrModel } from '../ir/model.js';
import type { Op, Tensor } from '../ir/types.js';
import { opLabel } from './errors.js';
import type { KernelArgs } from './kernel.js';
import { kernelFor } from './kernels/registry.js';

export interface TensorValue {
  dtype: DType;
  shape: number[];
  data: AnyTypedArray;
}

export interface RunResult {
  outputs: TensorValue[];
  /** Every activation and input tensor's value, keyed by IR tensor id (with `capture`). */
  tensors?: Map<number, TensorValue>;
  /** Wall time of each op (with `timings`), in execution order, with the implementation (`kernel`) it ran on. */
  timings?: OpTiming[];
}

export interface OpTiming {
  opId: number;
  type: string;
  kernel: string;
  ms: number;
}

export interface RunOptions {
  /** Return every activation and input tensor too (`RunResult.tensors`). */
  capture?: boolean;
  /** Views of the interpreter's buffers instead of copies, valid until the next run. */
  views?: boolean;
  /** Time every op. */
  timings?: boolean;
}

interface Slot {
  shape: number[];
  data: AnyTypedArray;
}

/** Default cap on the bytes of all tensors one interpreter allocates (activations, inputs, outputs). */
export const DEFAULT_MAX_TENSOR_BYTES = 1024 ** 3;

function allocate(dtype: DType, n: number): AnyTypedArray {
  const width = dtypeBytes(dtype);
  if (width === 0) throw new KilnError('E_UNSUPPORTED_TYPE', `the interpreter cannot hold tensors of type ${dtype}`);
  return typedView(dtype, new Uint8Array(n * width));
}

/** A kernel that threw something other than a KilnError met a case it does not handle: name the op. */
function opFailure(op: Op, index: number, phase: 'prepared' | 'run', e: unknown): KilnError {
  const why = (e as Error)?.message ?? String(e);
  return phase === 'prepared'
    ? new KilnError('E_TFLITE_MALFORMED', `${opLabel(op)} (operator ${index}) cannot be prepared: ${why}`, {
        hint: "The operator's inputs, shapes or options are inconsistent; re-export the model from the TFLite converter",
        cause: e,
      })
    : new KilnError('E_INTERNAL', `${opLabel(op)} (operator ${index}) failed while running: ${why}`, { cause: e });
}

/**
 * Runs a TFLite-style graph (float32 and int8/uint8 quantized) with TFLite's own arithmetic. The constructor prepares
 * everything once: every op is checked and turned into a closure over fixed buffers with its weights packed and its
 * multipliers computed, so `run` only moves data.
 */
export class Interpreter {
  readonly inputs: Tensor[];
  readonly outputs: Tensor[];
  private readonly graph: Graph;
  private readonly slots = new Map<number, Slot>();
  private readonly steps: { op: Op; exec: () => void; kernel: string }[] = [];

  private readonly maxTensorBytes: number;
  private allocatedBytes = 0;

  constructor(model: IrModel, opts: { subgraph?: number; maxTensorBytes?: number } = {}) {
    this.maxTensorBytes = opts.maxTensorBytes ?? DEFAULT_MAX_TENSOR_BYTES;
    const index = opts.subgraph ?? 0;
    const g = model.subgraphs[index];
    if (!g) throw new KilnError('E_BAD_ARGUMENT', `the model has no subgraph ${index}`);
    this.graph = g;
    this.inputs = g.inputs.map((i) => g.tensor(i));
    this.outputs = g.outputs.map((i) => g.tensor(i));
    const entries = g.ops.map((op) => {
      const entry = kernelFor(op);
      if (!entry) {
        throw new KilnError('E_UNSUPPORTED_OP', `the interpreter does not support ${opLabel(op)}`, {
          hint: 'Supported ops are listed in shared/toolchain/interpreter/kernels/registry.ts',
        });
      }
      if (op.version > entry.maxVersion) {
        throw new KilnError(
          'E_UNSUPPORTED_OP',
          `the interpreter supports ${op.type} up to version ${entry.maxVersion}, not ${opLabel(op)}`,
          {
            hint: 'Convert the model with an older TFLite converter or file an issue',
          },
        );
      }
      return entry;
    });
    for (const t of this.inputs) {
      if (t.shape.some((d) => d < 0))
        throw new KilnError('E_SHAPE', `input ${t.name} has a dynamic shape [${t.shape.join(',')}]`);
      this.slots.set(t.id, { shape: [...t.shape], data: this.allocate(t, t.shape) });
    }
    for (const t of g.tensors) if (t.isVariable && !this.slots.has(t.id)) this.slots.set(t.id, this.variableSlot(t));
    g.ops.forEach((op, i) => {
      let exec: () => void;
      const step = { kernel: 'js' };
      try {
        exec = entries[i]!.prepare(this.args(op, step));
      } catch (e) {
        throw isKilnError(e) ? e : opFailure(op, i, 'prepared', e);
      }
      this.steps.push({ op, exec, kernel: step.kernel });
    });
    for (const t of this.outputs) {
      if (!this.slots.has(t.id) && !g.isConstant(t.id))
        throw new KilnError('E_TFLITE_MALFORMED', `output ${t.name} is never computed`);
    }
  }

  /** Allocates a tensor's buffer, refusing shapes that are not sizes and totals over the memory cap. */
  private allocate(t: Tensor, shape: readonly number[]): AnyTypedArray {
    const n = numElements(shape);
    if (!Number.isSafeInteger(n) || n < 0) {
      throw new KilnError(
        'E_SHAPE',
        `tensor ${t.name} would have shape [${shape.join(',')}], which is not a valid size`,
        {
          hint: 'Check the layer sizes and the input shape',
        },
      );
    }
    const bytes = n * dtypeBytes(t.dtype);
    if (this.allocatedBytes + bytes > this.maxTensorBytes) {
      throw new KilnError(
        'E_TFLITE_LIMIT',
        `running the model needs more than ${this.maxTensorBytes} bytes of tensors (at ${t.name} [${shape.join(',')}])`,
        {
          hint: 'Reduce the input size, or raise the interpreter memory limit',
        },
      );
    }
    this.allocatedBytes += bytes;
    return allocate(t.dtype, n);
  }

  /**
   * A variable tensor (the state of UNIDIRECTIONAL_SEQUENCE_LSTM) gets its own buffer for the interpreter's lifetime,
   * so its value persists from one `run` to the next, as in TFLite. It starts as TFLite's ResetVariableTensor leaves
   * it: zero, or the zero point for int8; a model that gives it a buffer starts from that buffer instead.
   */
  private variableSlot(t: Tensor): Slot {
    if (t.shape.some((d) => d < 0))
      throw new KilnError('E_SHAPE', `variable tensor ${t.name} has a dynamic shape [${t.shape.join(',')}]`);
    const data = this.allocate(t, t.shape);
    if (t.data !== undefined && t.data.length === data.byteLength) {
      new Uint8Array(data.buffer, data.byteOffset, data.byteLength).set(t.data);
    } else if (t.dtype === 'int8') {
      data.fill((t.quant?.zeroPoint[0] ?? 0) as never);
    }
    return { shape: [...t.shape], data };
  }

  private slot(id: number): Slot {
    let s = this.slots.get(id);
    if (s) return s;
    const t = this.graph.tensor(id);
    if (t.data !== undefined) {
      s = { shape: [...t.shape], data: typedView(t.dtype, t.data) };
      this.slots.set(id, s);
      return s;
    }
    throw new KilnError('E_TFLITE_MALFORMED', `tensor ${t.name} (#${id}) is read before any op writes it`);
  }

  private args(op: Op, step: { kernel: string }): KernelArgs {
    const g = this.graph;
    const inId = (i: number): number => op.inputs[i] ?? -1;
    return {
      op,
      graph: g,
      opts: (op.options ?? {}) as Record<string, any>,
      numInputs: op.inputs.length,
      numOutputs: op.outputs.length,
      kernel: (name) => {
        step.kernel = name;
      },
      tensor: (i) => (inId(i) >= 0 ? g.tensor(inId(i)) : undefined),
      outTensor: (i) => g.tensor(op.outputs[i]!),
      shape: (i) => this.slot(inId(i)).shape,
      dtype: (i) => g.tensor(inId(i)).dtype,
      input: (i) => this.slot(inId(i)).data,
      isConst: (i) => inId(i) >= 0 && g.isConstant(inId(i)),
      constInts: (i) => {
        const id = inId(i);
        if (id < 0 || !g.isConstant(id)) return null;
        return Array.from(this.slot(id).data as ArrayLike<number | bigint>, (v) => Number(v));
      },
      output: (i, shape) => {
        const id = op.outputs[i]!;
        const t = g.tensor(id);
        const prev = this.slots.get(id);
        if (prev) return prev.data;
        const s = { shape: [...shape], data: this.allocate(t, shape) };
        this.slots.set(id, s);
        return s.data;
      },
    };
  }

  /**
   * One inference. `inputs`: one typed array per model input, in input order, of that input's dtype. Variable tensors
   * (recurrent state) keep the values the previous run left in them, as TFLite does between Invoke calls.
   *
   * Outputs (and with `capture`, every tensor) are copies unless `views` is set: then they are views of the
   * interpreter's own buffers, valid only until the next `run` — for a caller that reads them before running again
   * (calibration statistics), saving a copy of every activation.
   */
  run(inputs: AnyTypedArray[], opts: RunOptions = {}): RunResult {
    if (inputs.length !== this.inputs.length) {
      throw new KilnError('E_BAD_ARGUMENT', `the model takes ${this.inputs.length} input(s), got ${inputs.length}`);
    }
    this.inputs.forEach((t, i) => {
      const slot = this.slots.get(t.id)!;
      const given = inputs[i]!;
      if (given.length !== slot.data.length || given.BYTES_PER_ELEMENT !== slot.data.BYTES_PER_ELEMENT) {
        throw new KilnError(
          'E_BAD_ARGUMENT',
          `input ${i} (${t.name}) needs ${slot.data.length} ${t.dtype} values [${slot.shape.join(',')}], got ${given.length} of ${given.constructor.name}`,
        );
      }
      (slot.data as Uint8Array).set(given as Uint8Array);
    });
    const timings: RunResult['timings'] = opts.timings ? [] : undefined;
    this.steps.forEach((step, i) => {
      const t0 = timings ? performance.now() : 0;
      try {
        step.exec();
      } catch (e) {
        throw isKilnError(e) ? e : opFailure(step.op, i, 'run', e);
      }
      timings?.push({
        opId: step.op.id,
        type: step.op.type === 'CUSTOM' ? `CUSTOM:${step.op.customCode}` : step.op.type,
        kernel: step.kernel,
        ms: performance.now() - t0,
      });
    });
    const value = (id: number): TensorValue => {
      const s = this.slot(id);
      return { dtype: this.graph.tensor(id).dtype, shape: [...s.shape], data: opts.views ? s.data : s.data.slice() };
    };
    const result: RunResult = { outputs: this.graph.outputs.map(value) };
    if (opts.capture) {
      result.tensors = new Map();
      for (const id of this.slots.keys()) if (!this.graph.isConstant(id)) result.tensors.set(id, value(id));
    }
    if (timings) result.timings = timings;
    return result;
  }
}
