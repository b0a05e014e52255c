import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { KilnError } from '../../common/errors.js';

export interface RuntimeTensorInfo {
  name: string;
  /** The runtime's type name: float32, int32, uint8, int8, int16, bool, float64, kTfLiteInt64, ... */
  dtype: string;
  shape: number[];
}

export interface RuntimeOutput extends RuntimeTensorInfo {
  /** Raw little-endian bytes of the output tensor. */
  bytes: Uint8Array;
}

type Reply =
  | { type: 'loaded'; inputs: RuntimeTensorInfo[]; outputs: RuntimeTensorInfo[] }
  | { type: 'result'; outputs: RuntimeOutput[]; inferMs?: number; inferCpuMs?: number }
  | { type: 'error'; message: string };

const WORKER = fileURLToPath(new URL('./tflite-worker.cjs', import.meta.url));

/**
 * The real TensorFlow Lite runtime (2.9, built-in kernels, no XNNPACK), from npm `tfjs-tflite-node`, hosted in a child
 * process so that a model that crashes native code cannot take Kiln down. It is the oracle Kiln's own interpreter and
 * writer are checked against. One model per runtime (a TfliteSession of its own).
 */
export class TfliteRuntime {
  private constructor(
    private readonly session: TfliteSession,
    readonly inputs: RuntimeTensorInfo[],
    readonly outputs: RuntimeTensorInfo[],
  ) {}

  static async load(model: Uint8Array, opts: { threads?: number } = {}): Promise<TfliteRuntime> {
    const session = new TfliteSession();
    try {
      const io = await session.load(model, opts.threads ?? 1);
      return new TfliteRuntime(session, io.inputs, io.outputs);
    } catch (e) {
      session.close();
      throw e;
    }
  }

  /** Runs one inference; `inputs` are the raw bytes of each input tensor, in input order. */
  run(inputs: Uint8Array[]): Promise<RuntimeOutput[]> {
    return this.session.run(inputs);
  }

  /** Wall ms of the last run's Invoke() alone, timed in the runtime's process (no input/output copies, no IPC). */
  get lastInvokeMs(): number | undefined {
    return this.session.lastInvokeMs;
  }

  /** CPU ms (user + system) of the runtime's process during the last run's Invoke(): what preemption does not inflate. */
  get lastInvokeCpuMs(): number | undefined {
    return this.session.lastInvokeCpuMs;
  }

  close(): void {
    this.session.close();
  }
}

function request(child: ChildProcess, msg: unknown, stderr: () => string): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const cleanup = (): void => {
      child.off('message', onMessage);
      child.off('exit', onExit);
      child.off('error', onError);
    };
    const onMessage = (m: Reply): void => {
      cleanup();
      resolve(m);
    };
    const onExit = (code: number | null, signal: string | null): void => {
      cleanup();
      reject(
        new KilnError(
          'E_ORACLE',
          `the TFLite runtime process died (exit ${code ?? ''}${signal ? `, signal ${signal}` : ''}): ${stderr().trim().split('\n').slice(-3).join(' | ')}`,
        ),
      );
    };
    const onError = (e: Error): void => {
      cleanup();
      reject(new KilnError('E_ORACLE', `the TFLite runtime process failed: ${e.message}`, { cause: e }));
    };
    child.on('message', onMessage);
    child.on('exit', onExit);
    child.on('error', onError);
    child.send(msg as never);
  });
}

/**
 * One runtime process for many models in turn (batch runs such as the ONNX conformance suite): each `load` replaces
 * the previous model. When a model crashes the process, `alive` turns false and the caller starts a new session.
 */
export class TfliteSession {
  private stderr = '';
  private dead = false;
  private readonly child: ChildProcess;

  constructor() {
    this.child = fork(WORKER, [], { serialization: 'advanced', stdio: ['ignore', 'ignore', 'pipe', 'ipc'] });
    this.child.stderr?.on('data', (d: Buffer) => {
      this.stderr = (this.stderr + d.toString()).slice(-4000);
    });
    this.child.on('exit', () => {
      this.dead = true;
    });
  }

  get alive(): boolean {
    return !this.dead;
  }

  async load(model: Uint8Array, threads = 1): Promise<{ inputs: RuntimeTensorInfo[]; outputs: RuntimeTensorInfo[] }> {
    const reply = await request(this.child, { type: 'load', model, threads }, () => this.stderr);
    if (reply.type !== 'loaded')
      throw new KilnError(
        'E_ORACLE',
        `the TFLite runtime refused the model: ${reply.type === 'error' ? reply.message : reply.type}`,
      );
    return { inputs: reply.inputs, outputs: reply.outputs };
  }

  /** Wall and CPU ms of the last run's Invoke() in the child. */
  lastInvokeMs: number | undefined;
  lastInvokeCpuMs: number | undefined;

  async run(inputs: Uint8Array[]): Promise<RuntimeOutput[]> {
    const reply = await request(this.child, { type: 'run', inputs }, () => this.stderr);
    if (reply.type !== 'result')
      throw new KilnError(
        'E_ORACLE',
        `the TFLite runtime failed to run the model: ${reply.type === 'error' ? reply.message : reply.type}`,
      );
    this.lastInvokeMs = reply.inferMs;
    this.lastInvokeCpuMs = reply.inferCpuMs;
    return reply.outputs;
  }

  close(): void {
    if (this.child.connected) this.child.disconnect();
    this.child.kill();
  }
}
