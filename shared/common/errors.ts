/**
 * One error family for the whole toolchain. Every error a user can cause carries a stable `code`, a message that names
 * the problem, and a `hint` that says what to do. `kind` decides the CLI exit code and whether a pipeline stage retries.
 */
export type ErrorKind = 'bad-input' | 'internal' | 'transient';

export const ERROR_CODES = {
  // input files
  E_FILE_NOT_FOUND: 'bad-input',
  E_FILE_EMPTY: 'bad-input',
  E_TFLITE_IDENTIFIER: 'bad-input',
  E_TFLITE_MALFORMED: 'bad-input',
  E_TFLITE_INDEX: 'bad-input',
  E_TFLITE_LIMIT: 'bad-input',
  E_UNSUPPORTED_OP: 'bad-input',
  E_UNSUPPORTED_TYPE: 'bad-input',
  E_SHAPE: 'bad-input',
  E_BAD_ARGUMENT: 'bad-input',
  E_NPY: 'bad-input',
  // environment
  E_NO_CREDENTIALS: 'bad-input',
  // internal
  E_INTERNAL: 'internal',
  E_ORACLE: 'internal',
  /** A unit that stopped without a result (killed, out of memory, past the platform timeout), found by the sweeper. */
  E_STALLED: 'internal',
} as const satisfies Record<string, ErrorKind>;

export type ErrorCode = keyof typeof ERROR_CODES;

export class KilnError extends Error {
  readonly code: ErrorCode;
  readonly kind: ErrorKind;
  readonly hint: string | undefined;
  readonly details: Record<string, unknown> | undefined;

  constructor(
    code: ErrorCode,
    message: string,
    opts: { hint?: string; details?: Record<string, unknown>; cause?: unknown } = {},
  ) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'KilnError';
    this.code = code;
    this.kind = ERROR_CODES[code];
    this.hint = opts.hint;
    this.details = opts.details;
  }

  /** One line for a terminal or a build record: the problem, then what to do. */
  oneLine(): string {
    const text = this.hint ? `${this.message}. ${this.hint}` : this.message;
    return text.replace(/\s*\n\s*/g, ' ');
  }

  toJSON(): Record<string, unknown> {
    return { code: this.code, kind: this.kind, message: this.message, hint: this.hint, details: this.details };
  }
}

export function isKilnError(e: unknown): e is KilnError {
  return e instanceof KilnError;
}

/** Exit codes of every `kiln` command: 0 success, 2 bad input, 1 internal error. */
export function exitCodeFor(e: unknown): 1 | 2 {
  return isKilnError(e) && e.kind === 'bad-input' ? 2 : 1;
}
