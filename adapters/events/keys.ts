/**
 * Object keys in events. S3 notifications URL-encode keys in the form-encoding style ('+' for a
 * space). Every Alibaba sample shows OSS keys raw, but no document promises it, so OSS keys are taken
 * raw first and their URL-decoded reading is kept as a fallback the handler tries when the raw key is
 * not found.
 */
import { ImgpipeError, describeValue } from '../../src/index.js';

/** How the key was written in the event. */
export type KeyEncoding = 'raw' | 'url';

/** Decode an S3-style key: '+' is a space, then percent-decoding. */
export function decodeUrlKey(key: string): string {
  try {
    return decodeURIComponent(key.replace(/\+/g, ' '));
  } catch (cause) {
    throw new ImgpipeError('INVALID_EVENT', `Expected a URL-encoded object key but received ${describeValue(key)}: it has a malformed %-escape`, { cause });
  }
}

/** Encode a key the way S3 writes it into a notification (used by the local server to emit S3 events). */
export function encodeUrlKey(key: string): string {
  return encodeURIComponent(key).replace(/%20/g, '+').replace(/%2F/g, '/');
}

/**
 * The keys an event's object may be stored under, most likely first. For a raw key that also reads
 * as a URL-encoded one ('a%20b.jpg', 'a+b.jpg'), the decoded reading follows.
 */
export function keyCandidates(key: string, encoding: KeyEncoding): readonly string[] {
  if (encoding === 'url') return [key];
  if (!/%[0-9A-Fa-f]{2}|\+/.test(key)) return [key];
  let decoded: string;
  try {
    decoded = decodeURIComponent(key.replace(/\+/g, ' '));
  } catch {
    return [key];
  }
  return decoded === key ? [key] : [key, decoded];
}
