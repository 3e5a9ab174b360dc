/**
 * CloudEvents over HTTP (EventBridge's HTTP/HTTPS targets and FC HTTP triggers): binary mode (the
 * `ce-*` headers carry the attributes, the body is `data`), structured mode
 * (`application/cloudevents+json`) and batches. The CloudEvents SDK implements the binding; this
 * file turns its result into `UploadEvent`s and its exceptions into INVALID_EVENT.
 */
import { CloudEvent, HTTP } from 'cloudevents';
import { ImgpipeError, describeValue } from '../../src/index.js';
import { parseUploadEvents, type UploadEvent } from '../events/upload-event.js';

export interface HttpMessage {
  /** Header names in any case; several values may be an array or comma-joined. */
  readonly headers: Readonly<Record<string, string | readonly string[] | undefined>>;
  /** The raw body. */
  readonly body: string | Uint8Array;
}

/** Parse an HTTP request carrying one or more OSS CloudEvents into upload events. */
export function parseHttpCloudEvents(message: HttpMessage): readonly UploadEvent[] {
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(message.headers)) {
    if (v !== undefined) headers[k.toLowerCase()] = typeof v === 'string' ? v : v.join(',');
  }
  const body = typeof message.body === 'string' ? message.body : new TextDecoder().decode(message.body);
  if (!HTTP.isEvent({ headers, body })) {
    throw new ImgpipeError(
      'INVALID_EVENT',
      `Expected a CloudEvent over HTTP (ce-* headers, or content-type application/cloudevents+json) but received content-type ${describeValue(headers['content-type'])}`,
    );
  }
  let events: CloudEvent<unknown> | CloudEvent<unknown>[];
  try {
    events = HTTP.toEvent({ headers, body }) as CloudEvent<unknown> | CloudEvent<unknown>[];
  } catch (cause) {
    throw new ImgpipeError('INVALID_EVENT', `Expected a valid CloudEvent over HTTP but the CloudEvents binding refused it: ${cause instanceof Error ? cause.message : describeValue(cause)}`, { cause });
  }
  const list = Array.isArray(events) ? events : [events];
  // The SDK's own JSON form is the structured-mode envelope that `parseUploadEvents` reads.
  return parseUploadEvents(list.map((e) => e.toJSON()));
}

/**
 * Build the HTTP message EventBridge sends for a CloudEvent, in binary or structured mode: for
 * driving an HTTP-triggered handler (`httpHandler`) locally or in tests.
 */
export function toHttpCloudEvent(event: Readonly<Record<string, unknown>>, mode: 'binary' | 'structured'): { headers: Record<string, string>; body: string } {
  const ce = new CloudEvent(event as ConstructorParameters<typeof CloudEvent>[0], false);
  const message = mode === 'binary' ? HTTP.binary(ce) : HTTP.structured(ce);
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(message.headers)) if (v !== undefined) headers[k] = Array.isArray(v) ? v.join(',') : String(v);
  return { headers, body: typeof message.body === 'string' ? message.body : JSON.stringify(message.body) };
}
