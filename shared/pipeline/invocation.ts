import { log, withLogContext, type LogLabels } from './log.js';
import { continueTrace } from './trace.js';

/**
 * One function invocation's log context: a span of the trace that came in with the request or event (a new trace
 * when none did), the project, the service name, and labels every line carries (build, model, stage, unit). An error
 * nothing handled is logged once as an Error Reporting event before it propagates.
 */
export interface Invocation {
  service: string;
  projectId: string;
  /** W3C `traceparent` (header, CloudEvents extension or message attribute) and/or `X-Cloud-Trace-Context`. */
  incoming: { traceparent?: string | undefined; cloudTraceContext?: string | undefined };
  labels?: LogLabels;
}

export function invoke<T>(inv: Invocation, fn: () => Promise<T>): Promise<T> {
  const incoming = Object.fromEntries(Object.entries(inv.incoming).filter(([, v]) => typeof v === 'string'));
  return withLogContext(
    {
      trace: continueTrace(incoming),
      projectId: inv.projectId,
      service: inv.service,
      ...(inv.labels ? { labels: inv.labels } : {}),
    },
    async () => {
      try {
        return await fn();
      } catch (e) {
        log.invocationFailed(inv.service, e);
        throw e;
      }
    },
  );
}

/** The trace a Pub/Sub message carries: Kiln's `traceparent` attribute, or the client library's own. */
export function messageTraceparent(attributes: Record<string, string>): string | undefined {
  return attributes['traceparent'] ?? attributes['googclient_traceparent'];
}

/** A CloudEvent's `traceparent` extension (the functions framework also fills it from the `traceparent` header). */
export function eventTraceparent(event: object): string | undefined {
  const tp = (event as { traceparent?: unknown }).traceparent;
  return typeof tp === 'string' ? tp : undefined;
}
