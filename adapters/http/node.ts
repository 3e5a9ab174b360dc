/**
 * The Node http shape of the one handler, for `imgpipe serve` and any Node server:
 *
 *   http.createServer(createNodeListener({ source: storageSource(bucket) })).listen(8080)
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Readable } from 'node:stream';
import { ImgpipeError, describeValue } from '../../src/index.js';
import { bodyBytes, errorResponse, type FetchHandler, type HandlerOptions } from './handler.js';
import { parseHost } from './host.js';
import { servedHandler, type NodeServingOptions } from './serving.js';

export type NodeListener = (req: IncomingMessage, res: ServerResponse) => void;

/**
 * The Request's URL has a fixed authority: the client's Host header is passed along as a header
 * (checked where it is used, see host.ts) and never parsed as part of a URL, so no header value can
 * make building the Request throw. Everything runs inside one error handler: a request that can't
 * be understood is a 400, a failure after the headers went out ends the connection, and nothing
 * reaches the process as an uncaught exception.
 */
export function createNodeListener(options: (HandlerOptions & NodeServingOptions) | FetchHandler): NodeListener {
  // Transforms on a worker pool and admission control sized from the instance (serving.ts), and
  // refusals answered before a Request is built (early.ts).
  const { handle, refuseEarly } = servedHandler(options);
  return (req, res) => {
    if (refuseEarly) {
      const target = req.url ?? '';
      const query = target.indexOf('?');
      // Only a target with x-oss-process is looked at: anything else is never refused early.
      if (query > 0 && target.startsWith('/') && target.includes('x-oss-process=', query)) {
        const refused = refuseEarly({
          method: req.method ?? 'GET', path: target.slice(0, query), process: () => new URLSearchParams(target.slice(query + 1)).get('x-oss-process'),
          host: req.headers.host, conditional: req.headers['if-none-match'] !== undefined || req.headers.origin !== undefined,
        });
        if (refused) {
          res.writeHead(refused.status, refused.headers);
          res.end(refused.body);
          return;
        }
      }
    }
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
