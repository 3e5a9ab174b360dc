/**
 * x-oss-process over HTTP, written once as a fetch handler (Request -> Response). Workers and any
 * runtime with fetch use it directly; `fc.ts` wraps it for the Function Compute 3.0 HTTP trigger and
 * `node.ts` for a Node http server (`imgpipe serve`). Runtime-neutral: no Node built-ins.
 *
 *   GET /<key>?x-oss-process=image/resize,w_300/format,webp
 *   GET /<key>?x-oss-process=style/small        GET /<key>!small   (with a style delimiter)
 *
 * Errors answer as OSS does: its HTTP status, an XML body with Code/Message/RequestId/EC and the
 * `x-oss-ec` header. The order of checks is chosen so that a bad or unauthorised request costs
 * nothing: method, bucket allow-list, process string (parsed, not run), signature, then the source.
 */
import { ImgpipeError, isImgpipeError, describeValue } from '../../src/index.js';
import type { Limits } from '../../src/index.js';
import { parseProcess } from '../../src/index.js';
import { ossCodeOf, type OssCode } from '../../src/index.js';
import { resolveOutputLimits, type OutputLimits } from '../../src/index.js';
import { createStyleTable, splitStyleDelimiter, type StyleDelimiter, type StyleTable } from '../../src/index.js';
import { transform, type TransformOptions, type TransformResult } from '../../src/index.js';
import type { Operation } from '../../src/index.js';
import type { FontResolver } from '../../src/index.js';
import { DEFAULT_LIMITS } from '../../src/index.js';
import { EXPIRES_PARAM, SIGNATURE_PARAM, verifyProcess } from './sign.js';
import { isShared, type ImageSource, type SourceObject } from './source.js';
import { checkObjectKey } from '../object-key.js';
import { hostHeader, requestHost } from './host.js';
import { createAdmission, type Admission, type AdmissionOptions } from './admission.js';
import { negotiable, negotiateFormat } from './negotiate.js';
import { bucketFromHost, knownEntry, knownObjects, remember } from './known.js';
import { hasSaveAs, readSaveAs, saveAsTarget, type SaveAsOptions, type SaveAsRequest } from './saveas.js';

/**
 * Runs a parsed chain on source bytes: `transform` itself, or a worker pool's (`createWorkerPool().transform`).
 * `transferSource`: the caller gives `bytes` up (the source read them afresh for this request), so a
 * runner on another thread may move their buffer there instead of copying it.
 */
export type TransformRunner = (bytes: Uint8Array, ops: readonly Operation[], options: TransformOptions & { readonly transferSource?: boolean }) => Promise<TransformResult>;

