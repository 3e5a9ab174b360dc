/**
 * A local, filesystem-backed server that speaks enough of the OSS object protocol for the unmodified
 * ali-oss client: PutObject, GetObject (with Range), HeadObject, DeleteObject, ListObjects and
 * ListObjectsV2, user metadata, ETags, OSS's XML errors, and real signature checks (V1 headers, V1
 * signed URLs, V4). Buckets are addressed path-style (`http://127.0.0.1:port/bucket/key`) or
 * virtual-host-style (`Host: bucket.anything`), which is what ali-oss sends when its endpoint is an IP.
 *
 * It stands in for OSS *and* for the trigger: created objects are delivered to a handler as the OSS
 * trigger payload (a Buffer, as FC does) or as an EventBridge CloudEvent, with FC's async retries.
 * A fault-injection hook (failed requests, connection resets, delays) lets tests and the reliability
 * work exercise the handler's retry paths against real HTTP.
 */
import { randomUUID, createHash, type Hash } from 'node:crypto';
import { mkdir, stat } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { isIP } from 'node:net';
import { ImgpipeError, isImgpipeError } from '../../src/index.js';
import { checkBucketName, compareKeys, createFsStorage, isKeyConflict, normalizeEtag, type FsStorage } from '../storage.js';
import { compilePattern } from '../events/pattern.js';
import type { FcContext, FcEventHandler } from '../fc/context.js';
import { verifyRequest, type Credential } from './signature.js';
import { errorXml, listXml, type ListEntry } from './xml.js';
import { createFcEmulator, type FcEmulator, type FcFaults, type FcFunction } from './fc.js';

/** Faults to inject; counters are consumed as requests arrive. */
export interface Faults {
  /** Answer this many object PUTs with `status` (default 503) before letting PUTs through. */
  failPuts?: number;
  /** Answer this many GETs (object reads) with `status`. */
  failGets?: number;
  /** Status for failed requests (5xx is what OSS returns when it is overloaded). Default 503. */
  status?: number;
  /** Drop the TCP connection without answering on this many requests (a connection reset). */
  resetConnections?: number;
  /** Hold every response back this long, in milliseconds (a slow server). */
  delayMs?: number;
  /**
   * Leave this many requests unanswered until the client gives up and closes the connection (a
   * timeout). Nothing is stored. Capped at `hangMs` (default 60000) so a client without a timeout
   * still gets its connection dropped eventually.
   */
  timeouts?: number;
  hangMs?: number;
  /** Read the whole body of this many PUTs, then drop the connection without storing or answering. */
  resetPutsAfterBody?: number;
  /**
   * Store this many PUTs, then drop the connection instead of answering: the write happened but the
   * client cannot know, so its retry must be harmless.
   */
  losePutResponses?: number;
  /** Inject the faults above only into requests for object keys matching this (default: every request). */
  keys?: RegExp;
}

export interface NotifyOptions {
  /** Called for each created object, as Function Compute would: `(event Buffer, context)`. */
  readonly handler: FcEventHandler;
  /** `oss` (the OSS trigger payload, default) or `cloudevent` (EventBridge's structured CloudEvent). */
  readonly format?: 'oss' | 'cloudevent';
  /** Only objects in these buckets notify (default: every bucket). */
  readonly buckets?: readonly string[];
  /** An EventBridge pattern the CloudEvent form must match, as an EventBridge rule would apply it. */
  readonly pattern?: unknown;
  /** FC async invocation retries after a thrown error (FC's default is 3). */
  readonly retries?: number;
  /** Delay before each retry, in milliseconds (default 200). */
  readonly retryDelayMs?: number;
  /** Extra context fields for the handler (credentials default to the server's first credential). */
  readonly context?: Partial<FcContext>;
}

