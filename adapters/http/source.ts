/**
 * Where the HTTP handler reads source images from: a minimal port (`get`, optional `head`) with two
 * implementations here, any fetchable origin and the storage port of `adapters/storage.ts` (OSS via
 * ali-oss, the local OSS-compatible server, a directory). Runtime-neutral: fetch and Uint8Array only.
 */
import { ImgpipeError, byteLimitError, describeValue, isImgpipeError } from '../../src/index.js';
import { checkObjectKey, noSuchObject } from '../object-key.js';
import type { Storage } from '../storage.js';

export interface SourceObject {
  readonly bytes: Uint8Array;
  /** The source's ETag (any form; it only feeds the derived ETag). */
  readonly etag?: string;
  readonly contentType?: string;
  /**
   * True when `bytes` was made for this call alone (nothing else holds its buffer): the handler then
   * moves the buffer to the worker that transforms it instead of copying it.
   */
  readonly transferable?: boolean;
}

export interface SourceGetOptions {
  readonly signal?: AbortSignal;
  /** Refuse (IMAGE_TOO_LARGE) a source bigger than this, without reading all of it. */
  readonly maxBytes?: number;
}

/**
 * `get` of a missing key throws ImgpipeError NOT_FOUND; transient failures STORAGE_ERROR. `head`,
 * when present, lets the handler answer 304 without downloading the source, and a missing key 404
 * from one lookup while transforms wait: it throws NOT_FOUND for a key it knows is missing, and
 * resolves undefined when it cannot tell (the handler then reads the object).
 */
export interface ImageSource {
  get(key: string, options?: SourceGetOptions): Promise<SourceObject>;
  head?(key: string): Promise<{ readonly etag?: string } | undefined>;
}

export interface FetchSourceOptions {
  /** Defaults to the global fetch. */
  readonly fetch?: typeof fetch;
  /** Extra headers for every origin request (e.g. an origin auth token). */
  readonly headers?: Readonly<Record<string, string>>;
}

/**
 * Read `<origin>/<key>` over HTTP(S). The origin is fixed here, so callers can't aim it elsewhere: the
 * key must pass `checkObjectKey` (no leading '/' or '\\', no '.' or '..' segment, no control
 * characters), each segment is percent-encoded (so '?', '#', '@', ':', '%' and '\\' stay in the path),
 * and the resolved URL must keep the origin's scheme, host, port and path prefix or nothing is fetched.
 * Without this a key '//169.254.169.254/latest/meta-data/' was a protocol-relative URL that carried
 * the origin's headers (its auth token) to the cloud's metadata service.
 */
export function fetchSource(origin: string | URL, options: FetchSourceOptions = {}): ImageSource {
  const base = new URL(String(origin).endsWith('/') ? String(origin) : `${String(origin)}/`);
  const doFetch = options.fetch ?? fetch;
  const urlOf = (key: string) => {
    checkObjectKey(key);
    const url = new URL(key.split('/').map(encodeURIComponent).join('/'), base);
    if (url.origin !== base.origin || !url.pathname.startsWith(base.pathname) || url.search !== '' || url.hash !== '') {
      // Unreachable after checkObjectKey and the encoding above; kept so a future change to either
      // fails closed. The message does not name the origin (it may be private).
      throw new ImgpipeError('INVALID_ARGUMENT', `Expected an object key that stays under the origin's path but received ${describeValue(key)}`, { details: { key } });
    }
    return url;
  };
  const request = async (method: 'GET' | 'HEAD', key: string, signal?: AbortSignal) => {
    const url = urlOf(key);
    try {
      // Redirects are not followed (the origin is fixed), but `redirect: 'error'` is refused outright
      // by workerd; 'manual' hands back the 3xx (an opaque status 0 in browsers), which `get`
      // reports as a storage error like any other non-2xx answer.
      return await doFetch(url, { method, headers: options.headers, signal, redirect: 'manual' });
    } catch (e) {
      if (signal?.aborted) throw new ImgpipeError('ABORTED', `Expected to read ${key} from the origin but the request was aborted`, { cause: e });
      throw new ImgpipeError('STORAGE_ERROR', `Expected the origin to answer for ${key} but the request failed: ${String((e as Error)?.message ?? e)}`, { cause: e });
    }
  };
  return {
    async get(key, opts = {}) {
      const res = await request('GET', key, opts.signal);
      if (res.status === 404 || res.status === 410) {
        await res.body?.cancel();
        throw originHasNone(key);
      }
      if (!res.ok) {
        await res.body?.cancel();
        throw new ImgpipeError('STORAGE_ERROR', `Expected the origin to return ${JSON.stringify(key)} but it answered HTTP ${res.status}`, { details: { key, status: res.status } });
      }
      const bytes = await readCapped(res, key, opts.maxBytes);
      return { bytes, etag: res.headers.get('etag') ?? undefined, contentType: res.headers.get('content-type') ?? undefined, transferable: true };
    },
    async head(key) {
      const res = await request('HEAD', key);
      if (res.status === 404 || res.status === 410) throw originHasNone(key);
      if (!res.ok) return undefined;
      return { etag: res.headers.get('etag') ?? undefined };
    },
  };
}

