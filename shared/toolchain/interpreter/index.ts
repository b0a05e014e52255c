export { Interpreter, type OpTiming, type RunOptions, type RunResult, type TensorValue } from './interpreter.js';
export { supportedOps } from './kernels/registry.js';