export interface HandlerOptions {
  /** The one source every request reads from (when `buckets` is not given). */
  readonly source?: ImageSource;
  /**
   * Allow-list of buckets, each with its source. The bucket comes from the first label of the Host
   * (`bucket.example.com`, as OSS) or, with `bucketFrom: 'path'`, the first path segment. Requests
   * for any other bucket are refused (403 AccessDenied) before anything is read.
   */
  readonly buckets?: Readonly<Record<string, ImageSource>>;
  readonly bucketFrom?: 'host' | 'path';
  /** Styles for `style/<name>` and the delimiter form. */
  readonly styles?: StyleTable | Readonly<Record<string, string>>;
  /** Delimiters for `key<delimiter><style>` (OSS's console offers - _ / !). None by default. */
  readonly styleDelimiters?: readonly StyleDelimiter[];
  /** Origins allowed to call from a browser (CORS), or '*'. None by default. */
  readonly allowedOrigins?: readonly string[] | '*';
  /** Cache-Control of successful answers. */
  readonly cacheControl?: string;
  /**
   * HMAC signing. With `required`, ad-hoc `image/...` strings (and plain downloads) need a valid
   * signature; styles stay public, like OSS's source-image protection. A wrong signature is always refused.
   */
  readonly signing?: { readonly secret: string; readonly required?: boolean };
  /** Source limits (bytes, pixels, side). */
  readonly limits?: Partial<Limits>;
  /** Output limits (side, pixels, number of actions). */
  readonly outputLimits?: Partial<OutputLimits>;
  /** Longest accepted process string, in characters (default 2048). Bounds parsing and text length. */
  readonly maxProcessLength?: number;
  /** Accept imgpipe's own actions that OSS lacks. */
  readonly extensions?: boolean;
  /** Answer unprocessed downloads (`GET /<key>` without a process). Default true. */
  readonly passThrough?: boolean;
  /**
   * What a plain download of a stored object that is not a raster image (HTML, SVG, scripts, ...)
   * gets: `attachment` (default) serves it with `Content-Disposition: attachment`, so a browser saves
   * rather than renders it from the image domain; `refuse` answers 403. OSS does the same on its
   * default domains. Raster image types are always served inline.
   */
  readonly activeContent?: 'attachment' | 'refuse';
  /** Font bytes for watermark font names (`type_`); without it the embedded font is used. */
  readonly fonts?: FontResolver;
  /** Host name for the error body's HostId. */
  readonly hostId?: string;
  /**
   * Where transforms run. Default: `transform` in the calling thread (Workers, browsers); the Node
   * wrappers (`createNodeListener`, `createFcHttpHandler`) pass a worker pool's, so requests use every core.
   */
  readonly runTransform?: TransformRunner;
  /**
   * Bounds on the transforms in flight, the source bytes they hold and the requests waiting (see
   * admission.ts); beyond them, 503 SlowDown with Retry-After. Cheap answers (refusals, 304, `info`,
   * plain downloads) never wait. Default: none here; the Node wrappers size one from the instance.
   */
  readonly admission?: AdmissionOptions | Admission | false;
  /**
   * `sys/saveas` through POST (saveas.ts): the buckets results may be written to. Without it POST is
   * refused (405). With `signing`, a saveas always needs a valid signature over its whole process string.
   */
  readonly saveAs?: SaveAsOptions;
  /**
   * Format negotiation, an extension (negotiate.ts): a process string without `format` is answered as
   * AVIF or WebP when `Accept` names it (AVIF only once an encoder exists), with `Vary: Accept`. An
   * explicit `format` always wins. Off by default, so strings stay OSS-portable.
   */
  readonly negotiate?: boolean;
}

/** How long a key found missing while refusing is answered 404 without a lookup. */
const MISSING_TTL_MS = 1000;

const DEFAULT_CACHE_CONTROL = 'public, max-age=86400';
export const DEFAULT_MAX_PROCESS_LENGTH = 2048;

/** OSS's documented HTTP status for each Code. */
export const OSS_STATUS: Readonly<Record<OssCode, number>> = Object.freeze({
  InvalidArgument: 400,
  BadRequest: 400,
  MissingArgument: 400,
  ImageTooLarge: 400,
  WatermarkError: 400,
  NotImplemented: 400,
  AccessDenied: 403,
  SignatureDoesNotMatch: 403,
  NoSuchKey: 404,
  NoSuchStyle: 404,
  SlowDown: 503,
  InternalError: 500,
});

export type FetchHandler = (request: Request) => Promise<Response>;

export function createFetchHandler(options: HandlerOptions): FetchHandler {
  return makeHandler(options, false);
}

/**
 * The handler the Node wrappers serve (serving.ts): its image answers carry no body stream, their
 * bytes are only where `bodyBytes` finds them, which is where node.ts and fc.ts take them from. A
 * Response built on 30 KB of bytes cost the main thread about 0.2 ms (a copy, a byte stream, their
 * garbage) that nothing read.
 */
export function createWrapperHandler(options: HandlerOptions): FetchHandler {
  return makeHandler(options, true);
}

