/**
 * The Function Compute 3.0 HTTP-trigger shape of the one handler: the built-in Node.js runtime hands
 * over the request as JSON (a Buffer), and takes back `{statusCode, headers, isBase64Encoded, body}`.
 * Image bodies are always returned Base64-encoded.
 *
 *   export const handler = createFcHttpHandler({ source: storageSource(ossStorage) });
 */
import { ImgpipeError } from '../../src/index.js';
import { bodyBytes, errorResponse, type FetchHandler, type HandlerOptions } from './handler.js';
import { parseHost } from './host.js';
import { servedHandler, type NodeServingOptions } from './serving.js';
import type { EarlyRequest } from './early.js';

/** The HTTP-trigger event (events-and-runtime.md §7). */
export interface FcHttpEvent {
  readonly version?: string;
  readonly rawPath: string;
  readonly body?: string;
  readonly isBase64Encoded?: boolean;
  readonly headers?: Readonly<Record<string, string>>;
  readonly queryParameters?: Readonly<Record<string, string>>;
  readonly requestContext?: {
    readonly domainName?: string;
    readonly http?: { readonly method?: string; readonly path?: string };
  };
}

export interface FcHttpResponse {
  statusCode: number;
  headers: Record<string, string>;
  isBase64Encoded: boolean;
  body: string;
}

export type FcHttpHandler = (event: Uint8Array | string | FcHttpEvent, context?: unknown) => Promise<FcHttpResponse>;

export function createFcHttpHandler(options: (HandlerOptions & NodeServingOptions) | FetchHandler): FcHttpHandler {
  // Transforms on a worker pool and admission control sized from the instance (serving.ts), and
  // refusals answered before a Request is built (early.ts): with instance concurrency on, up to 100
  // requests reach one instance at once.
  const { handle, refuseEarly } = servedHandler(options);
  return async (event) => {
    const parsed = parseEvent(event);
    const refused = refuseEarly?.(earlyRequestOf(parsed));
    if (refused) {
      return { statusCode: refused.status, headers: refused.headers, isBase64Encoded: true, body: refused.body ? Buffer.from(refused.body).toString('base64') : '' };
    }
    let response: Response;
    try {
      response = await handle(fcEventToRequest(parsed));
    } catch (e) {
      // A path or header that can't make a Request is the client's fault: 400, not a failed invocation.
      response = errorResponse(e, crypto.randomUUID().replace(/-/g, '').toUpperCase(), {}, parseHost(headerOf(parsed, 'host'))?.host ?? 'localhost');
    }
    const body = bodyBytes(response) ?? new Uint8Array(await response.arrayBuffer());
    const headers: Record<string, string> = {};
    response.headers.forEach((value, name) => { headers[name] = value; });
    return { statusCode: response.status, headers, isBase64Encoded: true, body: Buffer.from(body).toString('base64') };
  };
}

/** What the early refusal reads of the event, read as fcEventToRequest reads it. */
function earlyRequestOf(event: FcHttpEvent): EarlyRequest {
  return {
    method: (event.requestContext?.http?.method ?? 'GET').toUpperCase(),
    path: event.rawPath.startsWith('/') ? event.rawPath : `/${event.rawPath}`,
    process: () => event.queryParameters?.['x-oss-process'] ?? null,
    host: headerOf(event, 'host') ?? event.requestContext?.domainName,
    conditional: headerOf(event, 'if-none-match') !== undefined || headerOf(event, 'origin') !== undefined,
  };
}

/** A header of the event, whatever the case of its name (`name` in lower case). */
function headerOf(event: FcHttpEvent, name: string): string | undefined {
  const headers = event.headers;
  if (!headers) return undefined;
  if (Object.prototype.hasOwnProperty.call(headers, name)) return headers[name];
  for (const k of Object.keys(headers)) if (k.toLowerCase() === name) return headers[k];
  return undefined;
}

function parseEvent(event: Uint8Array | string | FcHttpEvent): FcHttpEvent {
  if (typeof event === 'object' && !(event instanceof Uint8Array)) return event;
  const text = typeof event === 'string' ? event : new TextDecoder().decode(event);
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (e) {
    throw new ImgpipeError('INVALID_EVENT', `Expected an FC HTTP-trigger event (JSON) but received ${text.length} bytes that are not JSON`, { cause: e });
  }
  if (typeof parsed !== 'object' || parsed === null || typeof (parsed as FcHttpEvent).rawPath !== 'string') {
    throw new ImgpipeError('INVALID_EVENT', 'Expected an FC HTTP-trigger event with a rawPath but received another JSON value');
  }
  return parsed as FcHttpEvent;
}

/**
 * Rebuild the Request the trigger received. `rawPath` is still percent-encoded, as on the wire. The
 * URL's authority is fixed: the Host header (or the trigger's domain name) travels as a header and is
 * checked where it is used (host.ts), so a malformed one is a 400 rather than a throw here.
 */
export function fcEventToRequest(event: FcHttpEvent): Request {
  const headers = new Headers(event.headers ?? {});
  const domainName = event.requestContext?.domainName;
  if (!headers.has('host') && domainName !== undefined) headers.set('host', domainName);
  const url = new URL(`https://localhost${event.rawPath.startsWith('/') ? '' : '/'}${event.rawPath}`);
  for (const [k, v] of Object.entries(event.queryParameters ?? {})) url.searchParams.append(k, v);
  const method = (event.requestContext?.http?.method ?? 'GET').toUpperCase();
  const hasBody = method !== 'GET' && method !== 'HEAD' && event.body !== undefined && event.body !== '';
  const body = hasBody ? (event.isBase64Encoded ? Buffer.from(event.body!, 'base64') : event.body!) : undefined;
  return new Request(url, { method, headers, body });
}
