/**
 * The compiler's exact strings (docs/specs/edgetpu-compiler.md §6, §7). Everything Kiln prints in the compiler's voice comes from here, so a
 * test can check each one is produced and the log parser can recognise each one.
 */
export const COMPILER_VERSION = '16.0.384591198';
/** Default `-m` of compiler 16 (docs/specs/edgetpu-compiler.md §1.1). */
export const DEFAULT_MIN_RUNTIME = 14;
export const LOWEST_RUNTIME = 10;
/** Default `-t` of compiler 16, seconds (docs/specs/edgetpu-compiler.md §1.1). */
export const DEFAULT_TIMEOUT_SEC = 180;

/** Per-operator statuses (docs/specs/edgetpu-compiler.md §7.1), the "Status" column of the operation table. */
export const STATUS = {
  mapped: 'Mapped to Edge TPU',
  moreThanOneSubgraph: 'More than one subgraph is not supported',
  unspecifiedLimitation: 'Operation is otherwise supported, but not mapped due to some unspecified limitation',
  unsupportedDataType: 'Operation is working on an unsupported data type',
  notSupported: 'Operation not supported',
  versionNotSupported: 'Operation version not supported',
  unsupportedRank: 'Tensor has unsupported rank (up to 3 innermost dimensions mapped)',
  paramNotConstant: 'Filter, bias, or other param is not constant at compile-time',
  twoDOutput: 'For example, a fully-connected or softmax layer with 2D output',
} as const;
export type StatusKey = keyof typeof STATUS;
export type Status = (typeof STATUS)[StatusKey];
export const ALL_STATUSES: readonly Status[] = Object.values(STATUS);

/** Lines of the success output (docs/specs/edgetpu-compiler.md §6.1, §7.2). */
export const LINES = {
  version: (v: string) => `Edge TPU Compiler version ${v}`,
  timer: (t: number) => `Started a compilation timeout timer of ${t} seconds.`,
  searching: (k: number) => `Searching for valid delegate with step ${k}`,
  trySegment: (n: number) => `Try to compile segment with ${n} ops`,
  intermediate: (names: string[]) => `Intermediate tensors: ${names.join(',')}`,
  compiledOne: (ms: number) => `Model compiled successfully in ${ms} ms.`,
  compiledMany: (ms: number) => `Models compiled successfully in ${ms} ms.`,
  inputModel: 'Input model: ',
  inputSize: 'Input size: ',
  outputModel: 'Output model: ',
  outputSize: 'Output size: ',
  onChipUsed: 'On-chip memory used for caching model parameters: ',
  onChipRemaining: 'On-chip memory remaining for caching model parameters: ',
  offChip: 'Off-chip memory used for streaming uncached model parameters: ',
  subgraphs: 'Number of Edge TPU subgraphs: ',
  totalOps: 'Total number of operations: ',
  opLog: 'Operation log: ',
  seeLog: 'See the operation log file for individual operation details.',
  notAll:
    'Model successfully compiled but not all operations are supported by the Edge TPU. A percentage of the model will instead run on the CPU, which is slower. If possible, consider updating your model to use only operations supported by the Edge TPU. For details, visit g.co/coral/model-reqs.',
  tpuOps: 'Number of operations that will run on Edge TPU: ',
  cpuOps: 'Number of operations that will run on CPU: ',
  childDone: 'Compilation child process completed within timeout period.',
  succeeded: 'Compilation succeeded! ',
  failed: 'Compilation failed! ',
  tableHeader: 'Operator                       Count      Status',
  logInput: 'Input: ',
  logOutput: 'Output: ',
} as const;

/** Model-level errors (docs/specs/edgetpu-compiler.md §7.3) that apply to compiler 16. */
export const ERRORS = {
  invalidModel: (path: string) => `Invalid model: ${path}`,
  notQuantized: 'Model not quantized',
  couldNotParse: 'Model could not be parsed',
  opNotFound: (op: string, version: number) =>
    `ERROR: Didn't find op for builtin opcode '${op}' version '${version}'. An older version of this builtin might be supported. Are you using an old TFLite binary with a newer model?`,
  registrationFailed: 'ERROR: Registration failed.',
  dynamicTensors:
    'ERROR: Attempting to use a delegate that only supports static-sized tensors with a graph that has dynamic-sized tensors.',
  interpreterFailed:
    'Compilation failed: Model failed in Tflite interpreter. Please ensure model can be loaded/run in Tflite interpreter.',
  quantOverflow: 'ERROR: :344 no_integer_overflow_from_quantization was not true.',
  nodeFailedToPrepare: (i: number, op: string) => `ERROR: Node number ${i} (${op}) failed to prepare.`,
  restoredPlan: 'ERROR: Restored original execution plan after delegate application failure.',
  largeActivations: 'Compilation failed: Compilation failed due to large activation tensors in model.',
  timeout: 'Compilation timeout. This is usually caused by large activations.',
  crash: 'libc++abi: terminating with uncaught exception of type std::out_of_range: vector',
} as const;

/** `{size}` of docs/specs/edgetpu-compiler.md §6.2: two decimals, binary units, no space. */
export function formatSize(bytes: number): string {
  if (bytes < 1024) return `${bytes.toFixed(2)}B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(2)}KiB`;
  return `${(bytes / (1024 * 1024)).toFixed(2)}MiB`;
}

/** Inverse of formatSize (approximate: the text keeps two decimals). */
export function parseSize(text: string): number | null {
  const m = /^(\d+(?:\.\d+)?)(B|KiB|MiB|GiB)$/.exec(text.trim());
  if (!m) return null;
  const mult = { B: 1, KiB: 1024, MiB: 1024 * 1024, GiB: 1024 * 1024 * 1024 }[m[2] as 'B' | 'KiB' | 'MiB' | 'GiB'];
  return Math.round(Number(m[1]) * mult);
}

/** One row of the operation table: name left-justified to column 31, count to column 42, then the status. */
export function tableRow(op: string, count: number, status: string): string {
  return `${op.padEnd(31)}${String(count).padEnd(11)}${status}`;
}