function makeHandler(options: HandlerOptions, bodiesAside: boolean): FetchHandler {
  if (!options.source && !options.buckets) {
    throw new ImgpipeError('MISSING_ARGUMENT', 'Expected HandlerOptions.source or HandlerOptions.buckets but received neither');
  }
  const styles: StyleTable | undefined = options.styles === undefined ? undefined
    : options.styles instanceof Map ? options.styles : createStyleTable(options.styles as Readonly<Record<string, string>>);
  const outputLimits = resolveOutputLimits(options.outputLimits);
  const maxBytes = options.limits?.maxBytes ?? DEFAULT_LIMITS.maxBytes;
  const maxProcessLength = options.maxProcessLength ?? DEFAULT_MAX_PROCESS_LENGTH;
  const runTransform = options.runTransform ?? transform;
  const admission = !options.admission ? undefined : 'enter' in options.admission ? options.admission : createAdmission(options.admission);
  const known = admission && knownObjects(admission);
  // Keys found missing while the admission refused, by bucket and key (see handle).
  const missing = new Map<string, { readonly at: number; readonly error: ImgpipeError }>();
  // Derived ETags already computed (the same source version and string give the same one).
  const etags = new Map<string, string>();

  /**
   * A transform about to wait or be refused first hears whether its key exists: a missing key is
   * answered 404 NoSuchKey whatever the load, as OSS does, and never waits behind transforms. The
   * lookup is skipped for an object seen to exist moments ago (known.ts: a storm of retries for a
   * stored object costs none), and a key found missing while refusing is remembered for a second
   * (`missing`: a storm of requests for it costs one lookup a second). Resolves the source when the
   * lookup had to read it (a source without `head`'s answer), else undefined.
   */
  async function lookUpWhileBusy(source: ImageSource, bucket: string | undefined, key: string, entry: string | undefined, signal: AbortSignal): Promise<SourceObject | undefined> {
    const refusing = admission!.refusing();
    const missingKey = `${bucket}\n${key}`;
    const gone = refusing ? missing.get(missingKey) : undefined;
    if (gone && Date.now() - gone.at < MISSING_TTL_MS) throw new ImgpipeError('NOT_FOUND', gone.error.message, { details: gone.error.details });
    if (!source.head || (entry !== undefined && known!.has(entry))) return undefined;
    try {
      // A source's head throws NOT_FOUND for a missing key: one lookup answers the 404.
      if (await source.head(key)) {
        if (entry !== undefined) known!.add(entry);
        return undefined;
      }
      return await source.get(key, { signal, maxBytes });
    } catch (e) {
      if (refusing && isImgpipeError(e, 'NOT_FOUND')) remember(missing, missingKey, { at: Date.now(), error: e });
      throw e;
    }
  }

  // Every answer, errors and 304s included, says nosniff: a browser never guesses a type we did not send.
  return async (request) => nosniff(await handle(request));
  async function handle(request: Request): Promise<Response> {
    const requestId = crypto.randomUUID().replace(/-/g, '').toUpperCase();
    const cors = corsHeaders(request, options.allowedOrigins);
    try {
      if (request.method === 'OPTIONS') return new Response(null, { status: 204, headers: { ...cors, 'access-control-allow-methods': 'GET, HEAD, OPTIONS', 'access-control-max-age': '86400' } });
      if (request.method !== 'GET' && request.method !== 'HEAD' && !(request.method === 'POST' && options.saveAs)) {
        return new Response(null, { status: 405, headers: { ...cors, allow: 'GET, HEAD, OPTIONS' } });
      }
      const url = new URL(request.url);
      const host = requestHost(request);
      let path = decodePath(url.pathname);
      let bucket: string | undefined;
      if (options.buckets) {
        if (options.bucketFrom === 'path') {
          const cut = path.indexOf('/');
          [bucket, path] = cut < 0 ? [path, ''] : [path.slice(0, cut), path.slice(cut + 1)];
        } else {
          bucket = host.hostname.split('.')[0];
        }
      }
      const source = bucket !== undefined ? (Object.prototype.hasOwnProperty.call(options.buckets, bucket) ? options.buckets![bucket] : undefined) : options.source;
      if (!source) {
        throw oss('ACCESS_DENIED', 'AccessDenied', `Expected a bucket on the allow-list but received ${describeValue(bucket)}`);
      }

      let process = url.searchParams.get('x-oss-process') ?? undefined;
      // sys/saveas: only as OSS takes it, a POST to `<key>?x-oss-process` with the string in the body.
      let saveAs: (SaveAsRequest & ReturnType<typeof saveAsTarget>) | undefined;
      if (request.method === 'POST') {
        if (!url.searchParams.has('x-oss-process')) throw oss('INVALID_ARGUMENT', 'InvalidArgument', `Expected a POST to <key>?x-oss-process but received ${describeValue(url.search)}`);
        const asked = await readSaveAs(request, maxProcessLength + 2048);
        saveAs = { ...asked, ...saveAsTarget(options.saveAs!, asked, bucket) };
        process = asked.process;
      } else if (process !== undefined && hasSaveAs(process)) {
        throw oss('INVALID_ARGUMENT', 'InvalidArgument', `Expected sys/saveas only in a POST body (as OSS) but received it in a ${request.method} query: ${describeValue(process)}`);
      }
      let key = path;
      if (process === undefined) {
        const split = splitStyleDelimiter(path, options.styleDelimiters ?? [], styles);
        key = split.key;
        if (split.style !== undefined) process = `style/${split.style}`;
      }
      if (key.length === 0) throw oss('INVALID_ARGUMENT', 'InvalidArgument', 'Expected an object key in the path but received none');
      // Every key that reaches a source passes the one key rule, whatever the source does with it.
      checkObjectKey(key);
      if (process !== undefined && process.length > maxProcessLength) {
        throw oss('INVALID_ARGUMENT', 'InvalidArgument', `Expected a process string of at most ${maxProcessLength} characters but received ${process.length}`);
      }
      // Validate before anything is read: a bad string costs one parse.
      const ops = process === undefined ? undefined
        : parseProcess(process, { styles, extensions: options.extensions, maxActions: outputLimits.maxActions });

      if (options.signing) {
        const signature = url.searchParams.get(SIGNATURE_PARAM);
        // A saveas writes: its signature covers the whole body string, target included, and is always required.
        const signed = saveAs ? saveAs.raw : process ?? '';
        if (saveAs && signature === null) throw oss('ACCESS_DENIED', 'AccessDenied', `Expected a signed request (${SIGNATURE_PARAM}) for sys/saveas but received none`);
        if (signature !== null) {
          const expiresRaw = url.searchParams.get(EXPIRES_PARAM);
          const expires = expiresRaw === null ? undefined : /^\d{1,12}$/.test(expiresRaw) ? Number(expiresRaw) : NaN;
          if (Number.isNaN(expires)) throw oss('INVALID_ARGUMENT', 'InvalidArgument', `Expected Unix seconds (digits) for ${EXPIRES_PARAM} but received ${describeValue(expiresRaw)}`);
          if (!(await verifyProcess(options.signing.secret, key, signed, signature, bucket, expires))) {
            throw oss('ACCESS_DENIED', 'SignatureDoesNotMatch', `Expected a valid ${SIGNATURE_PARAM} for ${JSON.stringify(key)} and ${describeValue(process ?? '')} but received ${describeValue(signature)}`);
          }
          const now = Math.floor(Date.now() / 1000);
          if (expires !== undefined && expires < now) {
            throw oss('ACCESS_DENIED', 'AccessDenied', `Expected a signature valid now (${now}) but it expired at ${expires} (${EXPIRES_PARAM})`);
          }
        } else if (options.signing.required && !process?.startsWith('style/')) {
          throw oss('ACCESS_DENIED', 'AccessDenied', `Expected a signed request (${SIGNATURE_PARAM}) for ${process === undefined ? 'a plain download' : 'an ad-hoc process string'} but received none`);
        }
      }
      if (!ops && options.passThrough === false) {
        throw oss('ACCESS_DENIED', 'AccessDenied', 'Expected an x-oss-process or a style but received a plain download, which is disabled');
      }

      // Negotiation (opt-in): no format asked, so Accept may choose one; the answer then varies by it.
      const negotiating = options.negotiate === true && ops !== undefined && negotiable(ops);
      const chosen = negotiating ? negotiateFormat(request.headers.get('accept')) : undefined;
      const tag = (sourceEtag: string) => derivedEtag(sourceEtag, chosen ? `${process}/format,${chosen}` : process ?? '', etags);
      const ifNoneMatch = saveAs ? null : request.headers.get('if-none-match');
      const base: Record<string, string> = { ...cors, 'cache-control': options.cacheControl ?? DEFAULT_CACHE_CONTROL, 'x-oss-request-id': requestId };
      if (negotiating) base.vary = cors.vary ? `${cors.vary}, Accept` : 'Accept';
      // A revalidation can often be answered from the source's ETag alone, without downloading it.
      if (ifNoneMatch && source.head) {
        const head = await source.head(key);
        if (head?.etag) {
          const etag = await tag(head.etag);
          if (etagMatches(ifNoneMatch, etag)) return new Response(null, { status: 304, headers: { ...base, etag } });
        }
      }
      // Transforms are admitted (info alone and plain downloads are cheap and never wait); while the
      // admission is not free, a missing key is answered first (lookUpWhileBusy).
      const heavy = ops !== undefined && !(ops.length === 1 && ops[0].action === 'info');
      const entry = heavy && admission ? knownEntry(bucketFromHost(options), request.headers.get('host'), url.pathname) : undefined;
      const early = heavy && admission && !admission.free() ? await lookUpWhileBusy(source, bucket, key, entry, request.signal) : undefined;
      const pass = heavy ? await admission?.enter(request.signal) : undefined;
      try {
        const object = early ?? await source.get(key, { signal: request.signal, maxBytes });
        if (entry !== undefined) known!.add(entry);
        pass?.hold(object.bytes.byteLength);
        return await answer(object);
      } finally {
        pass?.leave();
      }

      async function answer(object: SourceObject): Promise<Response> {
      const etag = await tag(object.etag ?? (await sha256Hex(object.bytes)));
      if (ifNoneMatch && etagMatches(ifNoneMatch, etag)) return new Response(null, { status: 304, headers: { ...base, etag } });

      let body: Uint8Array, contentType: string;
      if (ops) {
        const out = await runTransform(object.bytes, chosen ? [...ops, ...parseProcess(`image/format,${chosen}`)] : ops, {
          limits: options.limits, outputLimits, signal: request.signal, fonts: options.fonts,
          // Nothing reads the source after this (its ETag is taken): a worker may take its buffer.
          transferSource: object.transferable === true,
          // Image watermarks come from the same bucket, as on OSS, under the same byte limit.
          loadObject: async (logoKey) => {
            checkObjectKey(logoKey);
            return (await source!.get(logoKey, { signal: request.signal, maxBytes })).bytes;
          },
        });
        [body, contentType] = [out.bytes, out.contentType];
      } else {
        // Kept bytes in shared memory are copied: a Response refuses a view on it.
        [body, contentType] = [isShared(object.bytes) ? object.bytes.slice() : object.bytes, object.contentType ?? 'application/octet-stream'];
      }
      if (saveAs) {
        await saveAs.storage.put(saveAs.object, body, { contentType });
        // OSS's answer: 200 with the target (the JSON newer SDK samples print).
        const json = JSON.stringify({ bucket: saveAs.bucket, fileSize: body.byteLength, object: saveAs.object, status: 'OK' });
        return new Response(json, { status: 200, headers: { ...cors, 'content-type': 'application/json', 'x-oss-request-id': requestId } });
      }
      const headers: Record<string, string> = { ...base, etag, 'content-type': contentType, 'content-length': String(body.byteLength) };
      // A stored HTML or SVG file served inline from the image domain is stored XSS.
      if (!ops && !INLINE_TYPES.test(contentType)) {
        if (options.activeContent === 'refuse') {
          throw oss('ACCESS_DENIED', 'AccessDenied', `Expected a raster image to serve but ${JSON.stringify(key)} is ${describeValue(contentType)}, which is not served (activeContent: 'refuse')`);
        }
        headers['content-disposition'] = 'attachment';
      }
      const response = new Response(request.method === 'HEAD' || bodiesAside ? null : (body as Uint8Array<ArrayBuffer>), { status: 200, headers });
      if (request.method !== 'HEAD') BODIES.set(response, body);
      return response;
      }
    } catch (e) {
      return errorResponse(e, requestId, cors, options.hostId ?? hostHeader(request)?.host ?? new URL(request.url).host, request.method === 'HEAD');
    }
  }
}

