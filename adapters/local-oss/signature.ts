/**
 * Request signature verification, as OSS does it, so that the local server refuses exactly what
 * Alibaba Cloud would: a wrong secret, an unknown key id, a stale date, a tampered header.
 *
 * - V1 header signing: `Authorization: OSS <AccessKeyId>:<base64 HMAC-SHA1(secret, StringToSign)>` with
 *   StringToSign = VERB \n Content-MD5 \n Content-Type \n Date \n CanonicalizedOSSHeaders
 *   CanonicalizedResource. ali-oss sends its date as `x-oss-date` and signs that in the Date slot.
 * - V1 signed URLs: `?OSSAccessKeyId=&Expires=&Signature=`, Expires in the Date slot.
 * - V4: `Authorization: OSS4-HMAC-SHA256 Credential=<id>/<yyyymmdd>/<region>/oss/aliyun_v4_request,
 *   [AdditionalHeaders=...,]Signature=<hex>` over a canonical request with an HMAC-SHA256 key chain.
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

export interface Credential {
  readonly accessKeyId: string;
  readonly accessKeySecret: string;
  /** When set, requests must carry it as `x-oss-security-token` (an STS triple). */
  readonly securityToken?: string;
}

/** Why a request was refused: the OSS error code and HTTP status it gets. */
export interface AuthFailure {
  readonly code: 'AccessDenied' | 'InvalidAccessKeyId' | 'SignatureDoesNotMatch' | 'RequestTimeTooSkewed' | 'InvalidSecurityToken';
  readonly message: string;
}

export interface SignedRequest {
  readonly method: string;
  /** Lower-cased header names. */
  readonly headers: Readonly<Record<string, string | undefined>>;
  /** Decoded query parameters, in order of appearance; `undefined` for a bare `?name`. */
  readonly query: readonly (readonly [string, string | undefined])[];
  readonly bucket?: string;
  /** Decoded object key. */
  readonly key?: string;
  readonly region: string;
  readonly now: Date;
}

/*
 * The query parameters OSS includes in a V1 CanonicalizedResource. Everything else (prefix, marker,
 * max-keys, list-type, ...) is left out of the signature, by OSS's definition.
 */
const V1_SUBRESOURCES = new Set([
  'acl', 'append', 'bucketInfo', 'cname', 'comp', 'continuation-token', 'cors', 'delete', 'encryption', 'endTime', 'img', 'inventory',
  'lifecycle', 'live', 'location', 'logging', 'objectMeta', 'partNumber', 'policy', 'position', 'qos', 'referer', 'replication',
  'replicationLocation', 'replicationProgress', 'requestPayment', 'response-cache-control', 'response-content-disposition',
  'response-content-encoding', 'response-content-language', 'response-content-type', 'response-expires', 'restore',
  'security-token', 'sequential', 'startTime', 'stat', 'status', 'style', 'styleName', 'symlink', 'tagging', 'uploadId', 'uploads',
  'versionId', 'versioning', 'versions', 'vod', 'website', 'worm', 'wormExtend', 'wormId', 'x-oss-ac-forward-allow',
  'x-oss-ac-source-ip', 'x-oss-ac-subnet-mask', 'x-oss-ac-vpc-id', 'x-oss-async-process', 'x-oss-process', 'x-oss-request-payer',
  'x-oss-traffic-limit',
]);

/** How far a request's date may be from the server's clock, as OSS allows. */
const MAX_SKEW_MS = 15 * 60 * 1000;

function safeEqual(a: string, b: string): boolean {
  const ba = Buffer.from(a);
  const bb = Buffer.from(b);
  return ba.length === bb.length && timingSafeEqual(ba, bb);
}

function v1Resource(req: SignedRequest): string {
  let resource = req.bucket === undefined ? '/' : `/${req.bucket}/${req.key ?? ''}`;
  const sub = req.query.filter(([k]) => V1_SUBRESOURCES.has(k)).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  if (sub.length > 0) resource += `?${sub.map(([k, v]) => (v === undefined || v === '' ? k : `${k}=${v}`)).join('&')}`;
  return resource;
}

