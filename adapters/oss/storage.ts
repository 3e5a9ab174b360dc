/**
 * The storage port over OSS, with the unmodified ali-oss client. Bytes cross the boundary as
 * `Uint8Array`; ali-oss's Buffers stay inside this file. Every call goes through `withRetry`
 * (ali-oss's own `retryMax` covers network errors only, not 5xx), and every failure leaves as an
 * ImgpipeError: NOT_FOUND, ACCESS_DENIED (403) or STORAGE_ERROR, with the OSS code, status and request
 * id in the message and details — never the credentials. Keys are checked (`checkObjectKey`) before
 * any request; a refused key is INVALID_ARGUMENT.
 */
import OSS from 'ali-oss';
import { ImgpipeError, byteLimitError, describeValue } from '../../src/index.js';
import { checkObjectKey, normalizeEtag, notModified, type GetOptions, type ListOptions, type ListPage, type ObjectInfo, type PutOptions, type Storage, type StorageFactory, type StoredObject } from '../storage.js';
import type { OssCredentials } from './credentials.js';
import { withRetry, type RetryOptions } from './retry.js';

export interface OssStorageOptions {
  readonly bucket: string;
  /** Region without the `oss-` prefix (as events carry it), e.g. `cn-hangzhou`. */
  readonly region?: string;
  readonly credentials: OssCredentials;
  /** Overrides the region's endpoint, e.g. the local server's `http://127.0.0.1:9000`. */
  readonly endpoint?: string;
  /** Use the region's internal endpoint (free, faster): right when the code runs in the same region. */
  readonly internal?: boolean;
  /** HTTPS (default true; ali-oss itself defaults to plain HTTP). Ignored when `endpoint` has a scheme. */
  readonly secure?: boolean;
  /** Per-request timeout in ms (default 30000). */
  readonly timeoutMs?: number;
  readonly retry?: RetryOptions;
}

interface OssError {
  status?: number;
  code?: string;
  name?: string;
  requestId?: string;
  message?: string;
}

function toImgpipeError(op: string, bucket: string, key: string | undefined, error: unknown): ImgpipeError {
  const e = (typeof error === 'object' && error !== null ? error : {}) as OssError;
  const what = `OSS ${op}${key === undefined ? '' : ` of ${describeValue(key)}`} in bucket ${describeValue(bucket)}`;
  const reason = `${e.code ?? e.name ?? 'Error'}${typeof e.status === 'number' && e.status > 0 ? ` (HTTP ${e.status})` : ''}: ${e.message ?? String(error)}`;
  // storageCode: what OSS's object API answered (InvalidAccessKeyId, NoSuchBucket, ...), kept apart from
  // the image service's `ossCode` that the HTTP handler answers with (src/process/oss-error.ts).
  const details = { bucket, key, status: e.status, storageCode: e.code ?? e.name, requestId: e.requestId };
  const code = e.code === 'NoSuchKey' || (e.status === 404 && e.code !== 'NoSuchBucket') ? 'NOT_FOUND' : e.status === 403 ? 'ACCESS_DENIED' : 'STORAGE_ERROR';
  return new ImgpipeError(code, `${what} failed: ${reason}${e.requestId ? ` [request ${e.requestId}]` : ''}`, { cause: error, details });
}

function metaFromHeaders(headers: Record<string, unknown>): Record<string, string> {
  const meta: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers)) if (k.toLowerCase().startsWith('x-oss-meta-') && typeof v === 'string') meta[k.slice(11).toLowerCase()] = v;
  return meta;
}

function infoFromHeaders(key: string, headers: Record<string, unknown>, size: number): ObjectInfo {
  const h = (name: string) => (typeof headers[name] === 'string' ? (headers[name] as string) : undefined);
  const lastModified = h('last-modified');
  return Object.freeze({
    key,
    size,
    etag: normalizeEtag(h('etag') ?? ''),
    contentType: h('content-type'),
    cacheControl: h('cache-control'),
    lastModified: lastModified ? new Date(lastModified) : undefined,
    meta: Object.freeze(metaFromHeaders(headers)),
  });
}

/**
 * A GET with `GetOptions`: undefined bytes for a 304, `tooLarge` (the size seen) when the body passes
 * `maxBytes`, read into one buffer of its own otherwise (so it may move to a worker). The byte limit
 * is answered, not thrown, so the retry and error mapping around it leave it alone.
 */
async function boundedGet(client: OSS, key: string, opts: GetOptions): Promise<{ headers: Record<string, unknown>; bytes?: Uint8Array } | { tooLarge: number }> {
  const headers = opts.ifNoneMatch === undefined ? undefined : { 'If-None-Match': `"${normalizeEtag(opts.ifNoneMatch)}"` };
  const r = await client.getStream(key, { headers });
  const stream = r.stream as NodeJS.ReadableStream & { destroy(): void };
  const h = r.res.headers as Record<string, unknown>;
  if (r.res.status === 304) {
    stream.destroy();
    return { headers: h };
  }
  const max = opts.maxBytes ?? Infinity;
  const declared = Number(h['content-length'] ?? NaN);
  if (declared > max) {
    stream.destroy();
    return { tooLarge: declared };
  }
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of stream as AsyncIterable<Uint8Array>) {
    size += chunk.byteLength;
    if (size > max) {
      stream.destroy();
      return { tooLarge: size };
    }
    chunks.push(chunk);
  }
  const bytes = new Uint8Array(size);
  let at = 0;
  for (const c of chunks) { bytes.set(c, at); at += c.byteLength; }
  return { headers: h, bytes };
}