/**
 * The bytes of the answers built here from an image, by Response: the Node wrappers write them as
 * they are instead of reading the Response's stream back into a copy (node.ts, fc.ts).
 */
const BODIES = new WeakMap<Response, Uint8Array>();

/** The body of an answer `createFetchHandler` built from bytes, or undefined (read the Response then). */
export function bodyBytes(response: Response): Uint8Array | undefined {
  return BODIES.get(response);
}

function nosniff(response: Response): Response {
  try {
    response.headers.set('x-content-type-options', 'nosniff');
    return response;
  } catch {
    // Immutable headers (a Response from fetch): copy it.
    const copy = new Response(response.body, response);
    copy.headers.set('x-content-type-options', 'nosniff');
    return copy;
  }
}

/** Types a browser can only show as a picture: everything else (HTML, SVG, XML, scripts) is active. */
const INLINE_TYPES = /^image\/(?:jpeg|png|webp|gif|avif|heic|heif|bmp|tiff|x-icon|vnd\.microsoft\.icon)\s*(?:;|$)/i;

function oss(code: ConstructorParameters<typeof ImgpipeError>[0], ossCode: OssCode, message: string): ImgpipeError {
  return new ImgpipeError(code, message, { details: { ossCode } });
}

function decodePath(pathname: string): string {
  try {
    return decodeURIComponent(pathname.replace(/^\/+/, ''));
  } catch {
    throw oss('INVALID_ARGUMENT', 'InvalidArgument', `Expected a percent-encoded path but received ${describeValue(pathname)}`);
  }
}

