/**
 * `sys/saveas`, as OSS does it: `POST /<key>?x-oss-process` with the form body
 * `x-oss-process=<image/... | style/...>|sys/saveas,o_<b64 key>[,b_<b64 bucket>]` runs the process
 * string on the object and writes the result to `o` in bucket `b` (default: the source's bucket)
 * instead of answering with it. Only buckets on the handler's `saveAs` allow-list can be written, and
 * only keys the one key rule accepts. Runtime-neutral.
 */
import { ImgpipeError, describeValue } from '../../src/index.js';
import { decodeBase64Url } from '../../src/index.js';
import type { OssCode } from '../../src/index.js';
import { checkObjectKey } from '../object-key.js';

/** Where results may be written: anything with the storage port's `put` (OSS, the local server, a directory). */
export interface SaveAsTarget {
  put(key: string, bytes: Uint8Array, options?: { readonly contentType?: string }): Promise<unknown>;
}

export interface SaveAsOptions {
  /** The allow-list: buckets results may be written to, each with its storage. */
  readonly buckets: Readonly<Record<string, SaveAsTarget>>;
  /** The bucket a request without `b_` writes to when the handler has one `source` (no bucket in the request). */
  readonly defaultBucket?: string;
}

export interface SaveAsRequest {
  /** The body's x-oss-process value as sent (what a signature covers). */
  readonly raw: string;
  /** The process string before `|sys/saveas`. */
  readonly process: string;
  readonly object: string;
  readonly bucket?: string;
}

const SAVEAS = '|sys/saveas';

function refuse(code: 'INVALID_ARGUMENT' | 'MISSING_ARGUMENT' | 'ACCESS_DENIED', ossCode: OssCode, message: string): ImgpipeError {
  return new ImgpipeError(code, message, { details: { ossCode } });
}

/** True when a process string asks for saveas (refused on GET, as OSS does). */
export function hasSaveAs(process: string): boolean {
  return process.includes('|sys/');
}

/**
 * Read the POST's form body (at most `maxChars` characters) into the process string and the target.
 * `o` and `b` are Base64 in either alphabet: ali-oss's `processObjectSave` writes standard Base64.
 */
export async function readSaveAs(request: Request, maxChars: number): Promise<SaveAsRequest> {
  const declared = Number(request.headers.get('content-length') ?? NaN);
  if (declared > maxChars) throw refuse('INVALID_ARGUMENT', 'InvalidArgument', `Expected a saveas body of at most ${maxChars} bytes but received ${declared}`);
  const text = await request.text();
  if (text.length > maxChars) throw refuse('INVALID_ARGUMENT', 'InvalidArgument', `Expected a saveas body of at most ${maxChars} bytes but received ${text.length}`);
  const value = new URLSearchParams(text).get('x-oss-process');
  if (value === null) throw refuse('MISSING_ARGUMENT', 'MissingArgument', `Expected x-oss-process=<process>|sys/saveas,o_<key> in the POST body but received ${describeValue(text)}`);
  const at = value.indexOf(SAVEAS);
  if (at < 0 || (value[at + SAVEAS.length] !== ',' && value.length !== at + SAVEAS.length)) {
    throw refuse('INVALID_ARGUMENT', 'InvalidArgument', `Expected a POST's x-oss-process to end in |sys/saveas,o_<key> but received ${describeValue(value)}`);
  }
  const params = new Map<string, string>();
  for (const token of value.slice(at + SAVEAS.length + 1).split(',').filter((t) => t.length > 0)) {
    const cut = token.indexOf('_');
    const [name, raw] = cut < 0 ? [token, ''] : [token.slice(0, cut), token.slice(cut + 1)];
    if (name !== 'o' && name !== 'b') throw refuse('INVALID_ARGUMENT', 'InvalidArgument', `Expected sys/saveas parameters o and b but received ${describeValue(token)}`);
    const decoded = decodeBase64Url(raw.replace(/\+/g, '-').replace(/\//g, '_'));
    if (decoded === undefined || decoded.length === 0) throw refuse('INVALID_ARGUMENT', 'InvalidArgument', `Expected Base64 of UTF-8 text for sys/saveas.${name} but received ${describeValue(raw)}`);
    params.set(name, decoded);
  }
  const object = params.get('o');
  if (object === undefined) throw refuse('MISSING_ARGUMENT', 'MissingArgument', `Expected sys/saveas.o (the target key) but received ${describeValue(value.slice(at + 1))}`);
  checkObjectKey(object);
  return { raw: value, process: value.slice(0, at), object, bucket: params.get('b') };
}

/** The target's storage and bucket name, refused (403) when the bucket is not on the allow-list. */
export function saveAsTarget(options: SaveAsOptions, request: SaveAsRequest, sourceBucket: string | undefined): { readonly bucket: string; readonly storage: SaveAsTarget } {
  const bucket = request.bucket ?? sourceBucket ?? options.defaultBucket;
  if (bucket === undefined || !Object.prototype.hasOwnProperty.call(options.buckets, bucket)) {
    throw refuse('ACCESS_DENIED', 'AccessDenied', `Expected a saveas bucket on the allow-list (${Object.keys(options.buckets).join(', ') || 'none'}) but received ${describeValue(bucket)}`);
  }
  return { bucket, storage: options.buckets[bucket] };
}
