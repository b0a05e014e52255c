import { KERNELS_WASM_BASE64 } from './kernels-wasm.js';

/** The subset of the WebAssembly JS API used here (the project's TypeScript libs do not declare it). */
interface WasmMemory {
  readonly buffer: ArrayBuffer;
  grow(pages: number): number;
}
declare const WebAssembly: {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { exports: object };
};

interface Exports {
  mem: WasmMemory;
  qgemm(...args: number[]): void;
  qgemm8(...args: number[]): void;
  rq8(...args: number[]): void;
  fgemm(...args: number[]): void;
  dwq(params: number): void;
  dwf(params: number): void;
  im2colq(params: number, p0: number, p1: number): void;
  resizeu8(params: number): void;
  addq(...args: number[]): void;
  chsum2(...args: number[]): void;
  chaffine2(...args: number[]): void;
  mbqm(acc: number, multiplier: number, left: number, right: number): number;
}

let instance: Exports | null | undefined;

/** The shared WebAssembly kernels instance, or null when the engine lacks WebAssembly SIMD. */
export function wasmKernels(): Exports | null {
  if (instance !== undefined) return instance;
  try {
    const bytes = Buffer.from(KERNELS_WASM_BASE64, 'base64');
    const mod = new WebAssembly.Module(bytes);
    instance = new WebAssembly.Instance(mod, {}).exports as unknown as Exports;
  } catch {
    instance = null;
  }
  return instance;
}

let top = 1024;

/** Reserves `bytes` of kernel memory (16-byte aligned) for the life of the process's interpreters. */
export function wasmAlloc(bytes: number): number {
  const k = wasmKernels();
  if (!k) throw new Error('WebAssembly kernels are unavailable');
  const at = top;
  top = (top + bytes + 15) & ~15;
  const need = top - k.mem.buffer.byteLength;
  if (need > 0) k.mem.grow(Math.ceil(need / 65536));
  return at;
}

const scratchRegions = new Map<string, { at: number; bytes: number }>();

/**
 * A region of kernel memory that kernels only use during one call (their input and output copies), shared by every
 * op of every interpreter: JavaScript runs one kernel at a time. A request larger than the current region moves the
 * slot to a new region; pointers handed out earlier stay valid for their own (smaller) size.
 */
export function wasmScratch(slot: string, bytes: number): number {
  const r = scratchRegions.get(slot);
  if (r && r.bytes >= bytes) return r.at;
  const at = wasmAlloc(bytes);
  scratchRegions.set(slot, { at, bytes });
  return at;
}
