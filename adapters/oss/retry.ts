/**
 * Retries for transient storage failures: 5xx answers, timeouts and dropped connections are retried
 * with exponential backoff and full jitter (so a fleet of instances hit by the same outage does not
 * retry in lock-step); 4xx answers never are — a wrong key, a bad signature or a missing object will
 * not change by asking again.
 */
import { ImgpipeError } from '../../src/index.js';

export interface RetryOptions {
  /** Retries after the first attempt (default 4: five attempts in all). */
  readonly retries?: number;
  /** First backoff ceiling in ms (default 100); doubles per attempt. */
  readonly baseDelayMs?: number;
  /** Largest backoff ceiling in ms (default 3000). */
  readonly maxDelayMs?: number;
  /** Random source in [0, 1), for deterministic tests of the schedule. */
  readonly random?: () => number;
  /** Called before each retry (for logs). */
  readonly onRetry?: (info: { attempt: number; delayMs: number; error: unknown }) => void;
}

/** Network-level failure codes from Node sockets and ali-oss's HTTP client. */
const TRANSIENT_CODES = new Set([
  'ECONNRESET', 'ECONNREFUSED', 'ECONNABORTED', 'EPIPE', 'ETIMEDOUT', 'EAI_AGAIN', 'ENOTFOUND', 'EHOSTUNREACH', 'ENETUNREACH', 'ESOCKETTIMEDOUT',
  'RequestError', 'ConnectionTimeoutError', 'ResponseTimeoutError', 'SocketCloseError',
]);

/** True for failures worth retrying. Statuses -1/-2 are ali-oss's network error and timeout. */
export function isTransient(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const e = error as { status?: unknown; code?: unknown; name?: unknown; cause?: unknown };
  if (typeof e.status === 'number') {
    if (e.status >= 500 || e.status === -1 || e.status === -2) return true;
    if (e.status >= 400) return false;
  }
  if (typeof e.code === 'string' && TRANSIENT_CODES.has(e.code)) return true;
  if (typeof e.name === 'string' && TRANSIENT_CODES.has(e.name)) return true;
  return e.cause !== undefined && e.cause !== error && isTransient(e.cause);
}

/** The delay before retry number `attempt` (1-based): uniform in [0, min(max, base * 2^(attempt-1))]. */
export function backoffDelay(attempt: number, options: RetryOptions = {}): number {
  const ceiling = Math.min(options.maxDelayMs ?? 3000, (options.baseDelayMs ?? 100) * 2 ** (attempt - 1));
  return Math.floor((options.random ?? Math.random)() * ceiling);
}

/** Run `fn`, retrying transient failures. The last error is rethrown as is. */
export async function withRetry<T>(fn: (attempt: number) => Promise<T>, options: RetryOptions = {}): Promise<T> {
  const retries = options.retries ?? 4;
  if (!Number.isInteger(retries) || retries < 0) {
    throw new ImgpipeError('INVALID_ARGUMENT', `Expected a non-negative integer for retry.retries but received ${JSON.stringify(retries)}`);
  }
  for (let attempt = 0; ; attempt++) {
    try {
      return await fn(attempt);
    } catch (error) {
      if (attempt >= retries || !isTransient(error)) throw error;
      const delayMs = backoffDelay(attempt + 1, options);
      options.onRetry?.({ attempt: attempt + 1, delayMs, error });
      await new Promise((r) => setTimeout(r, delayMs));
    }
  }
}
