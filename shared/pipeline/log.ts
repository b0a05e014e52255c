import { AsyncLocalStorage } from 'node:async_hooks';
import { isKilnError } from '../common/errors.js';
import { traceFields, type TraceContext } from './trace.js';

/**
 * The log catalogue: one named function per message the pipeline logs. Each writes one JSON line with the Cloud
 * Logging fields `severity`, `message`, `logging.googleapis.com/labels` (build, model, stage) and structured fields.
 * Inside `withLogContext` (every function invocation runs in one) each line also carries the invocation's trace
 * (`logging.googleapis.com/trace` = `projects/<project>/traces/<trace id>`, `…/spanId`) and the build and model
 * labels, whichever message it is. A failure with an unexpected error is written as an Error Reporting event
 * (`@type` ReportedErrorEvent, the stack trace in `message`).
 */
export type Severity = 'DEBUG' | 'INFO' | 'NOTICE' | 'WARNING' | 'ERROR';

export interface LogLabels {
  build?: string;
  model?: string;
  stage?: string;
  unit?: string;
}

export type LogEntry = {
  severity: Severity;
  message: string;
  'logging.googleapis.com/labels': Record<string, string>;
  time: string;
} & Record<string, unknown>;

export type LogSink = (entry: LogEntry) => void;

let sink: LogSink = (entry) => process.stdout.write(`${JSON.stringify(entry)}\n`);

/** Replaces where log entries go (the local stack and tests capture them); returns the previous sink. */
export function setLogSink(next: LogSink): LogSink {
  const prev = sink;
  sink = next;
  return prev;
}

export interface LogContext {
  trace?: TraceContext;
  /** The project the trace belongs to (`projects/<projectId>/traces/…`). */
  projectId?: string;
  /** Labels every line of this context carries (a line's own labels win). */
  labels?: LogLabels;
  /** Error Reporting's service name (default K_SERVICE, the function's name on Cloud Run functions). */
  service?: string;
}

const context = new AsyncLocalStorage<LogContext>();

/** Runs `fn` with `ctx` added to the current log context (labels merge), for every line written inside it. */
export function withLogContext<T>(ctx: LogContext, fn: () => T): T {
  const outer = context.getStore() ?? {};
  return context.run({ ...outer, ...ctx, labels: { ...outer.labels, ...ctx.labels } }, fn);
}

/** The trace of the current invocation, if one runs. */
export function currentTrace(): TraceContext | undefined {
  return context.getStore()?.trace;
}

export const REPORTED_ERROR_EVENT =
  'type.googleapis.com/google.devtools.clouderrorreporting.v1beta1.ReportedErrorEvent';

/**
 * The fields that make Error Reporting take a line as an occurrence of an error: the `@type`, the stack trace as the
 * message's text (what it groups by), and the service. Only for errors that are bugs or outages: a model the pipeline
 * rejects (a bad-input KilnError) is the user's to fix and stays a plain ERROR line. The stack is in `message` (after
 * the catalogue's sentence) and in `stack_trace`; an error without a stack stays a plain line too.
 */
function reportedError(cause: unknown, message: string): Record<string, unknown> | undefined {
  if (!(cause instanceof Error) || (isKilnError(cause) && cause.kind === 'bad-input')) return undefined;
  const stack = cause.stack;
  if (!stack?.includes('\n    at ')) return undefined;
  const ctx = context.getStore();
  return {
    '@type': REPORTED_ERROR_EVENT,
    message: `${message}\n${stack}`,
    stack_trace: stack,
    serviceContext: {
      service: ctx?.service ?? process.env['K_SERVICE'] ?? 'kiln',
      ...(process.env['K_REVISION'] ? { version: process.env['K_REVISION'] } : {}),
    },
  };
}

function write(
  severity: Severity,
  message: string,
  labels: LogLabels,
  fields: Record<string, unknown> = {},
  cause?: unknown,
): void {
  const ctx = context.getStore();
  const l: Record<string, string> = {};
  for (const source of [ctx?.labels ?? {}, labels])
    for (const [k, v] of Object.entries(source)) if (v !== undefined) l[k] = v;
  const trace = ctx?.trace
    ? traceFields(ctx.trace, ctx.projectId ?? process.env['KILN_PROJECT_ID'] ?? 'kiln-local')
    : {};
  const reported = cause === undefined ? undefined : reportedError(cause, message);
  sink({
    severity,
    message,
    'logging.googleapis.com/labels': l,
    time: new Date().toISOString(),
    ...fields,
    ...trace,
    ...reported,
  });
}

type Ref = { buildId: string; modelId: string };
const ref = (r: Ref, stage?: string, unit?: string): LogLabels => ({ build: r.buildId, model: r.modelId, stage, unit });

