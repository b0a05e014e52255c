import test from 'ava';
import { KilnError } from '../../shared/common/errors.js';
import { invoke, messageTraceparent } from '../../shared/pipeline/invocation.js';
import {
  currentTrace,
  log,
  REPORTED_ERROR_EVENT,
  setLogSink,
  withLogContext,
  type LogEntry,
} from '../../shared/pipeline/log.js';
import {
  continueTrace,
  formatTraceparent,
  parseCloudTraceContext,
  parseTraceparent,
} from '../../shared/pipeline/trace.js';

/** Trace context in, on every log line, and out again on what a stage publishes; errors as Error Reporting events. */
const TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
const PARENT = '00f067aa0ba902b7';

function capture<T>(fn: () => Promise<T>): Promise<{ lines: LogEntry[]; result: T | undefined; error?: unknown }> {
  const lines: LogEntry[] = [];
  const prev = setLogSink((l) => lines.push(l));
  return fn()
    .then((result) => ({ lines, result }))
    .catch((error: unknown) => ({ lines, result: undefined, error }))
    .finally(() => setLogSink(prev));
}

test.serial('traceparent: W3C version 00 parsed; malformed, all-zero and version ff rejected', (t) => {
  t.deepEqual(parseTraceparent(`00-${TRACE}-${PARENT}-01`), { traceId: TRACE, spanId: PARENT, sampled: true });
  t.deepEqual(parseTraceparent(`00-${TRACE.toUpperCase()}-${PARENT}-00`), {
    traceId: TRACE,
    spanId: PARENT,
    sampled: false,
  });
  t.is(parseTraceparent(`00-${'0'.repeat(32)}-${PARENT}-01`), undefined);
  t.is(parseTraceparent(`00-${TRACE}-${'0'.repeat(16)}-01`), undefined);
  t.is(parseTraceparent(`ff-${TRACE}-${PARENT}-01`), undefined);
  t.is(parseTraceparent(`00-${TRACE}-${PARENT}-01-extra`), undefined, 'version 00 has exactly four fields');
  t.truthy(parseTraceparent(`01-${TRACE}-${PARENT}-01-extra`), 'a later version may add fields');
  t.is(parseTraceparent('garbage'), undefined);
  t.is(parseTraceparent(undefined), undefined);
});

test.serial('X-Cloud-Trace-Context: decimal span id becomes 16 hex digits; o=1 is sampled', (t) => {
  t.deepEqual(parseCloudTraceContext(`${TRACE}/1;o=1`), { traceId: TRACE, spanId: '0000000000000001', sampled: true });
  t.deepEqual(parseCloudTraceContext(`${TRACE}/18446744073709551615`), {
    traceId: TRACE,
    spanId: 'ffffffffffffffff',
    sampled: false,
  });
  t.deepEqual(parseCloudTraceContext(TRACE), { traceId: TRACE, sampled: false });
  t.is(parseCloudTraceContext('abc/1'), undefined);
});

test.serial(
  'an invocation continues the incoming trace in a span of its own, and starts one when nothing came in',
  (t) => {
    const c = continueTrace({ traceparent: `00-${TRACE}-${PARENT}-01`, cloudTraceContext: `${'a'.repeat(32)}/5` });
    t.is(c.traceId, TRACE, 'traceparent wins over X-Cloud-Trace-Context');
    t.is(c.parentSpanId, PARENT);
    t.regex(c.spanId, /^[0-9a-f]{16}$/);
    t.not(c.spanId, PARENT);
    t.true(c.sampled);
    t.is(formatTraceparent(c), `00-${TRACE}-${c.spanId}-01`);
    const cloud = continueTrace({ cloudTraceContext: `${TRACE}/10;o=1` });
    t.is(cloud.traceId, TRACE);
    t.is(cloud.parentSpanId, '000000000000000a');
    const fresh = continueTrace({});
    t.regex(fresh.traceId, /^[0-9a-f]{32}$/);
    t.not(fresh.traceId, continueTrace({}).traceId);
    t.is(fresh.parentSpanId, undefined);
  },
);

