/**
 * Errors raised by the x-oss-process engine. They are ordinary ImgpipeErrors (stable `code`) that
 * also carry OSS's own `Code` and, where OSS documents one, its fine-grained EC, so an adapter can
 * answer exactly as OSS would. Only adapters turn these into HTTP statuses.
 */
import { ImgpipeError, type ErrorCode } from '../errors.js';

/** The `Code` values OSS's image service answers with. */
const OSS_CODES = [
  'InvalidArgument', 'BadRequest', 'MissingArgument', 'ImageTooLarge', 'WatermarkError', 'NotImplemented',
  'AccessDenied', 'SignatureDoesNotMatch', 'NoSuchKey', 'NoSuchStyle', 'SlowDown', 'InternalError',
] as const;
export type OssCode = (typeof OSS_CODES)[number];
const KNOWN: ReadonlySet<string> = new Set(OSS_CODES);

export interface ProcessErrorDetails {
  readonly ossCode: OssCode;
  readonly ec?: string;
  readonly action?: string;
  readonly param?: string;
}

export function processError(
  code: ErrorCode,
  ossCode: OssCode,
  message: string,
  where: { action?: string; param?: string; ec?: string } = {},
  cause?: unknown,
): ImgpipeError {
  const details: Record<string, unknown> = { ossCode };
  if (where.ec !== undefined) details.ec = where.ec;
  if (where.action !== undefined) details.action = where.action;
  if (where.param !== undefined) details.param = where.param;
  return new ImgpipeError(code, message, { details, cause });
}

/**
 * The OSS Code for any ImgpipeError: its own when the engine set one, else derived from `code`. Only
 * the image service's codes count: a code from elsewhere (an object API's SecurityTokenExpired) has no
 * HTTP status here, and the answer went out as a 200 carrying an error.
 */
export function ossCodeOf(error: ImgpipeError): OssCode {
  const own = error.details?.ossCode;
  if (typeof own === 'string' && KNOWN.has(own)) return own as OssCode;
  return OSS_CODE_BY_ERROR_CODE[error.code];
}

const OSS_CODE_BY_ERROR_CODE: Readonly<Record<ErrorCode, OssCode>> = Object.freeze({
  INVALID_ARGUMENT: 'InvalidArgument',
  MISSING_ARGUMENT: 'MissingArgument',
  UNSUPPORTED_FORMAT: 'BadRequest',
  CORRUPT_IMAGE: 'BadRequest',
  IMAGE_TOO_LARGE: 'ImageTooLarge',
  NOT_FOUND: 'NoSuchKey',
  ABORTED: 'InternalError',
  STORAGE_ERROR: 'InternalError',
  INVALID_EVENT: 'BadRequest',
  ACCESS_DENIED: 'AccessDenied',
  OVERLOADED: 'SlowDown',
  INTERNAL: 'InternalError',
});