function canonicalOssHeaders(headers: SignedRequest['headers']): string {
  return Object.keys(headers)
    .filter((k) => k.startsWith('x-oss-'))
    .sort()
    .map((k) => `${k}:${String(headers[k]).trim()}\n`)
    .join('');
}

function v1StringToSign(req: SignedRequest, date: string): string {
  const h = req.headers;
  return `${req.method}\n${h['content-md5'] ?? ''}\n${h['content-type'] ?? ''}\n${date}\n${canonicalOssHeaders(h)}${v1Resource(req)}`;
}

function hmacSha1(secret: string, text: string): string {
  return createHmac('sha1', secret).update(Buffer.from(text, 'utf8')).digest('base64');
}

function findCredential(credentials: readonly Credential[], id: string): Credential | AuthFailure {
  const c = credentials.find((x) => x.accessKeyId === id);
  return c ?? { code: 'InvalidAccessKeyId', message: 'The OSS Access Key Id you provided does not exist in our records.' };
}

function checkToken(c: Credential, req: SignedRequest, fromQuery?: string): AuthFailure | undefined {
  if (c.securityToken === undefined) return undefined;
  const token = req.headers['x-oss-security-token'] ?? fromQuery;
  return token === c.securityToken ? undefined : { code: 'InvalidSecurityToken', message: 'The security token you provided is invalid.' };
}

function checkSkew(date: Date, now: Date): AuthFailure | undefined {
  if (Number.isNaN(date.getTime())) return { code: 'AccessDenied', message: 'Invalid date in the request.' };
  return Math.abs(date.getTime() - now.getTime()) > MAX_SKEW_MS
    ? { code: 'RequestTimeTooSkewed', message: 'The difference between the request time and the current time is too large.' }
    : undefined;
}

function verifyV1Header(req: SignedRequest, auth: string, credentials: readonly Credential[]): AuthFailure | undefined {
  const m = /^OSS ([^:]+):(.+)$/.exec(auth);
  if (!m) return { code: 'AccessDenied', message: 'Authorization header is invalid.' };
  const c = findCredential(credentials, m[1]);
  if ('code' in c) return c;
  // ali-oss signs `x-oss-date` in the Date slot; curl-style clients sign `Date`. Either may be the signed one.
  const dates = [req.headers['x-oss-date'], req.headers.date].filter((d): d is string => d !== undefined);
  if (dates.length === 0) return { code: 'AccessDenied', message: 'Date header or x-oss-date is required.' };
  const signed = dates.find((d) => safeEqual(hmacSha1(c.accessKeySecret, v1StringToSign(req, d)), m[2]));
  if (signed === undefined) return { code: 'SignatureDoesNotMatch', message: 'The request signature we calculated does not match the signature you provided. Check your key and signing method.' };
  return checkSkew(new Date(signed), req.now) ?? checkToken(c, req);
}

function verifyV1Query(req: SignedRequest, credentials: readonly Credential[]): AuthFailure | undefined {
  const q = new Map(req.query);
  const c = findCredential(credentials, q.get('OSSAccessKeyId') ?? '');
  if ('code' in c) return c;
  const expires = Number(q.get('Expires'));
  if (!Number.isFinite(expires) || expires * 1000 < req.now.getTime()) return { code: 'AccessDenied', message: 'Request has expired.' };
  const expected = hmacSha1(c.accessKeySecret, v1StringToSign(req, String(q.get('Expires'))));
  if (!safeEqual(expected, q.get('Signature') ?? '')) return { code: 'SignatureDoesNotMatch', message: 'The request signature we calculated does not match the signature you provided. Check your key and signing method.' };
  return checkToken(c, req, q.get('security-token'));
}

