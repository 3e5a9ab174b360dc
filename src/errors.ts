/**
 * The one error type imgpipe's core throws. Every refusal carries a stable `code` that callers can
 * branch on (adapters map codes to HTTP statuses and retry decisions; the core never does), and a
 * message that says what was expected and what was received.
 */
export type ErrorCode =
  /** A parameter is present but out of range or malformed. */
  | 'INVALID_ARGUMENT'
  /** A required parameter is absent. */
  | 'MISSING_ARGUMENT'
  /** The bytes are not a format imgpipe can read, or the requested output format can't be written. */
  | 'UNSUPPORTED_FORMAT'
  /** The bytes claim a supported format but are damaged or truncated. */
  | 'CORRUPT_IMAGE'
  /** The input (bytes, pixels, side) or the requested output exceeds a configured limit. */
  | 'IMAGE_TOO_LARGE'
  /** An object, style or font that was referred to does not exist. */
  | 'NOT_FOUND'
  /** The operation was cancelled through an AbortSignal. */
  | 'ABORTED'
  /** A storage or network failure: transient, worth retrying. */
  | 'STORAGE_ERROR'
  /** An event or request could not be understood (not JSON, missing fields, wrong types). */
  | 'INVALID_EVENT'
  /** A request is not allowed (bucket or origin not allowed, bad signature). */
  | 'ACCESS_DENIED'
  /** Too much work is in flight to take this request now: transient, retry later (HTTP 503). */
  | 'OVERLOADED'
  /** A bug or an unexpected codec failure: never the caller's fault. */
  | 'INTERNAL';

export class ImgpipeError extends Error {
  /** Stable, machine-readable reason. */
  readonly code: ErrorCode;
  /** Optional structured details (parameter name, limit, received value, ...). */
  readonly details?: Readonly<Record<string, unknown>>;

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown; details?: Record<string, unknown> }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'ImgpipeError';
    this.code = code;
    if (options?.details) this.details = Object.freeze({ ...options.details });
  }
}

/** True when `e` is an ImgpipeError (optionally with the given code). Works across bundle copies. */
export function isImgpipeError(e: unknown, code?: ErrorCode): e is ImgpipeError {
  return (
    typeof e === 'object' && e !== null && (e as { name?: unknown }).name === 'ImgpipeError' &&
    typeof (e as { code?: unknown }).code === 'string' && (code === undefined || (e as ImgpipeError).code === code)
  );
}

/** Render a received value for an error message: strings quoted, everything else as JSON. */
export function describeValue(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value.length > 80 ? `${value.slice(0, 77)}...` : value);
  if (value === undefined) return 'nothing';
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}