export interface LocalOssOptions {
  /** The directory the buckets live in. */
  readonly root: string;
  /** Buckets to create at start. Requests to any other bucket get NoSuchBucket unless its folder exists. */
  readonly buckets?: readonly string[];
  readonly host?: string;
  /** 0 (default) picks a free port. */
  readonly port?: number;
  /** Accepted key pairs. Default: one freshly generated pair (see `LocalOss.credentials`). */
  readonly credentials?: readonly Credential[];
  /** Region reported in events and used for V4 scopes. Default `cn-hangzhou`. */
  readonly region?: string;
  readonly notify?: NotifyOptions;
  readonly faults?: Faults;
  /**
   * Accept requests that carry no signature at all (for `curl -T file`); requests that do carry one
   * are still verified. Off by default, as on OSS.
   */
  readonly allowAnonymous?: boolean;
  /** Functions served on the FC 3.0 async invocation API at `fcEndpoint` (see ./fc.ts). */
  readonly functions?: Readonly<Record<string, FcEventHandler | FcFunction>>;
  /** Fault plan of the FC endpoint. */
  readonly fcFaults?: FcFaults;
  /** Largest object body accepted, in bytes (default 256 MiB); bigger PUTs get EntityTooLarge unread. */
  readonly maxObjectBytes?: number;
}

/** One delivery of an event to the handler. */
export interface Invocation {
  readonly eventId: string;
  readonly bucket: string;
  readonly key: string;
  readonly attempt: number;
  readonly ok: boolean;
  readonly result?: unknown;
  readonly error?: string;
}

export interface LocalOss {
  /** `http://127.0.0.1:<port>`: pass it as ali-oss's `endpoint`. */
  readonly endpoint: string;
  readonly port: number;
  readonly region: string;
  readonly credentials: readonly Credential[];
  readonly invocations: readonly Invocation[];
  /** Counts of requests answered, by operation, and of faults injected. */
  readonly stats: Readonly<Record<string, number>>;
  /** FC 3.0 API endpoint (`--fc-endpoint`): this server, paths under /2023-03-30/. */
  readonly fcEndpoint: string;
  /** The FC emulator's tasks and fault plan, when `functions` were given. */
  readonly fc?: FcEmulator;
  /** Direct access to a bucket's store (no HTTP), e.g. to seed or inspect in tests. */
  storage(bucket: string): FsStorage;
  /** Replace the fault plan. */
  setFaults(faults: Faults): void;
  /** Resolves when no notification is running or waiting to retry (including ones they caused). */
  idle(): Promise<void>;
  close(): Promise<void>;
}

interface Route {
  bucket?: string;
  key?: string;
  query: [string, string | undefined][];
}

class HttpError extends Error {
  constructor(readonly status: number, readonly code: string, message: string, readonly extra: Record<string, string> = {}) {
    super(message);
  }
}

function parseQuery(search: string): [string, string | undefined][] {
  if (search === '') return [];
  return search.split('&').filter(Boolean).map((part) => {
    const eq = part.indexOf('=');
    const dec = (s: string) => decodeURIComponent(s.replace(/\+/g, ' '));
    return eq < 0 ? [dec(part), undefined] : [dec(part.slice(0, eq)), dec(part.slice(eq + 1))];
  });
}

/**
 * Work out bucket and key. An IP, `localhost` or a dotless host means path-style; any other host
 * name's first label is the bucket (virtual-host style). The path is percent-decoded once, then the
 * storage layer refuses traversal on the decoded key, so `%2e%2e/` is caught like `../`.
 */
