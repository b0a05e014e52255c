import { isKilnError, KilnError } from '../common/errors.js';
import type { ErrorInfo } from './events.js';

/**
 * Which failures a stage retries. A KilnError says so itself (kind 'transient' retries; 'bad-input' and 'internal'
 * are permanent: a bad model stays bad). Cloud client errors with a retryable gRPC or HTTP status retry; anything
 * else unexplained retries up to KILN_MAX_ATTEMPTS, then fails the build.
 */
const RETRYABLE_GRPC = new Set([4, 8, 10, 13, 14]); // DEADLINE_EXCEEDED, RESOURCE_EXHAUSTED, ABORTED, INTERNAL, UNAVAILABLE
/** A gRPC status worth trying again (also used by the build store to re-run its transactions). */
export const isRetryableGrpc = (code: number): boolean => RETRYABLE_GRPC.has(code);
const RETRYABLE_NET = new Set(['ECONNRESET', 'ECONNREFUSED', 'ETIMEDOUT', 'EPIPE', 'EAI_AGAIN']);

export function errorInfo(e: unknown): ErrorInfo {
  if (isKilnError(e)) return { code: e.code, message: e.oneLine(), retryable: e.kind === 'transient' };
  const err = e as { code?: unknown; message?: unknown } | undefined;
  const message = typeof err?.message === 'string' ? err.message : String(e);
  const code = err?.code;
  if (typeof code === 'number' && (isRetryableGrpc(code) || code === 429 || (code >= 500 && code < 600))) {
    return { code: 'E_TRANSIENT', message, retryable: true };
  }
  if (typeof code === 'string' && RETRYABLE_NET.has(code)) return { code: 'E_TRANSIENT', message, retryable: true };
  return { code: 'E_INTERNAL', message, retryable: true };
}

/** The error a stage records when its core has not landed in this build of Kiln. Never a fake success. */
export function stageUnavailable(stage: string, why: string): KilnError {
  return new KilnError('E_INTERNAL', `stage ${stage} is not available in this build (${why})`, {
    hint: 'This Kiln build lacks that stage core; use a build that includes it',
  });
}
