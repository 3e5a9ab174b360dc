/**
 * The Node http shape of the one handler, for `imgpipe serve` and any Node server:
 *
 *   http.createServer(createNodeListener({ source: storageSource(bucket) })).listen(8080)
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Readable } from 'node:stream';
import { createFetchHandler, type FetchHandler, type HandlerOptions } from './handler.js';

export type NodeListener = (req: IncomingMessage, res: ServerResponse) => void;

export function createNodeListener(options: HandlerOptions | FetchHandler): NodeListener {
  const handle = typeof options === 'function' ? options : createFetchHandler(options);
  return (req, res) => {
    const controller = new AbortController();
    // A client that goes away cancels the work at the next step boundary.
    res.on('close', () => { if (!res.writableFinished) controller.abort(); });
    const host = req.headers.host ?? 'localhost';
    const headers = new Headers();
    for (const [k, v] of Object.entries(req.headers)) {
      if (v !== undefined) headers.set(k, Array.isArray(v) ? v.join(', ') : v);
    }
    const method = req.method ?? 'GET';
    const body = method === 'GET' || method === 'HEAD' ? undefined : (Readable.toWeb(req) as ReadableStream<Uint8Array>);
    const request = new Request(`http://${host}${req.url ?? '/'}`, { method, headers, body, signal: controller.signal, duplex: 'half' } as RequestInit);
    handle(request).then(async (response) => {
      const out: Record<string, string> = {};
      response.headers.forEach((value, name) => { out[name] = value; });
      res.writeHead(response.status, out);
      res.end(response.body ? new Uint8Array(await response.arrayBuffer()) : undefined);
    }).catch((e: unknown) => {
      res.writeHead(500, { 'content-type': 'text/plain' });
      res.end(`Internal error: ${String((e as Error)?.message ?? e)}`);
    });
  };
}