function route(req: IncomingMessage): Route {
  const raw = req.url ?? '/';
  const q = raw.indexOf('?');
  const rawPath = q < 0 ? raw : raw.slice(0, q);
  let query: [string, string | undefined][];
  let path: string;
  try {
    query = parseQuery(q < 0 ? '' : raw.slice(q + 1));
    path = decodeURIComponent(rawPath);
  } catch {
    throw new HttpError(400, 'InvalidURI', 'Couldn\'t parse the specified URI.');
  }
  if (!path.startsWith('/')) throw new HttpError(400, 'InvalidURI', 'Couldn\'t parse the specified URI.');
  const hostname = (req.headers.host ?? '').replace(/:\d+$/, '').replace(/^\[|\]$/g, '');
  const virtualHost = hostname !== '' && isIP(hostname) === 0 && hostname !== 'localhost' && hostname.includes('.');
  if (virtualHost) {
    const bucket = hostname.split('.')[0];
    const key = path.slice(1);
    return { bucket, key: key === '' ? undefined : key, query };
  }
  const rest = path.slice(1);
  if (rest === '') return { query };
  const slash = rest.indexOf('/');
  if (slash < 0) return { bucket: rest, query };
  const key = rest.slice(slash + 1);
  return { bucket: rest.slice(0, slash), key: key === '' ? undefined : key, query };
}

/** The local server's default body cap (`maxObjectBytes`): 256 MiB (OSS itself takes up to 5 GB per PUT). */
const DEFAULT_MAX_OBJECT_BYTES = 256 * 1024 * 1024;

/**
 * An accepted body as it arrives, refused (EntityTooLarge) from its Content-Length, or as soon as it
 * passes `max`; its SHA-256 is computed on the way for the V4 check (`checkDigests`). The request is
 * not destroyed when the reader stops early, so the refusal can still be answered (then the
 * connection closes, the rest unread).
 */
function bodyChunks(req: IncomingMessage, max: number, sha256: Hash): AsyncIterable<Uint8Array> {
  const tooLarge = (size: number) => new HttpError(400, 'EntityTooLarge', `Your proposed upload exceeds the maximum allowed size: ${size} bytes, at most ${max} (maxObjectBytes).`);
  const declared = Number(req.headers['content-length']);
  if (declared > max) throw tooLarge(declared);
  return (async function* () {
    let size = 0;
    for await (const chunk of req.iterator({ destroyOnReturn: false })) {
      size += (chunk as Buffer).length;
      if (size > max) throw tooLarge(size);
      sha256.update(chunk as Buffer);
      yield chunk as Buffer;
    }
    // A client gone before its Content-Length is an aborted request (the iterator throws); this is
    // the one that said it was done early.
    if (Number.isInteger(declared) && size !== declared) {
      throw new HttpError(400, 'IncompleteBody', `You did not provide the number of bytes specified by the Content-Length HTTP header: ${size} of ${declared}.`);
    }
  })();
}

/** The digests a client declared, against the body's, once it is all in: Content-MD5 and V4's x-oss-content-sha256. */
function checkDigests(headers: Record<string, string | undefined>, md5: Buffer, sha256: Hash): void {
  const declaredMd5 = headers['content-md5'];
  if (declaredMd5 !== undefined && declaredMd5 !== md5.toString('base64')) {
    throw new HttpError(400, 'InvalidDigest', 'The Content-MD5 you specified is not valid.');
  }
  // OSS's EC 0002-00000214 (an authentication error, so 403 like the others of its 0002 family).
  const hash = headers['x-oss-content-sha256'];
  if (hash !== undefined && hash !== 'UNSIGNED-PAYLOAD' && sha256.digest('hex') !== hash) {
    throw new HttpError(403, 'AccessDenied', 'The value of the x-oss-content-sha256 header is invalid.', { EC: '0002-00000214' });
  }
}

/** Thrown from a PUT's acceptance check to drop the connection instead of answering (an injected fault). */
const DROP = Symbol('drop the connection');

function headerMap(req: IncomingMessage): Record<string, string | undefined> {
  const out: Record<string, string | undefined> = {};
  for (const [k, v] of Object.entries(req.headers)) out[k.toLowerCase()] = Array.isArray(v) ? v.join(',') : v;
  return out;
}

