/**
 * The one rule for object keys, shared by every adapter that turns a key into a path or a URL: the
 * filesystem bucket, the OSS client, the upload handler and the HTTP handler (where a key becomes part
 * of an origin URL). Runtime-neutral: no Node built-ins.
 */
import { ImgpipeError, describeValue } from '../src/index.js';

/**
 * Why a key is refused, or undefined for an acceptable one. Refused: what OSS refuses (empty, over
 * 1023 UTF-8 bytes, a leading separator), what would climb out of a filesystem root when split on
 * '/' or '\\' (a '.' or '..' segment), and control characters (C0 including NUL, CR and LF, DEL, C1).
 * OSS itself stores CR/LF in a key, but such a key breaks every log line, header and shell command
 * that carries it, and no upload a person names has one. The check runs on the decoded key, so
 * '%2e%2e/' or '%0d%0a' in a URL is caught after the server decodes it.
 */
const UTF8 = new TextEncoder();

export function objectKeyProblem(key: string): string | undefined {
  if (key.length === 0) return 'it is empty';
  // A UTF-16 code unit is at most 3 UTF-8 bytes, so only a key over 341 of them needs counting (every
  // served request checks its key several times).
  const bytes = key.length <= 341 ? key.length : UTF8.encode(key).length;
  if (bytes > 1023) return `it is ${bytes} bytes long (at most 1023)`;
  if (/^[/\\]/.test(key)) return 'it starts with a path separator';
  const control = /[\u0000-\u001f\u007f-\u009f]/.exec(key);
  if (control) return `it contains the control character U+${control[0].charCodeAt(0).toString(16).toUpperCase().padStart(4, '0')} at index ${control.index}`;
  if (key.split(/[/\\]/).some((s) => s === '.' || s === '..')) return "it contains a '.' or '..' path segment";
  return undefined;
}

/** Throw INVALID_ARGUMENT naming the key and the reason, for a key `objectKeyProblem` refuses. */
export function checkObjectKey(key: string): void {
  const reason = objectKeyProblem(key);
  if (reason !== undefined) {
    throw new ImgpipeError(
      'INVALID_ARGUMENT',
      `Expected an object key of 1-1023 bytes without control characters or path traversal for key but received ${describeValue(key)}: ${reason}`,
      { details: { key } },
    );
  }
}

/**
 * NOT_FOUND for a key its bucket has no object at: the filesystem bucket's `get`, and `storageSource`'s
 * `head` for a key the storage says is missing (here, runtime-neutral, for the HTTP handler's sources).
 */
export function noSuchObject(bucket: string, key: string): ImgpipeError {
  return new ImgpipeError('NOT_FOUND', `Object ${describeValue(key)} does not exist in bucket ${describeValue(bucket)}`, { details: { key } });
}
