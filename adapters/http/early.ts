/**
 * The refusal the Node listener (node.ts) and the FC HTTP handler (fc.ts) answer before building a
 * Request. While the admission refuses every new transform, a transform request (a GET or HEAD with a
 * valid `image/...` process string that is not `info` alone, no If-None-Match, no Origin) for an
 * object recently seen to exist (known.ts) is answered 503 SlowDown here, from the request line and the
 * parsed string: no Request, no URL, no lookup. Under a storm of clients retrying at once this keeps a
 * refusal's cost on the main thread to the HTTP parse and one write, so the workers keep the cores
 * (with FC's instance concurrency on, up to 100 requests arrive at one instance at once). Everything
 * else goes to the handler: a bad string gets its 400, a request that is unauthorised or for a missing
 * key hears that. Runtime-neutral.
 */
import { parseProcess, resolveOutputLimits } from '../../src/index.js';
import { DEFAULT_MAX_PROCESS_LENGTH, ERROR_HEADERS, errorXml, type HandlerOptions } from './handler.js';
import { parseHost } from './host.js';
import type { Admission } from './admission.js';
import { bucketFromHost, knownEntry, knownObjects } from './known.js';

/** What the early refusal reads of a request, as each wrapper has it before any Request exists. */
export interface EarlyRequest {
  readonly method: string;
  /** The URL path, still percent-encoded, starting with '/'. */
  readonly path: string;
  /** The decoded `x-oss-process` query value, or null: read only while the admission refuses. */
  readonly process: () => string | null;
  readonly host: string | undefined;
  /** True when the request has If-None-Match or Origin (a 304 or CORS answer is the handler's). */
  readonly conditional: boolean;
}

export interface EarlyAnswer {
  readonly status: number;
  readonly headers: Record<string, string>;
  /** Undefined for HEAD. */
  readonly body: Uint8Array | undefined;
}

/** The 503 for a request refused now, or undefined when the handler must answer it. */
export type EarlyRefusal = (request: EarlyRequest) => EarlyAnswer | undefined;

export function createEarlyRefusal(options: HandlerOptions, admission: Admission): EarlyRefusal {
  const maxActions = resolveOutputLimits(options.outputLimits).maxActions;
  const maxProcessLength = options.maxProcessLength ?? DEFAULT_MAX_PROCESS_LENGTH;
  const fromHost = bucketFromHost(options);
  const known = knownObjects(admission);
  return (r) => {
    if ((r.method !== 'GET' && r.method !== 'HEAD') || r.conditional || !admission.refusing()) return undefined;
    const process = r.process();
    if (process === null || !process.startsWith('image/') || process.length > maxProcessLength) return undefined;
    // Parsed as the URL parser leaves a path (percent-encoding normalised), so it names the object as
    // the handler does; an unusual path only misses and goes to the handler.
    const entry = knownEntry(fromHost, r.host, r.path);
    if (entry === undefined || !known.has(entry)) return undefined;
    let ops;
    try {
      ops = parseProcess(process, { extensions: options.extensions, maxActions });
    } catch {
      return undefined; // the handler answers it (400)
    }
    if (ops.length === 1 && ops[0].action === 'info') return undefined;
    const refusal = admission.refuseNow();
    if (!refusal) return undefined;
    const requestId = crypto.randomUUID().replace(/-/g, '').toUpperCase();
    const body = new TextEncoder().encode(errorXml('SlowDown', refusal.message, requestId, options.hostId ?? parseHost(r.host)?.host ?? 'localhost'));
    return {
      status: 503,
      headers: {
        ...ERROR_HEADERS, 'x-oss-request-id': requestId, 'retry-after': String(refusal.retryAfter),
        'x-content-type-options': 'nosniff', 'content-length': String(body.byteLength),
      },
      body: r.method === 'HEAD' ? undefined : body,
    };
  };
}
