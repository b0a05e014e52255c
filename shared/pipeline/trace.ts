import { randomBytes } from 'node:crypto';

/**
 * Trace context of the work one function invocation does, so one build can be followed across every service in Cloud
 * Trace and Cloud Logging. It comes in from the request or event (W3C `traceparent`, or Google's
 * `X-Cloud-Trace-Context`), each invocation is a span of its own under it, and the messages and events Kiln publishes
 * carry this span as their parent (`traceparent` attribute / CloudEvents `traceparent` extension). Pure.
 */
export interface TraceContext {
  /** 32 lowercase hex digits. */
  traceId: string;
  /** This invocation's span: 16 lowercase hex digits. */
  spanId: string;
  /** The span of the request or message this invocation continues, when there was one. */
  parentSpanId?: string;
  sampled: boolean;
}

const TRACEPARENT = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(?:-.*)?$/;
const CLOUD_TRACE = /^([0-9a-fA-F]{32})(?:\/(\d+))?(?:;o=([01]))?$/;
const ZERO = /^0+$/;

/** The parent span a W3C `traceparent` names (version 00 and later), or undefined when it is not one. */
export function parseTraceparent(
  header: string | undefined,
): { traceId: string; spanId: string; sampled: boolean } | undefined {
  const m = TRACEPARENT.exec(header?.trim().toLowerCase() ?? '');
  if (!m || m[1] === 'ff' || ZERO.test(m[2]!) || ZERO.test(m[3]!)) return undefined;
  if (m[1] === '00' && header!.trim().length !== 55) return undefined;
  return { traceId: m[2]!, spanId: m[3]!, sampled: (parseInt(m[4]!, 16) & 1) === 1 };
}

/** `X-Cloud-Trace-Context: TRACE_ID/SPAN_ID;o=1` (span id decimal) as a parent span. */
export function parseCloudTraceContext(
  header: string | undefined,
): { traceId: string; spanId?: string; sampled: boolean } | undefined {
  const m = CLOUD_TRACE.exec(header?.trim() ?? '');
  if (!m || ZERO.test(m[1]!)) return undefined;
  let spanId: string | undefined;
  if (m[2] !== undefined) {
    const n = BigInt(m[2]);
    if (n > 0n && n < 2n ** 64n) spanId = n.toString(16).padStart(16, '0');
  }
  return { traceId: m[1]!.toLowerCase(), ...(spanId ? { spanId } : {}), sampled: m[3] === '1' };
}

const newSpanId = (): string => {
  for (;;) {
    const id = randomBytes(8).toString('hex');
    if (!ZERO.test(id)) return id;
  }
};

/**
 * The trace context of an invocation: a new span under the incoming one (`traceparent` first, then
 * `X-Cloud-Trace-Context`), or the root span of a new trace when nothing came in.
 */
export function continueTrace(incoming: { traceparent?: string; cloudTraceContext?: string } = {}): TraceContext {
  const parent = parseTraceparent(incoming.traceparent) ?? parseCloudTraceContext(incoming.cloudTraceContext);
  if (!parent) return { traceId: randomBytes(16).toString('hex'), spanId: newSpanId(), sampled: false };
  return {
    traceId: parent.traceId,
    spanId: newSpanId(),
    ...(parent.spanId ? { parentSpanId: parent.spanId } : {}),
    sampled: parent.sampled,
  };
}

/** The `traceparent` of what this invocation publishes: the next stage's parent is this span. */
export function formatTraceparent(t: TraceContext): string {
  return `00-${t.traceId}-${t.spanId}-${t.sampled ? '01' : '00'}`;
}

/** The Cloud Logging fields that put a log line on its trace. */
export function traceFields(t: TraceContext, projectId: string): Record<string, unknown> {
  return {
    'logging.googleapis.com/trace': `projects/${projectId}/traces/${t.traceId}`,
    'logging.googleapis.com/spanId': t.spanId,
    'logging.googleapis.com/trace_sampled': t.sampled,
  };
}
