/**
 * A counting semaphore for recipe runs. Function Compute can deliver many requests to one instance
 * at once; each recipe run holds a decoded source plus its variants (tens to hundreds of MB for big
 * photos), so memory grows with the number of runs in flight. A limiter caps that number: further
 * runs wait in arrival order, so peak memory is bounded by the limit rather than by the load.
 *
 *   const limiter = createLimiter(4);
 *   const variants = await limiter.run(() => processUpload(bytes, { key }));
 */
import { ImgpipeError, describeValue } from './errors.js';

/** Far above any useful value on one instance; a larger number is almost certainly a mistake. */
const MAX_CONCURRENCY = 1024;

export interface LimiterRunOptions {
  /** Give up waiting for a slot when aborted (a run that already started is not interrupted here). */
  readonly signal?: AbortSignal;
}

export interface Limiter {
  /** The most runs allowed at once. */
  readonly concurrency: number;
  /** Runs in progress now. */
  readonly active: number;
  /** Runs waiting for a slot. */
  readonly pending: number;
  /** Run `task` when a slot is free; the slot is released however `task` ends. */
  run<T>(task: () => Promise<T> | T, options?: LimiterRunOptions): Promise<T>;
}

export function createLimiter(concurrency: number): Limiter {
  if (!Number.isSafeInteger(concurrency) || concurrency < 1 || concurrency > MAX_CONCURRENCY) {
    throw new ImgpipeError('INVALID_ARGUMENT', `Expected an integer between 1 and ${MAX_CONCURRENCY} for createLimiter(concurrency) but received ${describeValue(concurrency)}`);
  }
  let active = 0;
  const queue: (() => void)[] = [];

  const release = () => {
    active--;
    const next = queue.shift();
    if (next) next();
  };

  /** Resolves once this caller holds a slot. */
  const acquire = (signal?: AbortSignal): Promise<void> => {
    if (signal?.aborted) return Promise.reject(aborted());
    if (active < concurrency) {
      active++;
      return Promise.resolve();
    }
    return new Promise((resolve, reject) => {
      const grant = () => {
        signal?.removeEventListener('abort', onAbort);
        active++;
        resolve();
      };
      const onAbort = () => {
        const i = queue.indexOf(grant);
        if (i >= 0) queue.splice(i, 1);
        reject(aborted());
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      queue.push(grant);
    });
  };

  return Object.freeze({
    concurrency,
    get active() { return active; },
    get pending() { return queue.length; },
    async run<T>(task: () => Promise<T> | T, options: LimiterRunOptions = {}): Promise<T> {
      await acquire(options.signal);
      try {
        return await task();
      } finally {
        release();
      }
    },
  });
}

const aborted = () => new ImgpipeError('ABORTED', 'Expected to run the task but it was aborted while waiting for a free slot (createLimiter)');