/** `bytes=a-b`, `bytes=a-`, `bytes=-n`. Returns undefined for a header OSS would ignore. */
function parseRange(header: string | undefined, size: number): { start: number; end: number } | 'unsatisfiable' | undefined {
  const m = header === undefined ? null : /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!m || (m[1] === '' && m[2] === '')) return undefined;
  let start: number;
  let end: number;
  if (m[1] === '') {
    const n = Number(m[2]);
    start = Math.max(0, size - n);
    end = size - 1;
  } else {
    start = Number(m[1]);
    end = m[2] === '' ? size - 1 : Math.min(Number(m[2]), size - 1);
  }
  if (start >= size || start > end) return 'unsatisfiable';
  return { start, end };
}

/** The OSS error code each injectable status comes with, so clients classify it as they would OSS's. */
const FAULT_CODES: Readonly<Record<number, string>> = { 400: 'InvalidArgument', 403: 'AccessDenied', 404: 'NoSuchKey', 409: 'Conflict', 500: 'InternalError', 502: 'BadGateway', 503: 'ServiceUnavailable' };

function injectedError(status = 503): HttpError {
  return new HttpError(status, FAULT_CODES[status] ?? 'InternalError', status === 503 ? 'Please reduce your request rate (injected fault).' : `Injected fault with status ${status}.`);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Start the server. Close it with `close()`. */
export async function startLocalOss(options: LocalOssOptions): Promise<LocalOss> {
  const region = options.region ?? 'cn-hangzhou';
  const maxObjectBytes = options.maxObjectBytes ?? DEFAULT_MAX_OBJECT_BYTES;
  const credentials: readonly Credential[] = options.credentials ?? [{ accessKeyId: `LTAI${randomUUID().replace(/-/g, '').slice(0, 20)}`, accessKeySecret: randomUUID().replace(/-/g, '') }];
  let faults: Faults = { ...options.faults };
  const stats: Record<string, number> = {};
  const count = (name: string) => {
    stats[name] = (stats[name] ?? 0) + 1;
  };
  /** Consume one unit of a counted fault; true when it applies to this request. */
  const take = (kind: 'failPuts' | 'failGets' | 'resetConnections' | 'timeouts' | 'resetPutsAfterBody' | 'losePutResponses', stat: string): boolean => {
    const left = faults[kind];
    if (left === undefined || left <= 0) return false;
    faults[kind] = left - 1;
    count(stat);
    return true;
  };
  const invocations: Invocation[] = [];
  const pending = new Set<Promise<void>>();
  const stores = new Map<string, FsStorage>();
  const storage = (bucket: string): FsStorage => {
    let s = stores.get(bucket);
    if (!s) {
      s = createFsStorage({ root: options.root, bucket });
      stores.set(bucket, s);
    }
    return s;
  };
  const knownBuckets = new Set(options.buckets ?? []);
  for (const b of knownBuckets) {
    checkBucketName(b);
    await mkdir(`${options.root}/${b}`, { recursive: true });
  }
  const fc = options.functions ? createFcEmulator({ functions: options.functions, credentials, region, faults: options.fcFaults }) : undefined;
  const notifyMatch = options.notify?.pattern === undefined ? undefined : compilePattern(options.notify.pattern);

  const hostId = (bucket?: string) => `${bucket ? `${bucket}.` : ''}oss-${region}.aliyuncs.com`;

  function send(res: ServerResponse, status: number, headers: Record<string, string | number>, body?: Uint8Array | string): void {
    res.writeHead(status, { 'x-oss-request-id': randomUUID().replace(/-/g, '').toUpperCase().slice(0, 24), server: 'AliyunOSS', ...headers });
    res.end(body);
  }

  function sendError(req: IncomingMessage, res: ServerResponse, method: string, bucket: string | undefined, err: HttpError): void {
    const requestId = randomUUID().replace(/-/g, '').toUpperCase().slice(0, 24);
    const xml = errorXml(err.code, err.message, requestId, hostId(bucket), err.extra);
    // HEAD answers carry no body, so OSS puts the error document in `x-oss-err` (ali-oss decodes it).
    const headers: Record<string, string> = { 'content-type': 'application/xml', 'x-oss-request-id': requestId, 'x-oss-ec': err.extra.EC ?? '0000-00000000' };
    // A body left unread is not drained: the connection closes after the answer.
    if (!req.readableEnded) headers.connection = 'close';
    if (method === 'HEAD') headers['x-oss-err'] = Buffer.from(xml).toString('base64');
    res.writeHead(err.status, headers);
    res.end(method === 'HEAD' ? undefined : xml);
  }

  function objectHeaders(info: { size: number; etag: string; contentType?: string; cacheControl?: string; lastModified?: Date; meta: Readonly<Record<string, string>> }): Record<string, string | number> {
    const h: Record<string, string | number> = {
      'content-type': info.contentType ?? 'application/octet-stream',
      etag: `"${info.etag}"`,
      'last-modified': (info.lastModified ?? new Date()).toUTCString(),
      'accept-ranges': 'bytes',
      'x-oss-object-type': 'Normal',
      'x-oss-storage-class': 'Standard',
      'x-oss-hash-crc64ecma': '0',
    };
    if (info.cacheControl) h['cache-control'] = info.cacheControl;
    for (const [k, v] of Object.entries(info.meta)) h[`x-oss-meta-${k}`] = v;
    return h;
  }

  function notify(bucket: string, key: string, info: { size: number; etag: string; contentType?: string; meta: Readonly<Record<string, string>> }, eventName: string): void {
    const n = options.notify;
    if (!n || (n.buckets && !n.buckets.includes(bucket))) return;
    const accountId = n.context?.accountId ?? '1234567890';
    const requestId = randomUUID().replace(/-/g, '').toUpperCase().slice(0, 24);
    const now = new Date().toISOString();
    const record = {
      eventName,
      eventSource: 'acs:oss',
      eventTime: now,
      eventVersion: '1.0',
      oss: {
        bucket: { arn: `acs:oss:${region}:${accountId}:${bucket}`, name: bucket, ownerIdentity: accountId },
        object: {
          deltaSize: info.size,
          eTag: info.etag,
          key,
          size: info.size,
          objectMeta: { mimeType: info.contentType ?? 'application/octet-stream', userMeta: Object.fromEntries(Object.entries(info.meta).map(([k, v]) => [`x-oss-meta-${k}`, v])) },
        },
        ossSchemaVersion: '1.0',
        ruleId: 'imgpipe-local',
      },
      region,
      requestParameters: { sourceIPAddress: '127.0.0.1' },
      responseElements: { requestId },
      userIdentity: { principalId: accountId },
    };
    const cloudEvent = {
      id: randomUUID(),
      source: 'acs.oss',
      specversion: '1.0',
      type: `oss:${eventName}`,
      datacontenttype: 'application/json;charset=utf-8',
      subject: `acs:oss:${region}:${accountId}:${bucket}/${key}`,
      time: now,
      aliyunaccountid: accountId,
      aliyunregionid: region,
      aliyuneventbusname: 'default',
      aliyunpublishtime: now,
      data: record,
    };
    if (notifyMatch && !notifyMatch(cloudEvent)) return;
    const payload = Buffer.from(JSON.stringify(n.format === 'cloudevent' ? cloudEvent : { events: [record] }));
    const eventId = n.format === 'cloudevent' ? cloudEvent.id : requestId;
    const retries = n.retries ?? 3;
    const first = credentials[0];
    const run = async () => {
      for (let attempt = 0; attempt <= retries; attempt++) {
        if (attempt > 0) await sleep(n.retryDelayMs ?? 200);
        const context: FcContext = {
          requestId: randomUUID(),
          region,
          accountId,
          credentials: { accessKeyId: first.accessKeyId, accessKeySecret: first.accessKeySecret, securityToken: first.securityToken },
          function: { name: 'imgpipe-local', handler: 'index.handler' },
          retryCount: attempt,
          ...n.context,
        };
        try {
          const result = await n.handler(payload, context);
          invocations.push(Object.freeze({ eventId, bucket, key, attempt, ok: true, result }));
          return;
        } catch (e) {
          invocations.push(Object.freeze({ eventId, bucket, key, attempt, ok: false, error: isImgpipeError(e) ? `${e.code}: ${e.message}` : String(e) }));
        }
      }
    };
    // Delivered after the PUT's response, as OSS does: the uploader never waits for the pipeline.
    const p: Promise<void> = new Promise<void>((r) => setImmediate(r)).then(run).finally(() => pending.delete(p));
    pending.add(p);
  }

  async function bucketExists(bucket: string): Promise<boolean> {
    if (knownBuckets.has(bucket)) return true;
    try {
      checkBucketName(bucket);
    } catch {
      return false;
    }
    try {
      return (await stat(`${options.root}/${bucket}`)).isDirectory();
    } catch {
      return false;
    }
  }

  async function list(res: ServerResponse, bucket: string, q: Map<string, string | undefined>): Promise<void> {
    const version = q.get('list-type') === '2' ? 2 : 1;
    const prefix = q.get('prefix') ?? '';
    const delimiter = q.get('delimiter') || undefined;
    const maxKeys = q.has('max-keys') ? Number(q.get('max-keys')) : 100;
    if (!Number.isInteger(maxKeys) || maxKeys < 0 || maxKeys > 1000) {
      throw new HttpError(400, 'InvalidArgument', 'Argument max-keys must be an integer between 0 and 1000.', { ArgumentName: 'max-keys', ArgumentValue: String(q.get('max-keys')) });
    }
    const token = q.get('continuation-token');
    const after = version === 2 ? (token !== undefined ? Buffer.from(token, 'base64url').toString('utf8') : q.get('start-after')) : q.get('marker');
    const store = storage(bucket);
    // Walk the keys in order from the marker and stop one past the page: a page costs its own keys
    // (and the folders on the way), not the bucket. Keys under a common prefix are skipped by
    // restarting the walk after the prefix, so a folder rolled up into one prefix is not read.
    const items: { key: string; entry?: ListEntry }[] = [];
    let truncated = false;
    let from = after || undefined;
    walk: for (;;) {
      for await (const key of store.listKeys({ prefix, startAfter: from })) {
        const d = delimiter === undefined ? -1 : key.indexOf(delimiter, prefix.length);
        let item: { key: string; entry?: ListEntry };
        if (d >= 0) {
          const p = key.slice(0, d + delimiter!.length);
          // After the prefix: every key under it sorts before p + U+10FFFF.
          from = `${p}\u{10FFFF}`;
          if (after !== undefined && compareKeys(p, after) <= 0) continue walk;
          item = { key: p };
        } else {
          const info = await store.head(key);
          if (!info) continue;
          item = { key, entry: { key, size: info.size, etag: info.etag, lastModified: info.lastModified ?? new Date() } };
        }
        if (items.length === maxKeys) {
          truncated = true;
          break walk;
        }
        items.push(item);
        if (d >= 0) continue walk;
      }
      break;
    }
    const page = items;
    const last = page[page.length - 1]?.key;
    const next = truncated && last !== undefined ? (version === 2 ? Buffer.from(last).toString('base64url') : last) : undefined;
    count('ListObjects');
    send(res, 200, { 'content-type': 'application/xml' }, listXml({
      bucket, version, prefix, delimiter, maxKeys,
      marker: version === 1 ? after ?? '' : q.get('start-after'),
      continuationToken: token,
      entries: page.filter((i) => i.entry).map((i) => i.entry!),
      commonPrefixes: page.filter((i) => !i.entry).map((i) => i.key),
      truncated,
      next,
      urlEncode: q.get('encoding-type') === 'url',
    }));
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const method = (req.method ?? 'GET').toUpperCase();
    let r: Route = { query: [] };
    try {
      r = route(req);
      // Faults aimed at some keys leave every other request (and bucket-level ones) alone.
      const faulty = faults.keys === undefined || (r.key !== undefined && faults.keys.test(r.key));
      if (faulty && take('resetConnections', 'fault:reset')) {
        req.socket.destroy();
        return;
      }
      if (faulty && take('timeouts', 'fault:timeout')) {
        await new Promise<void>((resolveHang) => {
          const timer = setTimeout(resolveHang, faults.hangMs ?? 60_000);
          req.socket.once('close', () => {
            clearTimeout(timer);
            resolveHang();
          });
        });
        req.socket.destroy();
        return;
      }
      if (faulty && faults.delayMs) {
        count('fault:delay');
        await sleep(faults.delayMs);
      }
      const headers = headerMap(req);
      const anonymous = headers.authorization === undefined && !r.query.some(([k]) => k === 'Signature');
      const failure = anonymous && options.allowAnonymous ? undefined : verifyRequest({ method, headers, query: r.query, bucket: r.bucket, key: r.key, region, now: new Date() }, credentials);
      // Refusals answer from the headers alone: an unread body is never buffered (sendError closes
      // the connection instead), so a 1 GiB PUT with a bogus signature costs nothing.
      if (failure) throw new HttpError(403, failure.code, failure.message);
      if (r.bucket === undefined) throw new HttpError(501, 'NotImplemented', 'Service-level operations are not supported by the local server.');
      if (!(await bucketExists(r.bucket))) {
        throw new HttpError(404, 'NoSuchBucket', 'The specified bucket does not exist.', { BucketName: r.bucket });
      }
      const q = new Map(r.query);
      if (r.key === undefined) {
        if (method === 'GET') return await list(res, r.bucket, q);
        throw new HttpError(501, 'NotImplemented', `Bucket operation ${method} is not supported by the local server.`);
      }
      const store = storage(r.bucket);
      const key = r.key;
      try {
        store.pathOf(key);
      } catch (e) {
        throw new HttpError(400, 'InvalidObjectName', isImgpipeError(e) ? e.message : 'The specified object name is invalid.');
      }
      if ([...q.keys()].some((k) => !['response-content-type', 'response-cache-control', 'x-oss-process', 'OSSAccessKeyId', 'Expires', 'Signature', 'security-token'].includes(k))) {
        throw new HttpError(501, 'NotImplemented', `Object sub-resource ${[...q.keys()].join(',')} is not supported by the local server.`);
      }
      switch (method) {
        case 'PUT': {
          const meta: Record<string, string> = {};
          for (const [k, v] of Object.entries(headers)) if (k.startsWith('x-oss-meta-') && v !== undefined) meta[k.slice('x-oss-meta-'.length)] = v;
          const contentType = headers['content-type'];
          const sha256 = createHash('sha256');
          // Streamed to a temporary file and renamed into place only once the whole body is in and
          // its digests match: a refused, capped or abandoned body leaves nothing behind.
          let stored: { etag: string; size: number };
          try {
            stored = await store.putStream(key, bodyChunks(req, maxObjectBytes, sha256), {
              contentType, cacheControl: headers['cache-control'], meta,
              accept: ({ md5 }) => {
                if (faulty && take('resetPutsAfterBody', 'fault:reset-after-body')) throw DROP;
                if (faulty && take('failPuts', 'fault:put')) throw injectedError(faults.status);
                checkDigests(headers, md5, sha256);
              },
            });
          } catch (e) {
            if (e !== DROP) throw e;
            req.socket.destroy();
            return;
          }
          const { etag, size } = stored;
          count('PutObject');
          if (faulty && take('losePutResponses', 'fault:lost-response')) {
            req.socket.destroy();
            notify(r.bucket, key, { size, etag, contentType, meta }, 'ObjectCreated:PutObject');
            return;
          }
          send(res, 200, { etag: `"${etag}"`, 'content-length': 0 });
          notify(r.bucket, key, { size, etag, contentType, meta }, 'ObjectCreated:PutObject');
          return;
        }
        case 'GET':
        case 'HEAD': {
          if (method === 'GET' && faulty && take('failGets', 'fault:get')) {
            throw injectedError(faults.status);
          }
          const info = await store.head(key);
          if (!info) throw new HttpError(404, 'NoSuchKey', 'The specified key does not exist.', { Key: key });
          const h = objectHeaders(info);
          if (q.get('response-content-type')) h['content-type'] = q.get('response-content-type')!;
          if (q.get('response-cache-control')) h['cache-control'] = q.get('response-cache-control')!;
          if (method === 'HEAD') {
            count('HeadObject');
            send(res, 200, { ...h, 'content-length': info.size });
            return;
          }
          // As OSS: a GET whose If-None-Match names the object's ETag is 304 with its headers and no body.
          const inm = headers['if-none-match'];
          if (inm !== undefined && inm.split(',').some((t) => normalizeEtag(t.trim()) === info.etag)) {
            count('GetObject');
            send(res, 304, h);
            return;
          }
          const { bytes } = await store.get(key);
          const range = parseRange(headers.range, bytes.length);
          count('GetObject');
          if (range === 'unsatisfiable') throw new HttpError(416, 'InvalidRange', 'The requested range cannot be satisfied.');
          if (range) {
            send(res, 206, { ...h, 'content-length': range.end - range.start + 1, 'content-range': `bytes ${range.start}-${range.end}/${bytes.length}` }, bytes.subarray(range.start, range.end + 1));
          } else {
            send(res, 200, { ...h, 'content-length': bytes.length }, bytes);
          }
          return;
        }
        case 'DELETE': {
          await store.delete(key);
          count('DeleteObject');
          send(res, 204, {});
          return;
        }
        default:
          throw new HttpError(405, 'MethodNotAllowed', `The specified method ${method} is not allowed against this resource.`);
      }
    } catch (e) {
      if (e instanceof HttpError) return sendError(req, res, method, r.bucket, e);
      // The store refuses a key that would nest under an existing one ("c" and "c.json/x"): the
      // client's conflict, 409 as OSS answers conflicting writes, not a 500 a client retries.
      if (isKeyConflict(e)) return sendError(req, res, method, r.bucket, new HttpError(409, 'KeyConflict', e.message));
      if (isImgpipeError(e, 'INVALID_ARGUMENT')) return sendError(req, res, method, r.bucket, new HttpError(400, 'InvalidArgument', e.message));
      // A filesystem error's text names absolute paths under the root: clients get a generic message.
      const message = e instanceof ImgpipeError ? e.message : 'We encountered an internal error. Please try again.';
      return sendError(req, res, method, r.bucket, new HttpError(500, 'InternalError', message));
    }
  }

  const server: Server = createServer((req, res) => {
    (fc ? fc.handle(req, res).then((done) => (done ? undefined : handle(req, res))) : handle(req, res)).catch((e: unknown) => {
      if (!res.headersSent) res.writeHead(500).end(String(e));
    });
  });
  await new Promise<void>((resolvePromise, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => resolvePromise());
  });
  const port = (server.address() as AddressInfo).port;
  const host = options.host ?? '127.0.0.1';

  return Object.freeze({
    endpoint: `http://${host.includes(':') ? `[${host}]` : host}:${port}`,
    port,
    region,
    credentials,
    invocations,
    stats,
    fcEndpoint: `http://${host.includes(':') ? `[${host}]` : host}:${port}`,
    fc,
    storage,
    setFaults(f: Faults) {
      faults = { ...f };
    },
    async idle() {
      while (pending.size > 0) await Promise.allSettled([...pending]);
      await fc?.idle();
    },
    async close() {
      await Promise.allSettled([...pending]);
      await fc?.close();
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  });
}