/** A bucket on OSS behind the storage port. */
export function createOssStorage(options: OssStorageOptions): Storage {
  const { bucket } = options;
  const client = new OSS({
    bucket,
    accessKeyId: options.credentials.accessKeyId,
    accessKeySecret: options.credentials.accessKeySecret,
    stsToken: options.credentials.securityToken,
    // ali-oss needs a region even with an endpoint: against an IP endpoint it derives the Host header from it.
    region: `oss-${(options.region ?? 'cn-hangzhou').replace(/^oss-/, '')}`,
    endpoint: options.endpoint,
    internal: options.endpoint ? undefined : options.internal,
    secure: options.secure ?? true,
    timeout: options.timeoutMs ?? 30_000,
  });
  const call = async <T>(op: string, key: string | undefined, fn: () => Promise<T>): Promise<T> => {
    // Before any request: a refused key is a permanent INVALID_ARGUMENT, never a retried STORAGE_ERROR
    // (and a key with CR/LF never reaches a request line or a signature).
    if (key !== undefined) checkObjectKey(key);
    try {
      return await withRetry(fn, options.retry);
    } catch (e) {
      throw toImgpipeError(op, bucket, key, e);
    }
  };

  return Object.freeze({
    bucket,
    async get(key: string, opts: GetOptions = {}): Promise<StoredObject> {
      if (opts.maxBytes === undefined && opts.ifNoneMatch === undefined) {
        const r = await call('GetObject', key, () => client.get(key));
        const content = r.content as Uint8Array;
        const bytes = new Uint8Array(content.buffer, content.byteOffset, content.byteLength);
        return Object.freeze({ ...infoFromHeaders(key, r.res.headers as Record<string, unknown>, bytes.byteLength), bytes });
      }
      // One GET decides both, as OSS answers it: If-None-Match gets a 304 without the body, and the
      // body's Content-Length (or its bytes as they come) is checked against the bound before it is all read.
      const r = await call('GetObject', key, () => boundedGet(client, key, opts));
      if ('tooLarge' in r) throw byteLimitError(r.tooLarge, opts.maxBytes!, key)!;
      const info = infoFromHeaders(key, r.headers, r.bytes?.byteLength ?? Number(r.headers['content-length'] ?? 0));
      return r.bytes ? Object.freeze({ ...info, bytes: r.bytes, transferable: true }) : notModified(info);
    },
    async head(key: string): Promise<ObjectInfo | undefined> {
      try {
        const r = await call('HeadObject', key, () => client.head(key));
        const headers = r.res.headers as Record<string, unknown>;
        return infoFromHeaders(key, headers, Number(headers['content-length'] ?? 0));
      } catch (e) {
        if (e instanceof ImgpipeError && e.code === 'NOT_FOUND') return undefined;
        throw e;
      }
    },
    async put(key: string, bytes: Uint8Array, opts: PutOptions = {}): Promise<{ etag: string }> {
      const body = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
      const headers: Record<string, string> = {};
      if (opts.cacheControl) headers['Cache-Control'] = opts.cacheControl;
      const r = await call('PutObject', key, () =>
        client.put(key, body, { mime: opts.contentType, meta: { ...opts.meta } as OSS.UserMeta, headers }),
      );
      return { etag: normalizeEtag(String((r.res.headers as Record<string, unknown>).etag ?? '')) };
    },
    async list(opts: ListOptions = {}): Promise<ListPage> {
      const query: Record<string, string | number> = { 'max-keys': opts.maxKeys ?? 1000 };
      if (opts.prefix) query.prefix = opts.prefix;
      if (opts.startAfter) query['start-after'] = opts.startAfter;
      const r = await call('ListObjectsV2', undefined, () => client.listV2(query as OSS.ListV2ObjectsQuery, {}));
      const objects = (r.objects ?? []).map((o) => Object.freeze({ key: o.name, size: Number(o.size), etag: normalizeEtag(o.etag), lastModified: new Date(o.lastModified) }));
      return Object.freeze({ objects, nextStartAfter: r.isTruncated && objects.length > 0 ? objects[objects.length - 1].key : undefined });
    },
  });
}

export interface OssStorageFactoryOptions extends Omit<OssStorageOptions, 'bucket' | 'region' | 'internal'> {
  /** The region the code runs in (FC's `context.region`): buckets there are reached on the internal endpoint. */
  readonly runningInRegion?: string;
  /** Region for events that carry none. */
  readonly defaultRegion?: string;
}

/** Opens OSS buckets on demand, one client per bucket and region. */
export function createOssStorageFactory(options: OssStorageFactoryOptions): StorageFactory {
  const cache = new Map<string, Storage>();
  return (bucket, region) => {
    const r = region ?? options.defaultRegion ?? options.runningInRegion;
    const id = `${bucket}@${r ?? ''}`;
    let s = cache.get(id);
    if (!s) {
      s = createOssStorage({ ...options, bucket, region: r, internal: r !== undefined && r === options.runningInRegion });
      cache.set(id, s);
    }
    return s;
  };
}
