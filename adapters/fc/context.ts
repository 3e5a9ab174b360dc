import { ImgpipeError, describeValue } from '../../src/index.js';
import type { HttpMessage } from './cloudevents.js';
import { readEventJson } from '../events/upload-event.js';

/**
 * The parts of the Function Compute 3.0 Node.js `context` the adapters read (spec §7). Everything is
 * optional: the same handler runs under FC, under the local server, and in tests.
 */
export interface FcCredentials {
  readonly accessKeyId?: string;
  readonly accessKeySecret?: string;
  readonly securityToken?: string;
}

export interface FcContext {
  readonly requestId?: string;
  /** STS credentials of the function's role; empty when no role is set. */
  readonly credentials?: FcCredentials;
  /** The region the function runs in, e.g. `cn-shanghai`. */
  readonly region?: string;
  readonly accountId?: string;
  readonly function?: { readonly name?: string; readonly handler?: string; readonly memory?: number; readonly timeout?: number };
  readonly service?: { readonly name?: string; readonly qualifier?: string; readonly versionId?: string };
  readonly retryCount?: number;
}

/** The FC 3.0 event-handler shape: `event` is a Buffer (a Uint8Array) of the trigger's JSON. */
export type FcEventHandler<R = unknown> = (event: Uint8Array | string | object, context: FcContext) => Promise<R>;

/** What an FC 3.0 HTTP trigger handler returns. */
export interface FcHttpResponse {
  readonly statusCode: number;
  readonly headers?: Readonly<Record<string, string>>;
  readonly isBase64Encoded?: boolean;
  readonly body: string;
}

/**
 * Read the FC 3.0 HTTP trigger event (`{version, rawPath, headers, body, isBase64Encoded,
 * requestContext}`, as a Buffer) into headers and body bytes.
 */
export function readHttpTriggerEvent(event: unknown): HttpMessage {
  const json = readEventJson(event);
  if (typeof json !== 'object' || json === null || Array.isArray(json) || typeof json.headers !== 'object' || json.headers === null || Array.isArray(json.headers)) {
    throw new ImgpipeError('INVALID_EVENT', `Expected an HTTP trigger event with a headers object but received ${describeValue(json)}`);
  }
  const body = json.body ?? '';
  if (typeof body !== 'string') throw new ImgpipeError('INVALID_EVENT', `Expected a string at event.body but received ${describeValue(body)}`);
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(json.headers)) if (typeof v === 'string') headers[k] = v;
  // Binary bodies arrive Base64-encoded; atob keeps this runtime-neutral.
  const bytes = json.isBase64Encoded === true ? Uint8Array.from(atob(body), (c) => c.charCodeAt(0)) : body;
  return { headers, body: bytes };
}