function corsHeaders(request: Request, allowed: HandlerOptions['allowedOrigins']): Record<string, string> {
  const origin = request.headers.get('origin');
  if (!allowed) return {};
  // The answer depends on Origin whenever a list decides it, even for a request without one: a
  // cache must not hand the origin-less answer to an allowed origin (or the reverse).
  if (!origin) return allowed === '*' ? {} : { vary: 'Origin' };
  if (allowed !== '*' && !allowed.includes(origin)) return { vary: 'Origin' };
  return {
    'access-control-allow-origin': allowed === '*' ? '*' : origin,
    'access-control-expose-headers': 'ETag, Content-Length, x-oss-request-id, x-oss-ec',
    vary: 'Origin',
  };
}

/**
 * Same source version + same process string = same bytes: a strong ETag. Remembered in `known` (the
 * newest KNOWN_ENTRIES), as a burst asks for the same few again and again and a digest is an async
 * round trip through WebCrypto.
 */
async function derivedEtag(sourceEtag: string, process: string, known: Map<string, string>): Promise<string> {
  const input = `${sourceEtag}\n${process}`;
  const seen = known.get(input);
  if (seen !== undefined) return seen;
  const etag = `"${(await sha256Hex(new TextEncoder().encode(input))).slice(0, 32)}"`;
  remember(known, input, etag);
  return etag;
}

