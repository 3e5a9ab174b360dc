/**
 * The Host a request was sent to, read from its `Host` header and checked, never trusted raw. A
 * server builds its Request URL with a fixed authority (`node.ts`, `fc.ts`): a URL made from a client's
 * Host (`Host: a b`) threw outside any error handling and took the whole process down. The header is
 * only consulted where the host matters (the bucket in `bucket.example.com`, the error's HostId), and a
 * malformed one is a 400. Runtime-neutral.
 */
import { ImgpipeError, describeValue } from '../../src/index.js';

/** RFC 3986 host (a DNS-style name, IPv4, or a bracketed IPv6 literal) with an optional port. */
const HOST = /^(?:[A-Za-z0-9_](?:[A-Za-z0-9_.-]{0,251}[A-Za-z0-9_])?|\[[0-9A-Fa-f:.]{2,45}\])(?::[0-9]{1,5})?$/;

export interface RequestHost {
  /** `name:port` as sent (lower-cased). */
  readonly host: string;
  /** The name alone. */
  readonly hostname: string;
}

/** A well-formed Host header, or undefined when it is absent or malformed. Never throws. */
export function hostHeader(request: Request): RequestHost | undefined {
  return parseHost(request.headers.get('host'));
}

/** `parseHost('Photos.example.com:8080')` -> { host: 'photos.example.com:8080', hostname: 'photos.example.com' }. */
export function parseHost(raw: string | null | undefined): RequestHost | undefined {
  if (typeof raw !== 'string' || !HOST.test(raw)) return undefined;
  const host = raw.toLowerCase();
  const hostname = host.startsWith('[') ? host.slice(0, host.indexOf(']') + 1) : host.replace(/:[0-9]+$/, '');
  return { host, hostname };
}

/**
 * The request's host: the Host header when present (it must be well-formed, else INVALID_ARGUMENT,
 * a 400), else the URL's authority (a runtime like workerd that sets it from the connection).
 */
export function requestHost(request: Request): RequestHost {
  const raw = request.headers.get('host');
  // An empty Host is what RFC 9112 asks for when the target has no authority: same as none.
  if (raw !== null && raw !== '') {
    const parsed = hostHeader(request);
    if (!parsed) {
      throw new ImgpipeError('INVALID_ARGUMENT', `Expected a Host header of a host name, IPv4 or [IPv6] address and an optional port but received ${describeValue(raw)}`, { details: { ossCode: 'InvalidArgument', header: 'host' } });
    }
    return parsed;
  }
  const url = new URL(request.url);
  return { host: url.host, hostname: url.hostname };
}