/** RFC 3986 encoding as OSS V4 canonicalisation wants it. */
function encodeV4(s: string): string {
  return encodeURIComponent(s).replace(/[!'()*]/g, (ch) => `%${ch.charCodeAt(0).toString(16).toUpperCase()}`);
}

function v4Signature(secret: string, day: string, region: string, stringToSign: string): string {
  let key: Buffer = createHmac('sha256', `aliyun_v4${secret}`).update(day).digest();
  for (const part of [region, 'oss', 'aliyun_v4_request']) key = createHmac('sha256', key).update(part).digest();
  return createHmac('sha256', key).update(stringToSign).digest('hex');
}

function verifyV4(req: SignedRequest, auth: string, credentials: readonly Credential[]): AuthFailure | undefined {
  const m = /^OSS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/oss\/aliyun_v4_request,(?:AdditionalHeaders=([^,]*),)?Signature=([0-9a-f]{64})$/.exec(auth);
  if (!m) return { code: 'AccessDenied', message: 'Authorization header is invalid.' };
  const [, id, day, region, additional = '', signature] = m;
  const c = findCredential(credentials, id);
  if ('code' in c) return c;
  // The scope names the region the request was signed for; a signature for another region is not ours.
  if (region !== req.region) return { code: 'AccessDenied', message: `Invalid credential scope region ${JSON.stringify(region)}: this server is in ${JSON.stringify(req.region)}.` };
  const payloadHash = req.headers['x-oss-content-sha256'];
  if (payloadHash !== undefined && payloadHash !== 'UNSIGNED-PAYLOAD' && !/^[0-9a-f]{64}$/.test(payloadHash)) {
    return { code: 'AccessDenied', message: 'x-oss-content-sha256 must be UNSIGNED-PAYLOAD or the hex SHA-256 of the body.' };
  }
  const date = req.headers['x-oss-date'];
  if (date === undefined || !date.startsWith(day)) return { code: 'AccessDenied', message: 'x-oss-date is required and must match the credential scope.' };
  const iso = date.replace(/^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/, '$1-$2-$3T$4:$5:$6Z');
  const additionalHeaders = additional === '' ? [] : additional.split(';');
  const headerNames = new Set(additionalHeaders);
  for (const k of Object.keys(req.headers)) if (k === 'content-type' || k === 'content-md5' || k.startsWith('x-oss-')) headerNames.add(k);
  const canonicalHeaders = [...headerNames].sort().map((k) => `${k}:${(req.headers[k] ?? '').trim()}\n`).join('');
  const uri = encodeV4(req.bucket === undefined ? '/' : `/${req.bucket}/${req.key ?? ''}`).replace(/%2F/g, '/');
  const sorted = [...req.query].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  // A parameter sent as `?name=` may have been signed as `name` or `name=`: the wire cannot tell which.
  const queryForms = [
    sorted.map(([k, v]) => (v === undefined || v === '' ? encodeV4(k) : `${encodeV4(k)}=${encodeV4(v)}`)).join('&'),
    sorted.map(([k, v]) => (v === undefined ? encodeV4(k) : `${encodeV4(k)}=${encodeV4(v)}`)).join('&'),
  ];
  const ok = queryForms.some((query) => {
    const canonicalRequest = [req.method, uri, query, canonicalHeaders, additionalHeaders.join(';'), req.headers['x-oss-content-sha256'] ?? 'UNSIGNED-PAYLOAD'].join('\n');
    const stringToSign = ['OSS4-HMAC-SHA256', date, `${day}/${region}/oss/aliyun_v4_request`, createHash('sha256').update(canonicalRequest).digest('hex')].join('\n');
    return safeEqual(v4Signature(c.accessKeySecret, day, region, stringToSign), signature);
  });
  if (!ok) return { code: 'SignatureDoesNotMatch', message: 'The request signature we calculated does not match the signature you provided. Check your key and signing method.' };
  return checkSkew(new Date(iso), req.now) ?? checkToken(c, req);
}

/** Verify a request's signature. Returns `undefined` when it is authentic, or why it is refused. */
export function verifyRequest(req: SignedRequest, credentials: readonly Credential[]): AuthFailure | undefined {
  const auth = req.headers.authorization;
  if (auth?.startsWith('OSS4-HMAC-SHA256 ')) return verifyV4(req, auth, credentials);
  if (auth?.startsWith('OSS ')) return verifyV1Header(req, auth, credentials);
  if (req.query.some(([k]) => k === 'Signature')) return verifyV1Query(req, credentials);
  return { code: 'AccessDenied', message: 'You have no right to access this object because the request is anonymous.' };
}