function originHasNone(key: string): ImgpipeError {
  return new ImgpipeError('NOT_FOUND', `Expected an object at key ${JSON.stringify(key)} but the origin has none`, { details: { key } });
}

/** Read a response body, refusing as soon as it passes `maxBytes` (a lying Content-Length included). */
async function readCapped(res: Response, key: string, maxBytes: number | undefined): Promise<Uint8Array> {
  const tooLarge = (size: number) => (maxBytes === undefined ? undefined : byteLimitError(size, maxBytes, key));
  const declared = tooLarge(Number(res.headers.get('content-length') ?? NaN));
  if (declared) {
    await res.body?.cancel();
    throw declared;
  }
  if (!res.body) return new Uint8Array(0);
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    const over = tooLarge(size);
    if (over) {
      await reader.cancel();
      throw over;
    }
    chunks.push(value);
  }
  const out = new Uint8Array(size);
  let at = 0;
  for (const c of chunks) { out.set(c, at); at += c.byteLength; }
  return out;
}

export interface StorageSourceOptions {
  /**
   * Bytes of recently read sources kept in memory (default 0: none), served again while the object's
   * ETag is unchanged: the read names the kept ETag (`ifNoneMatch`), and the storage answers from the
   * object's metadata alone when it still matches (the local store's record, OSS's 304). A page's
   * `srcset` asks for several sizes of one photo at once, and a CDN's misses for them all reach the
   * origin: each then costs that check instead of a read. The newest are kept; an object larger
   * than a quarter of the budget is never kept. Kept bytes live in a SharedArrayBuffer (where the
   * runtime has one), so a pool worker reads them in place: neither moved nor copied. `imgpipe serve` keeps 64 MB.
   */
  readonly cacheBytes?: number;
}

/** `bytes` in a SharedArrayBuffer of its own, or as they are where there is none (a page that is not cross-origin isolated). */
function sharedCopy(bytes: Uint8Array): Uint8Array {
  if (typeof SharedArrayBuffer !== 'function') return bytes;
  const shared = new Uint8Array(new SharedArrayBuffer(bytes.byteLength));
  shared.set(bytes);
  return shared;
}

/** True for a view on shared memory, which Response, Blob and WebCrypto refuse (copy it for them). */
export function isShared(bytes: Uint8Array): boolean {
  return typeof SharedArrayBuffer === 'function' && bytes.buffer instanceof SharedArrayBuffer;
}

/** Read through the storage port (OSS, the local server, a directory). */
export function storageSource(storage: Storage, options: StorageSourceOptions = {}): ImageSource {
  const budget = options.cacheBytes ?? 0;
  if (!Number.isSafeInteger(budget) || budget < 0) {
    throw new ImgpipeError('INVALID_ARGUMENT', `Expected a whole number of bytes (0 or more) for storageSource's cacheBytes but received ${describeValue(options.cacheBytes)}`);
  }
  // Map order is age order: a hit moves its entry last, the first is forgotten first.
  const kept = new Map<string, SourceObject & { readonly etag: string }>();
  let keptBytes = 0;
  const keep = (key: string, object: SourceObject & { readonly etag: string }) => {
    const size = object.bytes.byteLength;
    if (size > budget / 4) return;
    forget(key);
    kept.set(key, object);
    keptBytes += size;
    for (const [k] of kept) {
      if (keptBytes <= budget) break;
      forget(k);
    }
  };
  const forget = (key: string) => {
    const old = kept.get(key);
    if (old) {
      kept.delete(key);
      keptBytes -= old.bytes.byteLength;
    }
  };
  return {
    async get(key, opts = {}) {
      // One storage read: the size bound and the kept copy's ETag are decided by it (GetOptions), so a
      // request costs the local store one record read and OSS one GET (a 304 for a kept copy).
      const hit = kept.get(key);
      const obj = await storage.get(key, { maxBytes: opts.maxBytes, ifNoneMatch: hit?.etag });
      if (obj.notModified && hit) {
        const over = opts.maxBytes !== undefined && byteLimitError(hit.bytes.byteLength, opts.maxBytes, key);
        if (over) throw over;
        kept.delete(key);
        kept.set(key, hit);
        return hit;
      }
      if (budget > 0 && obj.etag && obj.bytes.byteLength <= budget / 4) {
        // Kept, so shared: never moved to a worker (that would empty the kept copy). In shared memory
        // where the runtime has it, so a pool worker reads the kept bytes where they are: one copy when
        // kept instead of a copy per request (a fresh 829 KB buffer cost the main thread 3 ms or so).
        const object = { bytes: sharedCopy(obj.bytes), etag: obj.etag, contentType: obj.contentType, transferable: false };
        keep(key, object);
        if (kept.has(key)) return object;
      }
      return { bytes: obj.bytes, etag: obj.etag, contentType: obj.contentType, transferable: obj.transferable };
    },
    async head(key) {
      let info;
      try {
        info = await storage.head(key);
      } catch (e) {
        if (isImgpipeError(e)) return undefined;
        throw e;
      }
      // The storage port's head resolves undefined for a missing key alone (failures throw).
      if (!info) throw noSuchObject(storage.bucket, key);
      return { etag: info.etag };
    },
  };
}
