import { KilnError } from '../../common/errors.js';
import { bytesOf, typedView, type AnyTypedArray, type DType } from '../ir/dtype.js';
import { Graph } from '../ir/graph.js';
import { IrModel } from '../ir/model.js';
import { toTflite } from '../ir/to-tflite.js';
import type { Tensor } from '../ir/types.js';
import { Interpreter, type RunResult, type TensorValue } from '../interpreter/index.js';
import { TfliteRuntime } from '../runtime/tflite-runtime.js';
import { writeTflite } from '../tflite/writer.js';

// Either runner (Kiln's interpreter, the TFLite oracle) returns the interpreter's result shapes.
export type { RunResult, TensorValue } from '../interpreter/index.js';

/**
 * What calibration and the debugger need from an executor: Kiln's Interpreter has this shape (run may be sync). With
 * `views`, the returned arrays may be the executor's own buffers, valid only until its next run (the interpreter's
 * are; the oracle's are fresh arrays either way).
 */
export interface CaptureRunner {
  readonly inputs: Tensor[];
  readonly outputs: Tensor[];
  run(inputs: AnyTypedArray[], opts?: { capture?: boolean; views?: boolean }): RunResult | Promise<RunResult>;
  close?(): void;
}

/** Interpreter errors that mean "this model has an op or type the interpreter lacks": the oracle then runs it. */
const INTERPRETER_GAPS = new Set<string>(['E_UNSUPPORTED_OP', 'E_UNSUPPORTED_TYPE']);

/**
 * The executor used for calibration and the debugger: Kiln's interpreter, in process (no IPC). Measured on the
 * MobileNetV2-size bench model (bench/quantize.bench.ts, per image with every tensor captured): interpreter about
 * 55–60 ms (its own buffers handed out as views; 70–80 ms with a copy of the 28 MB of activations) vs about 150 ms
 * wall for the TFLite runtime oracle (inference + the copy of every activation through IPC). A model with an op or a
 * type the interpreter does not support runs in the oracle instead.
 */
export async function openRunner(model: IrModel): Promise<CaptureRunner> {
  try {
    return await openInterpreterRunner(model);
  } catch (e) {
    if (e instanceof KilnError && INTERPRETER_GAPS.has(e.code)) return OracleCapture.open(model);
    throw e;
  }
}

/** Kiln's own interpreter as the executor (in-process, synchronous run). */
export async function openInterpreterRunner(model: IrModel): Promise<CaptureRunner> {
  return new Interpreter(model);
}

const RUNTIME_DTYPES: Record<string, DType> = { kTfLiteInt64: 'int64' };

/**
 * Runs a model in the TFLite runtime oracle with every op output added as an extra graph output, so that one
 * inference returns every activation. Graph inputs are captured from what was fed in; constants are omitted.
 */
export class OracleCapture implements CaptureRunner {
  private constructor(
    private readonly rt: TfliteRuntime,
    readonly inputs: Tensor[],
    readonly outputs: Tensor[],
    /** Tensor id of each runtime output, in order. */
    private readonly order: number[],
  ) {}

  static async open(model: IrModel): Promise<OracleCapture> {
    const g = model.graph;
    const order = [...g.outputs];
    const seen = new Set(order);
    for (const op of g.ops)
      for (const t of op.outputs)
        if (t >= 0 && !seen.has(t) && !g.isConstant(t)) {
          seen.add(t);
          order.push(t);
        }
    const capture = new Graph();
    capture.name = g.name;
    for (const t of g.tensors) {
      const { id: _id, ...spec } = t;
      capture.addTensor(spec);
    }
    for (const op of g.ops) {
      const { id: _id, ...spec } = op;
      capture.addOp(spec);
    }
    capture.inputs = [...g.inputs];
    capture.outputs = order;
    const bytes = writeTflite(toTflite(new IrModel([capture, ...model.subgraphs.slice(1)], model.description)));
    const rt = await TfliteRuntime.load(bytes, { threads: 1 });
    return new OracleCapture(
      rt,
      g.inputs.map((i) => g.tensor(i)),
      g.outputs.map((i) => g.tensor(i)),
      order,
    );
  }

  /** Every call returns fresh arrays (they come through IPC), so `views` changes nothing. */
  async run(inputs: AnyTypedArray[], opts: { capture?: boolean; views?: boolean } = {}): Promise<RunResult> {
    const raw = await this.rt.run(inputs.map((a) => bytesOf(a)));
    const values = raw.map((o): TensorValue => {
      const dtype = (RUNTIME_DTYPES[o.dtype] ?? o.dtype) as DType;
      return { dtype, shape: o.shape, data: typedView(dtype, o.bytes) };
    });
    const outputs = values.slice(0, this.outputs.length);
    if (!opts.capture) return { outputs };
    const tensors = new Map<number, TensorValue>();
    this.inputs.forEach((t, i) => tensors.set(t.id, { dtype: t.dtype, shape: [...t.shape], data: inputs[i]! }));
    this.order.forEach((id, i) => tensors.set(id, values[i]!));
    return { outputs, tensors };
  }

  close(): void {
    this.rt.close();
  }
}
