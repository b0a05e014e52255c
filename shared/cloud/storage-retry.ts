import { IdempotencyStrategy, RETRYABLE_ERR_FN_DEFAULT, type StorageOptions } from '@google-cloud/storage';

type RetryOptions = NonNullable<StorageOptions['retryOptions']>;

/**
 * How Kiln's Storage client retries. Only idempotent calls are retried (RetryConditional): reads, and writes that carry
 * a generation precondition, like every artifact write (`ifGenerationMatch: 0`, so a resend can never write twice; a
 * resend after a lost reply gets 412, which the writer treats as "already written"). Besides the client's own
 * retryable errors, a "socket hang up" without an error code counts: a pooled keep-alive socket the server closed
 * while a long CPU-bound core ran.
 *
 * Note: the client turns autoRetry off for the whole Storage instance when it saves an object without a precondition
 * (a plain upload); the pipeline's writes all carry one, so the functions keep retrying.
 */
export const STORAGE_RETRY: RetryOptions = {
  autoRetry: true,
  maxRetries: 3,
  idempotencyStrategy: IdempotencyStrategy.RetryConditional,
  retryableErrorFn: (err) =>
    RETRYABLE_ERR_FN_DEFAULT(err) || (typeof err?.message === 'string' && /socket hang up/i.test(err.message)),
};
