/**
 * Optional HMAC-signed process strings: with a secret configured, the public can only request the
 * variants someone signed, so nobody can make the service render unbounded variants for free.
 * HMAC-SHA-256 over "<bucket>/<key>\n<process>" with Web Crypto (every runtime imgpipe targets has it),
 * sent as URL-safe Base64 in the `x-imgpipe-signature` query parameter.
 */
export const SIGNATURE_PARAM = 'x-imgpipe-signature';
/**
 * Optional expiry (Unix seconds), sent as `x-imgpipe-expires` and covered by the MAC (appended as a
 * third line), so it cannot be moved; without it a signature never expires, as before.
 */
export const EXPIRES_PARAM = 'x-imgpipe-expires';

const encoder = new TextEncoder();
const keys = new Map<string, Promise<CryptoKey>>();

function hmacKey(secret: string): Promise<CryptoKey> {
  let k = keys.get(secret);
  if (!k) {
    k = crypto.subtle.importKey('raw', encoder.encode(secret), { name: 'HMAC', hash: 'SHA-256' }, false, ['sign', 'verify']);
    keys.set(secret, k);
  }
  return k;
}

function message(bucket: string | undefined, key: string, process: string, expires?: number): Uint8Array<ArrayBuffer> {
  return encoder.encode(`${bucket ?? ''}/${key}\n${process}${expires === undefined ? '' : `\n${expires}`}`);
}

function toBase64Url(bytes: Uint8Array): string {
  let bin = '';
  for (const b of bytes) bin += String.fromCharCode(b);
  return btoa(bin).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

function fromBase64Url(text: string): Uint8Array<ArrayBuffer> | undefined {
  if (!/^[A-Za-z0-9_-]+$/.test(text)) return undefined;
  try {
    const bin = atob(text.replace(/-/g, '+').replace(/_/g, '/') + '='.repeat((4 - (text.length % 4)) % 4));
    return Uint8Array.from(bin, (c) => c.charCodeAt(0));
  } catch {
    return undefined;
  }
}

/**
 * The signature to append as `&x-imgpipe-signature=<value>` for this key and process string; with
 * `expires` (Unix seconds) also append `&x-imgpipe-expires=<expires>`.
 */
export async function signProcess(secret: string, key: string, process: string, bucket?: string, expires?: number): Promise<string> {
  const sig = await crypto.subtle.sign('HMAC', await hmacKey(secret), message(bucket, key, process, expires));
  return toBase64Url(new Uint8Array(sig));
}

/** Constant-time check (Web Crypto's verify) of a signature from a request. */
export async function verifyProcess(secret: string, key: string, process: string, signature: string, bucket?: string, expires?: number): Promise<boolean> {
  const sig = fromBase64Url(signature);
  if (!sig) return false;
  return crypto.subtle.verify('HMAC', await hmacKey(secret), sig, message(bucket, key, process, expires));
}
