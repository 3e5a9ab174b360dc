/** Real localhost servers for the HTTP tests: an origin serving fixtures, and an FC HTTP-trigger stand-in. */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { readFile } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import type { FcHttpHandler } from '../../../adapters/http/fc.js';

export async function listen(listener: (req: IncomingMessage, res: ServerResponse) => void): Promise<{ server: Server; url: string }> {
  const server = createServer(listener);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

/** An origin over a directory, with ETags and HEAD, recording every request it answers. */
export function originListener(dir: URL, log: string[]) {
  return (req: IncomingMessage, res: ServerResponse) => {
    log.push(`${req.method} ${req.url}`);
    const name = decodeURIComponent((req.url ?? '/').slice(1));
    if (name.includes('..')) { res.writeHead(400).end(); return; }
    readFile(new URL(name, dir)).then((bytes) => {
      const etag = `"${createHash('md5').update(bytes).digest('hex').toUpperCase()}"`;
      res.writeHead(200, { etag, 'content-type': 'application/octet-stream', 'content-length': bytes.byteLength });
      res.end(req.method === 'HEAD' ? undefined : bytes);
    }, () => { res.writeHead(404).end(); });
  };
}

/**
 * What Function Compute's HTTP trigger does in front of the built-in runtime: turn the request into
 * the event JSON (as a Buffer), call the handler, turn its {statusCode, headers, isBase64Encoded, body}
 * back into an HTTP response.
 */
export function fcTriggerListener(handler: FcHttpHandler) {
  return (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(req.headers)) if (v !== undefined) headers[k] = Array.isArray(v) ? v.join(',') : v;
    const queryParameters: Record<string, string> = {};
    for (const k of new Set(url.searchParams.keys())) queryParameters[k] = url.searchParams.getAll(k).join(',');
    const event = {
      version: 'v1', rawPath: url.pathname, body: '', isBase64Encoded: false, headers, queryParameters,
      requestContext: {
        accountId: '123456', domainName: headers.host, domainPrefix: 'trigger', requestId: '1-test', time: new Date().toISOString(), timeEpoch: String(Date.now()),
        http: { method: req.method, path: decodeURIComponent(url.pathname), protocol: 'HTTP/1.1', sourceIp: '127.0.0.1', userAgent: headers['user-agent'] ?? '' },
      },
    };
    handler(Buffer.from(JSON.stringify(event)), { requestId: '1-test' }).then((out) => {
      const body = out.isBase64Encoded ? Buffer.from(out.body, 'base64') : Buffer.from(out.body);
      res.writeHead(out.statusCode, out.headers);
      res.end(body);
    }, (e: unknown) => { res.writeHead(502).end(String(e)); });
  };
}
