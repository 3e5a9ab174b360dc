/**
 * Alibaba Cloud's V3 request signature (`ACS3-HMAC-SHA256`), which the official FC 3.0 SDK
 * (`@alicloud/fc20230330`, through `@alicloud/openapi-client`) puts on every API call, InvokeFunction
 * included. The backfill signs its FC requests with this file instead of the SDK: the SDK and its
 * Tea runtime are about 5 MB installed for one POST and one GET, and the signature is 60 lines of
 * node:crypto. The local server verifies with the same canonicalisation, so a request the emulator
 * accepts is one built to the published rules (SDK interoperability itself is not tested here).
 *
 *   CanonicalRequest = METHOD \n CanonicalURI \n CanonicalQuery \n CanonicalHeaders \n SignedHeaders \n hex(SHA256(body))
 *   StringToSign     = "ACS3-HMAC-SHA256" \n hex(SHA256(CanonicalRequest))
 *   Authorization    = ACS3-HMAC-SHA256 Credential=<AccessKeyId>,SignedHeaders=<h1;h2>,Signature=hex(HMAC-SHA256(secret, StringToSign))
 */
import { createHash, createHmac, randomUUID, timingSafeEqual } from 'node:crypto';

export const ACS3 = 'ACS3-HMAC-SHA256';

export interface Acs3Credential {
  readonly accessKeyId: string;
  readonly accessKeySecret: string;
  readonly securityToken?: string;
}

/** RFC 3986 percent-encoding (encodeURIComponent leaves !'()* alone; the signature does not). */
function rfc3986(s: string): string {
  return encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

const sha256 = (data: Uint8Array | string) => createHash('sha256').update(data).digest('hex');

/** Headers that take part in the signature: host, content-type, x-acs-* and x-fc-*. */
const signable = (name: string) => name === 'host' || name === 'content-type' || name.startsWith('x-acs-') || name.startsWith('x-fc-');

export function canonicalRequest(method: string, path: string, query: readonly [string, string][], headers: Readonly<Record<string, string>>, signed: readonly string[], bodyHash: string): string {
  const uri = path.split('/').map(rfc3986).join('/');
  const q = [...query].map(([k, v]) => [rfc3986(k), rfc3986(v)]).sort(([a, av], [b, bv]) => (a < b ? -1 : a > b ? 1 : av < bv ? -1 : av > bv ? 1 : 0)).map(([k, v]) => `${k}=${v}`).join('&');
  const h = signed.map((n) => `${n}:${(headers[n] ?? '').trim()}\n`).join('');
  return `${method.toUpperCase()}\n${uri}\n${q}\n${h}\n${signed.join(';')}\n${bodyHash}`;
}

function signature(secret: string, canonical: string): string {
  return createHmac('sha256', secret).update(`${ACS3}\n${sha256(canonical)}`).digest('hex');
}

/**
 * Sign a request: returns every header to send (the given ones, lower-cased, plus x-acs-date,
 * x-acs-signature-nonce, x-acs-content-sha256, the token and Authorization).
 */
export function signAcs3(req: { method: string; host: string; path: string; query?: readonly [string, string][]; headers?: Readonly<Record<string, string>>; body?: Uint8Array }, cred: Acs3Credential, now = new Date()): Record<string, string> {
  const body = req.body ?? new Uint8Array(0);
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(req.headers ?? {})) headers[k.toLowerCase()] = v;
  headers.host = req.host;
  headers['x-acs-date'] = now.toISOString().replace(/\.\d{3}Z$/, 'Z');
  headers['x-acs-signature-nonce'] = randomUUID();
  headers['x-acs-content-sha256'] = sha256(body);
  if (cred.securityToken) headers['x-acs-security-token'] = cred.securityToken;
  const signed = Object.keys(headers).filter(signable).sort();
  const canonical = canonicalRequest(req.method, req.path, req.query ?? [], headers, signed, headers['x-acs-content-sha256']);
  headers.authorization = `${ACS3} Credential=${cred.accessKeyId},SignedHeaders=${signed.join(';')},Signature=${signature(cred.accessKeySecret, canonical)}`;
  return headers;
}

export interface Acs3Failure {
  readonly status: number;
  readonly code: string;
  readonly message: string;
}

/** Check a signed request. Undefined when it is valid for one of `credentials`. */
export function verifyAcs3(req: { method: string; path: string; query: readonly [string, string][]; headers: Readonly<Record<string, string | undefined>>; body: Uint8Array }, credentials: readonly Acs3Credential[], now = new Date(), skewMs = 15 * 60_000): Acs3Failure | undefined {
  const auth = req.headers.authorization;
  if (!auth) return { status: 403, code: 'MissingAuthorization', message: 'The request is not signed: FC API requests carry an ACS3-HMAC-SHA256 Authorization header.' };
  const m = new RegExp(`^${ACS3} Credential=([^,]+),SignedHeaders=([^,]+),Signature=([0-9a-f]{64})$`).exec(auth.trim());
  if (!m) return { status: 403, code: 'InvalidAuthorization', message: `The Authorization header is not of the form "${ACS3} Credential=...,SignedHeaders=...,Signature=...".` };
  const [, accessKeyId, signedList, sig] = m;
  const cred = credentials.find((c) => c.accessKeyId === accessKeyId);
  if (!cred) return { status: 403, code: 'InvalidAccessKeyId.NotFound', message: `Specified access key is not found: ${accessKeyId}` };
  const signed = signedList.split(';');
  for (const need of ['host', 'x-acs-date', 'x-acs-content-sha256']) {
    if (!signed.includes(need)) return { status: 403, code: 'IncompleteSignature', message: `The signature must cover the ${need} header.` };
  }
  if (cred.securityToken && req.headers['x-acs-security-token'] !== cred.securityToken) return { status: 403, code: 'InvalidSecurityToken', message: 'The security token is missing or does not match the access key.' };
  const date = Date.parse(req.headers['x-acs-date'] ?? '');
  if (!Number.isFinite(date) || Math.abs(now.getTime() - date) > skewMs) return { status: 403, code: 'RequestTimeTooSkewed', message: `x-acs-date ${JSON.stringify(req.headers['x-acs-date'] ?? '')} is more than 15 minutes from the server's time.` };
  const bodyHash = sha256(req.body);
  if (req.headers['x-acs-content-sha256'] !== bodyHash) return { status: 400, code: 'ContentSHA256Mismatch', message: 'x-acs-content-sha256 does not match the body received.' };
  const headers: Record<string, string> = {};
  for (const n of signed) headers[n] = req.headers[n] ?? '';
  const expected = signature(cred.accessKeySecret, canonicalRequest(req.method, req.path, req.query, headers, signed, bodyHash));
  if (!timingSafeEqual(Buffer.from(expected), Buffer.from(sig))) return { status: 403, code: 'SignatureDoesNotMatch', message: 'The request signature we calculated does not match the signature you provided.' };
  return undefined;
}
