/**
 * Every Kiln function and the signature it is declared with (`functions-framework --signature-type`). No imports: the
 * local stack reads it without loading the functions, which it serves from the installed bundle in processes of their
 * own. The compile function runs on Cloud Run from the compiler image, with the same arguments (terraform/compile.tf).
 */
export const FUNCTION_NAMES = [
  'ingest',
  'convert',
  'train',
  'quantize',
  'compile',
  'verify',
  'finish',
  'deadletter',
  'sweeper',
] as const;

export type FunctionName = (typeof FUNCTION_NAMES)[number];

export const FUNCTION_SIGNATURES: Record<FunctionName, 'cloudevent' | 'http'> = {
  ingest: 'cloudevent',
  convert: 'cloudevent',
  train: 'cloudevent',
  quantize: 'cloudevent',
  compile: 'cloudevent',
  verify: 'cloudevent',
  finish: 'cloudevent',
  /** Pushes from the stages' dead-letter topics. */
  deadletter: 'cloudevent',
  /** Called by Cloud Scheduler (the local stack: a timer). */
  sweeper: 'http',
};