test.serial('every line of an invocation carries its trace, span and build labels, whatever the message', async (t) => {
  const { lines, result } = await capture(() =>
    invoke(
      {
        service: 'compile',
        projectId: 'kiln-proj',
        incoming: { traceparent: `00-${TRACE}-${PARENT}-01` },
        labels: { build: 'b1', model: 'm', stage: 'compile', unit: 'm13' },
      },
      async () => {
        log.badMessage('compile', 'no'); // a line without a build reference of its own
        await new Promise((r) => setTimeout(r, 1)); // across an await
        log.eventPublished({ buildId: 'b1', modelId: 'm' }, 'dev.kiln.build.v1.stage.succeeded', 'b1/x');
        return currentTrace();
      },
    ),
  );
  t.is(lines.length, 2);
  for (const l of lines) {
    t.is(l['logging.googleapis.com/trace'], `projects/kiln-proj/traces/${TRACE}`);
    t.is(l['logging.googleapis.com/spanId'], result!.spanId);
    t.is(l['logging.googleapis.com/trace_sampled'], true);
    t.like(l['logging.googleapis.com/labels'], { build: 'b1', model: 'm', stage: 'compile' });
  }
  t.is(lines[1]!['logging.googleapis.com/labels']['unit'], 'm13');
  t.is(currentTrace(), undefined, 'the context ends with the invocation');
});

test.serial('nested contexts merge labels; a line outside any context has no trace', async (t) => {
  const { lines } = await capture(async () => {
    log.stackStopping('x');
    withLogContext({ labels: { build: 'b2' } }, () =>
      withLogContext({ labels: { stage: 'verify' } }, () => log.uploadIgnored('o', 'r')),
    );
  });
  t.is(lines[0]!['logging.googleapis.com/trace'], undefined);
  t.deepEqual(lines[1]!['logging.googleapis.com/labels'], { build: 'b2', stage: 'verify' });
});

test.serial(
  'an unexpected failure is an Error Reporting event with its stack; a rejected model is a plain ERROR',
  async (t) => {
    const { lines } = await capture(async () => {
      withLogContext({ service: 'quantize' }, () => {
        log.unitFailed({ buildId: 'b', modelId: 'm' }, 'quantize', 'main', 'E_INTERNAL', 'boom', new TypeError('boom'));
        const bad = new KilnError('E_TFLITE_IDENTIFIER', 'm.tflite is not a TFLite flatbuffer');
        log.unitFailed({ buildId: 'b', modelId: 'm' }, 'convert', 'main', bad.code, bad.oneLine(), bad);
      });
    });
    const [internal, rejected] = lines as [LogEntry, LogEntry];
    t.is(internal.severity, 'ERROR');
    t.is(internal['@type'], REPORTED_ERROR_EVENT);
    t.regex(internal.message, /^quantize\/main failed: boom\nTypeError: boom\n {4}at /);
    t.regex(String(internal['stack_trace']), /^TypeError: boom\n {4}at /);
    t.like(internal['serviceContext'], { service: 'quantize' });
    t.is(rejected.severity, 'ERROR');
    t.is(rejected['@type'], undefined);
    t.notRegex(rejected.message, /\n {4}at /);
  },
);

test.serial('an error nothing handled is reported once and propagates', async (t) => {
  const { lines, error } = await capture(() =>
    invoke({ service: 'finish', projectId: 'p-1', incoming: {} }, async () => {
      throw new Error('store down');
    }),
  );
  t.is((error as Error).message, 'store down');
  t.is(lines.length, 1);
  t.is(lines[0]!['@type'], REPORTED_ERROR_EVENT);
  t.regex(String(lines[0]!['logging.googleapis.com/trace']), /^projects\/p-1\/traces\/[0-9a-f]{32}$/);
});

test.serial("a message's traceparent: Kiln's attribute, else the client library's", (t) => {
  t.is(messageTraceparent({ traceparent: 'a', googclient_traceparent: 'b' }), 'a');
  t.is(messageTraceparent({ googclient_traceparent: 'b' }), 'b');
  t.is(messageTraceparent({}), undefined);
});
