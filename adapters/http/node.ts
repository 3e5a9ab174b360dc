/**
 * The Node http shape of the one handler, for `imgpipe serve` and any Node server:
 *
 *   http.createServer(createNodeListener({ source: storageSource(bucket) })).listen(8080)
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Readable } from 'node:stream';
import { ImgpipeError, describeValue, parseProcess, resolveOutputLimits } from '../../src/index.js';
import { bodyBytes, createFetchHandler, DEFAULT_MAX_PROCESS_LENGTH, errorResponse, errorXml, ERROR_HEADERS, type FetchHandler, type HandlerOptions } from './handler.js';
import { parseHost } from './host.js';
import { createAdmission, type Admission } from './admission.js';
import { withNodeServing, type NodeServingOptions } from './serving.js';

export type NodeListener = (req: IncomingMessage, res: ServerResponse) => void;

/**
 * The Request's URL has a fixed authority: the client's Host header is passed along as a header
 * (checked where it is used, see host.ts) and never parsed as part of a URL, so no header value can
 * make building the Request throw. Everything runs inside one error handler: a request that can't
 * be understood is a 400, a failure after the headers went out ends the connection, and nothing
 * reaches the process as an uncaught exception.
 */
export function createNodeListener(options: (HandlerOptions & NodeServingOptions) | FetchHandler): NodeListener {
  let handle: FetchHandler;
  let admission: Admission | undefined;
  let early: EarlyRefusal | undefined;
  if (typeof options === 'function') {
    handle = options;
  } else {
    // Transforms on a worker pool and admission control sized from the instance (serving.ts); the
    // admission is made here so that refusals can be answered before a Request is built (below).
    const served = withNodeServing(options);
    admission = !served.admission ? undefined : 'enter' in served.admission ? served.admission : createAdmission(served.admission);
    early = { hostId: options.hostId, extensions: options.extensions, maxActions: resolveOutputLimits(options.outputLimits).maxActions, maxProcessLength: options.maxProcessLength ?? DEFAULT_MAX_PROCESS_LENGTH };
    handle = createFetchHandler({ ...served, admission: admission ?? false });
  }
  return (req, res) => {
    if (admission && refuseEarly(req, res, admission, early!)) return;
    const controller = new AbortController();
    // A client that goes away cancels the work at the next step boundary.
    res.on('close', () => { if (!res.writableFinished) controller.abort(); });
    let request: Request;
    try {
      request = toRequest(req, controller.signal);
    } catch (e) {
      void send(res, errorResponse(e, requestIdOf(), {}, parseHost(req.headers.host)?.host ?? 'localhost', req.method === 'HEAD'));
      return;
    }
    handle(request).then((response) => send(res, response)).catch(() => {
      if (!res.headersSent) {
        res.writeHead(500, { 'content-type': 'text/plain', 'x-content-type-options': 'nosniff' });
        res.end('Internal error');
      } else {
        res.destroy();
      }
    });
  };
}

/** What the early refusal needs of the handler's options. */
interface EarlyRefusal {
  readonly hostId?: string;
  readonly extensions?: boolean;
  readonly maxActions: number;
  readonly maxProcessLength: number;
}

/**
 * While the admission refuses every new transform, a transform request (a GET or HEAD with a valid
 * `image/...` process string that is not `info` alone, no If-None-Match, no Origin) is answered 503
 * SlowDown here, from the request line and the parsed string: no Request, no URL, no lookup. Under a
 * storm of clients retrying at once this keeps a refusal's cost on the main thread to the HTTP parse
 * and one write, so the workers keep the cores. A bad string still gets its 400 from the handler; a
 * request that is unauthorised or for a missing key hears that once it is let in.
 */
function refuseEarly(req: IncomingMessage, res: ServerResponse, admission: Admission, o: EarlyRefusal): boolean {
  if ((req.method !== 'GET' && req.method !== 'HEAD') || req.headers['if-none-match'] !== undefined || req.headers.origin !== undefined) return false;
  if (!admission.refusing()) return false;
  const target = req.url ?? '';
  const query = target.indexOf('?');
  if (query < 0 || !target.startsWith('/') || !target.includes('x-oss-process=', query)) return false;
  const process = new URLSearchParams(target.slice(query + 1)).get('x-oss-process');
  if (process === null || !process.startsWith('image/') || process.length > o.maxProcessLength) return false;
  let ops;
  try {
    ops = parseProcess(process, { extensions: o.extensions, maxActions: o.maxActions });
  } catch {
    return false; // the handler answers it (400)
  }
  if (ops.length === 1 && ops[0].action === 'info') return false;
  const refusal = admission.refuseNow();
  if (!refusal) return false;
  const requestId = requestIdOf();
  const body = Buffer.from(errorXml('SlowDown', refusal.message, requestId, o.hostId ?? parseHost(req.headers.host)?.host ?? 'localhost'));
  res.writeHead(503, {
    ...ERROR_HEADERS, 'x-oss-request-id': requestId, 'retry-after': String(refusal.retryAfter),
    'x-content-type-options': 'nosniff', 'content-length': String(body.byteLength),
  });
  res.end(req.method === 'HEAD' ? undefined : body);
  return true;
}

function toRequest(req: IncomingMessage, signal: AbortSignal): Request {
  const target = req.url ?? '/';
  // Origin-form only ("/path?query"). An absolute-form target ("http://other/x") or "*" would make
  // the URL's authority the client's choice.
  if (!target.startsWith('/')) {
    throw new ImgpipeError('INVALID_ARGUMENT', `Expected a request target starting with "/" but received ${describeValue(target)}`, { details: { ossCode: 'InvalidArgument' } });
  }
  const headers = new Headers();
  for (const [k, v] of Object.entries(req.headers)) {
    if (v !== undefined) headers.set(k, Array.isArray(v) ? v.join(', ') : v);
  }
  const method = req.method ?? 'GET';
  const body = method === 'GET' || method === 'HEAD' ? undefined : (Readable.toWeb(req) as ReadableStream<Uint8Array>);
  return new Request(`http://localhost${target}`, { method, headers, body, signal, duplex: 'half' } as RequestInit);
}

async function send(res: ServerResponse, response: Response): Promise<void> {
  const out: Record<string, string> = {};
  response.headers.forEach((value, name) => { out[name] = value; });
  // The handler's own image answers are written from their bytes; anything else is read from the Response.
  const body = bodyBytes(response) ?? (response.body ? new Uint8Array(await response.arrayBuffer()) : undefined);
  if (res.headersSent || res.destroyed) return;
  res.writeHead(response.status, out);
  res.end(body);
}

function requestIdOf(): string {
  return crypto.randomUUID().replace(/-/g, '').toUpperCase();
}