async function sha256Hex(bytes: Uint8Array): Promise<string> {
  // WebCrypto refuses a view on shared memory (a source cache's kept bytes).
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', (isShared(bytes) ? bytes.slice() : bytes) as Uint8Array<ArrayBuffer>));
  return Array.from(digest, (b) => b.toString(16).padStart(2, '0')).join('');
}

function etagMatches(header: string, etag: string): boolean {
  if (header.trim() === '*') return true;
  return header.split(',').map((t) => t.trim().replace(/^W\//, '')).includes(etag);
}

const xmlEscape = (s: string) => s.replace(/[<>&'"]/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', "'": '&apos;', '"': '&quot;' })[c]!);

/** The headers every error answer has (with its x-oss-request-id). */
export const ERROR_HEADERS: Readonly<Record<string, string>> = Object.freeze({ 'content-type': 'application/xml', 'cache-control': 'no-store' });

/** OSS's error body. */
export function errorXml(code: OssCode, message: string, requestId: string, hostId: string, ec?: string): string {
  return '<?xml version="1.0" encoding="UTF-8"?>\n<Error>' +
    `<Code>${code}</Code><Message>${xmlEscape(message)}</Message><RequestId>${requestId}</RequestId>` +
    `<HostId>${xmlEscape(hostId)}</HostId>` +
    (ec ? `<EC>${ec}</EC><RecommendDoc>https://api.aliyun.com/troubleshoot?q=${ec}</RecommendDoc>` : '') +
    '</Error>';
}

/** OSS's error answer: status from the Code, XML body, x-oss-ec header. */
export function errorResponse(error: unknown, requestId: string, cors: Record<string, string>, hostId: string, head = false): Response {
  const known = isImgpipeError(error);
  const code: OssCode = known ? ossCodeOf(error) : 'InternalError';
  // Storage trouble is the origin's fault, not ours: 502 tells a CDN it may retry elsewhere.
  const status = known && error.code === 'STORAGE_ERROR' ? 502 : OSS_STATUS[code];
  // Unknown failures are bugs: their text may hold internals, so it is not sent.
  const message = known ? error.message : 'Expected to process the request but an internal error occurred';
  const ec = known && typeof error.details?.ec === 'string' ? error.details.ec : undefined;
  const xml = errorXml(code, message, requestId, hostId, ec);
  const headers: Record<string, string> = { ...cors, ...ERROR_HEADERS, 'x-oss-request-id': requestId };
  if (ec) headers['x-oss-ec'] = ec;
  // SlowDown (admission refused the request): when to come back, in seconds.
  if (known && typeof error.details?.retryAfter === 'number') headers['retry-after'] = String(error.details.retryAfter);
  if (head) return new Response(null, { status, headers });
  // Written from its bytes by the Node wrappers (bodyBytes), as image answers are: a 503 under a storm
  // of retries costs no stream read.
  const body = new TextEncoder().encode(xml);
  headers['content-length'] = String(body.byteLength);
  const response = new Response(body, { status, headers });
  BODIES.set(response, body);
  return response;
}