export const log = {
  uploadIgnored: (object: string, reason: string) =>
    write('DEBUG', `upload ${object} ignored: ${reason}`, {}, { object, reason }),
  buildCreated: (r: Ref, uri: string) => write('INFO', `build created for ${uri}`, ref(r, 'ingest'), { uri }),
  duplicateUpload: (r: Ref, uri: string, status: string) =>
    write('INFO', `duplicate storage event for ${uri}; build is already ${status}`, ref(r, 'ingest'), { uri, status }),
  inputRejected: (r: Ref, reason: string) =>
    write('WARNING', `upload rejected: ${reason}`, ref(r, 'ingest'), { reason }),
  badMessage: (stage: string, reason: string) =>
    write('ERROR', `stage ${stage} dropped a message that does not match its schema: ${reason}`, { stage }, { reason }),
  unitSkipped: (r: Ref, stage: string, unit: string, reason: string) =>
    write('INFO', `${stage}/${unit} skipped: ${reason}`, ref(r, stage, unit), { reason }),
  unitStarted: (r: Ref, stage: string, unit: string, attempt: number) =>
    write('INFO', `${stage}/${unit} started (attempt ${attempt})`, ref(r, stage, unit), { attempt }),
  unitSucceeded: (r: Ref, stage: string, unit: string, durationMs: number, artifacts: string[]) =>
    write('INFO', `${stage}/${unit} succeeded in ${durationMs} ms`, ref(r, stage, unit), { durationMs, artifacts }),
  unitRetrying: (r: Ref, stage: string, unit: string, attempt: number, error: string) =>
    write('WARNING', `${stage}/${unit} attempt ${attempt} failed, will retry: ${error}`, ref(r, stage, unit), {
      attempt,
      error,
    }),
  unitReleased: (r: Ref, stage: string, unit: string, released: boolean) =>
    write(
      'WARNING',
      released
        ? `${stage}/${unit}: could not record the result; lease released for the redelivery`
        : `${stage}/${unit}: could not record the result; the unit's lease could not be released (it runs again when the lease ends)`,
      ref(r, stage, unit),
      { released },
    ),
  unitFailed: (r: Ref, stage: string, unit: string, code: string, error: string, cause?: unknown) =>
    write('ERROR', `${stage}/${unit} failed: ${error}`, ref(r, stage, unit), { code, error }, cause),
  /** An error nothing handled: the invocation fails (and its message is redelivered when it came from Pub/Sub). */
  invocationFailed: (what: string, cause: unknown) =>
    write(
      'ERROR',
      `${what} failed: ${cause instanceof Error ? cause.message : String(cause)}`,
      {},
      { error: String(cause) },
      cause instanceof Error ? cause : new Error(String(cause)),
    ),
  stageCompleted: (r: Ref, stage: string, units: number) =>
    write('INFO', `stage ${stage} completed (${units} unit${units === 1 ? '' : 's'})`, ref(r, stage), { units }),
  buildSucceeded: (r: Ref, artifacts: number) =>
    write('NOTICE', `build succeeded with ${artifacts} artifacts`, ref(r, 'finish'), { artifacts }),
  buildFailed: (r: Ref, stage: string, reason: string) =>
    write('ERROR', `build failed in ${stage}: ${reason}`, ref(r, stage), { reason }),
  eventPublished: (r: Ref, type: string, id: string) =>
    write('DEBUG', `published ${type}`, ref(r), { eventType: type, eventId: id }),
  stackReady: (endpoints: Record<string, string>) => write('NOTICE', 'local stack ready', {}, { endpoints }),
  stackStopping: (reason: string) => write('INFO', `local stack stopping: ${reason}`, {}, { reason }),
  emulatorOutput: (name: string, line: string) => write('DEBUG', `${name}: ${line}`, {}, { emulator: name }),
  unitRedriven: (r: Ref, stage: string, unit: string, why: string) =>
    write('WARNING', `${stage}/${unit} re-driven by the sweeper: ${why}`, ref(r, stage, unit), { why }),
  buildStalled: (r: Ref, stage: string, unit: string, reason: string) =>
    write('ERROR', `${stage}/${unit} stalled; build failed: ${reason}`, ref(r, stage, unit), { reason }),
  sweepDone: (builds: number, redriven: number, failed: number) =>
    write(
      redriven + failed > 0 ? 'NOTICE' : 'DEBUG',
      `sweep: ${builds} running, ${redriven} re-driven, ${failed} failed`,
      {},
      { builds, redriven, failed },
    ),
  deadLetterDropped: (reason: string) =>
    write('ERROR', `dead-letter consumer dropped a message: ${reason}`, { stage: 'deadletter' }, { reason }),
  /** A line a function instance of the local stack wrote that is not a log entry (the framework's own output). */
  functionOutput: (fn: string, stream: 'stdout' | 'stderr', line: string) =>
    write(stream === 'stderr' ? 'WARNING' : 'DEBUG', `function ${fn}: ${line}`, {}, { function: fn, stream }),
  /** A log entry another process wrote (a function instance of the local stack), passed on as it is. */
  forwarded: (entry: LogEntry) => sink(entry),
};
