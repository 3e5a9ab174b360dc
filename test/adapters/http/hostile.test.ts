/**
 * Attacks on the HTTP handler, each reproduced against real local servers: an origin with a public
 * prefix and a private path beside it (standing in for an internal service or the cloud's metadata
 * endpoint), the Node listener reached over raw HTTP, and the FC trigger shape. Every attack must be
 * refused with its status, OSS code and message, and must reach nothing outside the origin's prefix.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { request as httpRequest, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { connect } from 'node:net';
import { readFile } from 'node:fs/promises';
import '../../../entries/node.js';
import { createFetchHandler, type HandlerOptions } from '../../../adapters/http/handler.js';
import { createNodeListener } from '../../../adapters/http/node.js';
import { createFcHttpHandler } from '../../../adapters/http/fc.js';
import { fetchSource } from '../../../adapters/http/source.js';
import { EXPIRES_PARAM, SIGNATURE_PARAM, signProcess } from '../../../adapters/http/sign.js';
import { listen } from './servers.js';
import { rejection } from '../../helpers/errors.js';

const IMAGES = new URL('../../fixtures/images/', import.meta.url);
const TOKEN = 'Bearer origin-secret-token';
const servers: Server[] = [];
/** Every request the origin host received: method, raw target, and whether it carried the token. */
const originLog: string[] = [];
/** Every URL the source asked fetch for. */
const fetched: string[] = [];
let originUrl: string;
let base: string;

/** `/public/<name>` serves fixtures; `/private/token` is what an attacker is after. */
function originListener(req: IncomingMessage, res: ServerResponse): void {
  originLog.push(`${req.method} ${req.url}${req.headers.authorization === TOKEN ? ' +token' : ''}`);
  const url = req.url ?? '/';
  if (url === '/private/token') { res.writeHead(200, { 'content-type': 'text/plain' }).end('s3cr3t'); return; }
  if (!url.startsWith('/public/')) { res.writeHead(404).end(); return; }
  const name = decodeURIComponent(url.slice('/public/'.length));
  if (name.includes('/') || name.includes('\\')) { res.writeHead(404).end(); return; }
  readFile(new URL(name, IMAGES)).then((bytes) => {
    res.writeHead(200, { 'content-type': 'image/jpeg', 'content-length': bytes.byteLength }).end(req.method === 'HEAD' ? undefined : bytes);
  }, () => { res.writeHead(404).end(); });
}

const recordingFetch: typeof fetch = (input, init) => {
  fetched.push(String(input instanceof Request ? input.url : input));
  return fetch(input, init);
};

function options(extra: Partial<HandlerOptions> = {}): HandlerOptions {
  return { source: fetchSource(`${originUrl}/public/`, { headers: { authorization: TOKEN }, fetch: recordingFetch }), ...extra };
}

/** GET a raw request target (no client-side normalisation of `..`, `%2e` or `//`). */
function rawGet(url: string, target: string, headers: Record<string, string> = {}): Promise<{ status: number; body: string; headers: IncomingMessage['headers'] }> {
  return new Promise((resolve, reject) => {
    const u = new URL(url);
    const req = httpRequest({ host: u.hostname, port: u.port, path: target, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode!, body: Buffer.concat(chunks).toString(), headers: res.headers }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** Write bytes on a raw socket and read the whole answer (the server closes or the status line arrives). */
function rawSocket(url: string, text: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const u = new URL(url);
    const socket = connect(Number(u.port), u.hostname);
    let out = '';
    socket.setEncoding('latin1');
    socket.on('data', (d: string) => { out += d; if (/\r\n\r\n/.test(out) && /<\/Error>|content-length: 0\r\n\r\n/i.test(out)) socket.end(); });
    socket.on('end', () => resolve(out));
    socket.on('close', () => resolve(out));
    socket.on('error', reject);
    socket.write(text);
  });
}

const messageOf = (xml: string) => /<Message>(.*)<\/Message>/s.exec(xml)?.[1];
const codeOf = (xml: string) => /<Code>(.*)<\/Code>/.exec(xml)?.[1];
const b64 = (s: string) => Buffer.from(s).toString('base64url');
const q = (process: string) => `?x-oss-process=${encodeURIComponent(process)}`;

beforeAll(async () => {
  const o = await listen(originListener);
  servers.push(o.server);
  originUrl = o.url;
  const h = await listen(createNodeListener(options()));
  servers.push(h.server);
  base = h.url;
});
afterAll(async () => {
  await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
});

/** Nothing outside `/public/` was fetched or reached the origin host. */
function expectContained(): void {
  expect(fetched.filter((u) => !u.startsWith(`${originUrl}/public/`))).toEqual([]);
  expect(originLog.filter((l) => !l.split(' ')[1].startsWith('/public/'))).toEqual([]);
}

const KEY_RULE = 'Expected an object key of 1-1023 bytes without control characters or path traversal for key but received';

describe('SSRF through the source key', () => {
  it.each([
    ['protocol-relative to the metadata service', '/%2F%2F100.100.100.200%2Flatest%2Fmeta-data%2F', '"//100.100.100.200/latest/meta-data/": it starts with a path separator'],
    ['protocol-relative to a host:port', '/%2F%2F127.0.0.1:1%2Fprivate%2Ftoken', '"//127.0.0.1:1/private/token": it starts with a path separator'],
    ['backslashes', '/%5C%5C100.100.100.200%5Clatest', '"\\\\\\\\100.100.100.200\\\\latest": it starts with a path separator'],
    ['..%2F out of the prefix', '/..%2Fprivate%2Ftoken', `"../private/token": it contains a '.' or '..' path segment`],
    ['%2E%2E%2F out of the prefix', '/%2E%2E%2Fprivate%2Ftoken', `"../private/token": it contains a '.' or '..' path segment`],
    ['.. deeper in the key', '/a%2F..%2F..%2Fprivate%2Ftoken', `"a/../../private/token": it contains a '.' or '..' path segment`],
    ['..\\ out of the prefix', '/..%5Cprivate%5Ctoken', `"..\\\\private\\\\token": it contains a '.' or '..' path segment`],
    ['a single . segment', '/.%2Fprivate', `"./private": it contains a '.' or '..' path segment`],
    ['a NUL', '/a%00b.jpg', '"a\\u0000b.jpg": it contains the control character U+0000 at index 1'],
    ['CR LF (header injection)', '/a%0D%0AX-Injected:%201', '"a\\r\\nX-Injected: 1": it contains the control character U+000D at index 1'],
  ])('%s: 400 InvalidArgument, nothing fetched', async (_name, target, reason) => {
    const before = fetched.length;
    const res = await rawGet(base, target + q('image/resize,w_10'));
    expect(res.status).toBe(400);
    expect(codeOf(res.body)).toBe('InvalidArgument');
    expect(messageOf(res.body)).toBe(`${KEY_RULE} ${reason}`.replace(/"/g, '&quot;').replace(/'/g, '&apos;'));
    expect(fetched.length).toBe(before);
    expectContained();
  });

  it.each([
    ['an absolute URL in the key', '/http:%2F%2F100.100.100.200%2Fx', '/public/http%3A//100.100.100.200/x'],
    ['userinfo @', '/@100.100.100.200%2Fx', '/public/%40100.100.100.200/x'],
    ['double-encoded ..', '/%252e%252e%252fprivate%252ftoken', '/public/%252e%252e%252fprivate%252ftoken'],
    ['a query and a fragment', '/a%3Fb%23c', '/public/a%3Fb%23c'],
    ['literal // after the first slash', '//127.0.0.1/private/token', '/public/127.0.0.1/private/token'],
  ])('%s stays a key under the prefix (404 from the origin)', async (_name, target, reached) => {
    const res = await rawGet(base, target + q('image/resize,w_10'));
    expect(res.status).toBe(404);
    expect(codeOf(res.body)).toBe('NoSuchKey');
    expect(originLog.at(-1)).toBe(`GET ${reached} +token`);
    expectContained();
  });

  it('plain downloads (no process) are refused the same way', async () => {
    const res = await rawGet(base, '/%2F%2F100.100.100.200%2Flatest%2Fmeta-data%2F');
    expect(res.status).toBe(400);
    expect(codeOf(res.body)).toBe('InvalidArgument');
    expectContained();
  });

  it('a bucket in the path does not open a way around the rule', async () => {
    const { server, url } = await listen(createNodeListener({ buckets: { photos: options().source! }, bucketFrom: 'path' }));
    servers.push(server);
    const res = await rawGet(url, '/photos/%2F%2F100.100.100.200%2Flatest' + q('image/info'));
    expect(res.status).toBe(400);
    expect(messageOf(res.body)).toContain('it starts with a path separator');
    const ok = await rawGet(url, '/photos/320x240.jpg' + q('image/info'));
    expect(ok.status).toBe(200);
    expectContained();
  });

  it.each([
    ['//100.100.100.200/latest/meta-data/', 'it starts with a path separator'],
    ['../private/token', "it contains a '.' or '..' path segment"],
    ['..\\private\\token', "it contains a '.' or '..' path segment"],
    ['a/../../private/token?x-oss-process=image/resize,P_20', "it contains a '.' or '..' path segment"],
  ])('the logo key image_%s is refused with 400 before anything is fetched', async (logo, reason) => {
    const before = fetched.length;
    const res = await rawGet(base, '/320x240.jpg' + q(`image/watermark,image_${b64(logo)}`));
    expect(res.status).toBe(400);
    expect(codeOf(res.body)).toBe('InvalidArgument');
    expect(messageOf(res.body)).toContain(reason.replace(/'/g, '&apos;'));
    // The main image is read; the logo never is.
    expect(fetched.slice(before)).toEqual([`${originUrl}/public/320x240.jpg`]);
    expectContained();
  });

  it('fetchSource itself refuses keys that leave its prefix, for GET and HEAD', async () => {
    const source = fetchSource(`${originUrl}/public/`, { fetch: recordingFetch });
    const before = fetched.length;
    expect(await rejection(source.get('//100.100.100.200/latest/meta-data/'))).toEqual({
      code: 'INVALID_ARGUMENT', message: `${KEY_RULE} "//100.100.100.200/latest/meta-data/": it starts with a path separator`,
    });
    expect((await rejection(source.get('../private/token'))).code).toBe('INVALID_ARGUMENT');
    expect((await rejection(source.head!('a/../../private/token'))).code).toBe('INVALID_ARGUMENT');
    expect(fetched.length).toBe(before);
    expect((await source.get('320x240.jpg')).bytes.byteLength).toBeGreaterThan(0);
  });
});

describe('malformed requests to the Node listener', () => {
  it.each([
    ['a space', 'a b'],
    ['a slash', 'evil.example/..'],
    ['userinfo', 'user@evil.example'],
    ['an unclosed IPv6 literal', '[::1'],
    ['a bad port', 'example.com:http'],
  ])('Host with %s answers 400 and the process keeps serving', async (_name, host) => {
    const answer = await rawSocket(base, `GET /320x240.jpg HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`);
    expect(answer.split('\r\n')[0]).toBe('HTTP/1.1 400 Bad Request');
    const body = answer.slice(answer.indexOf('\r\n\r\n') + 4);
    expect(codeOf(body)).toBe('InvalidArgument');
    expect(messageOf(body)).toContain('Expected a Host header of a host name, IPv4 or [IPv6] address and an optional port but received');
    const ok = await rawGet(base, '/320x240.jpg' + q('image/info'));
    expect(ok.status).toBe(200);
  });

  it('an absolute-form target cannot choose the authority', async () => {
    const answer = await rawSocket(base, `GET http://100.100.100.200/latest HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n`);
    expect(answer.split('\r\n')[0]).toBe('HTTP/1.1 400 Bad Request');
    expect(messageOf(answer)).toBe('Expected a request target starting with &quot;/&quot; but received &quot;http://100.100.100.200/latest&quot;');
    expectContained();
  });

  it('a good Host still picks the bucket', async () => {
    const handler = createFetchHandler({ buckets: { photos: options().source! } });
    const { server, url } = await listen(createNodeListener(handler));
    servers.push(server);
    expect((await rawGet(url, '/320x240.jpg' + q('image/info'), { host: 'Photos.example.com:8080' })).status).toBe(200);
    const other = await rawGet(url, '/320x240.jpg' + q('image/info'), { host: 'secrets.example.com' });
    expect(other.status).toBe(403);
    expect(messageOf(other.body)).toBe('Expected a bucket on the allow-list but received &quot;secrets&quot;');
  });

  it('the FC trigger answers a malformed Host with 400 instead of failing the invocation', async () => {
    const handler = createFcHttpHandler(options());
    const out = await handler({ rawPath: '/320x240.jpg', headers: { host: 'a b' }, queryParameters: { 'x-oss-process': 'image/info' } });
    expect(out.statusCode).toBe(400);
    expect(messageOf(Buffer.from(out.body, 'base64').toString())).toBe('Expected a Host header of a host name, IPv4 or [IPv6] address and an optional port but received &quot;a b&quot;');
  });
});

describe('watermark logos are sources too', () => {
  it('a logo over the handler\'s pixel limit is refused like a source (400 ImageTooLarge), not decoded', async () => {
    const { server, url } = await listen(createNodeListener(options({ limits: { maxPixels: 10_000 } })));
    servers.push(server);
    // The 32x32 main image is within 10,000 pixels; the 320x240 logo is not.
    const res = await rawGet(url, '/bggn4a16.png' + q(`image/watermark,image_${b64('320x240.jpg')}`));
    expect(res.status).toBe(400);
    expect(codeOf(res.body)).toBe('ImageTooLarge');
    expect(messageOf(res.body)).toContain('10000');
    const fine = await rawGet(base, '/bggn4a16.png' + q(`image/watermark,image_${b64('320x240.jpg')}`));
    expect(fine.status).toBe(200);
  });
});

describe('active content and headers', () => {
  /** A source holding an HTML page, an SVG with a script, and a PNG. */
  const stored: Record<string, { bytes: Uint8Array; contentType: string }> = {
    'page.html': { bytes: new TextEncoder().encode('<script>alert(1)</script>'), contentType: 'text/html' },
    'x.svg': { bytes: new TextEncoder().encode('<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'), contentType: 'image/svg+xml' },
    'a.png': { bytes: new Uint8Array(0), contentType: 'image/png' },
  };
  const source = {
    async get(key: string) {
      const o = stored[key];
      if (!o) throw new (await import('../../../src/errors.js')).ImgpipeError('NOT_FOUND', `no ${key}`);
      return { ...o, etag: `"${key}"` };
    },
  };

  it.each(['page.html', 'x.svg'])('%s is served as an attachment with nosniff', async (key) => {
    const res = await createFetchHandler({ source })(new Request(`http://h/${key}`));
    expect(res.status).toBe(200);
    expect(res.headers.get('content-disposition')).toBe('attachment');
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
  });

  it('or refused with 403 when activeContent is refuse', async () => {
    const res = await createFetchHandler({ source, activeContent: 'refuse' })(new Request('http://h/x.svg'));
    expect(res.status).toBe(403);
    expect(messageOf(await res.text())).toBe('Expected a raster image to serve but &quot;x.svg&quot; is &quot;image/svg+xml&quot;, which is not served (activeContent: &apos;refuse&apos;)');
  });

  it('raster images stay inline', async () => {
    const res = await createFetchHandler({ source, activeContent: 'refuse' })(new Request('http://h/a.png'));
    expect(res.status).toBe(200);
    expect(res.headers.get('content-disposition')).toBeNull();
  });

  it('nosniff is on errors, 304s and processed answers too', async () => {
    const handler = createFetchHandler(options());
    const ok = await handler(new Request(`http://h/320x240.jpg${q('image/resize,w_10')}`));
    const etag = ok.headers.get('etag')!;
    const again = await handler(new Request(`http://h/320x240.jpg${q('image/resize,w_10')}`, { headers: { 'if-none-match': etag } }));
    const bad = await handler(new Request(`http://h/320x240.jpg${q('image/resize,w_0')}`));
    const missing = await handler(new Request('http://h/none.jpg'));
    expect([ok.status, again.status, bad.status, missing.status]).toEqual([200, 304, 400, 404]);
    for (const r of [ok, again, bad, missing]) expect(r.headers.get('x-content-type-options')).toBe('nosniff');
  });

  it('says Vary: Origin when an allow-list decides CORS, even without an Origin', async () => {
    const handler = createFetchHandler(options({ allowedOrigins: ['https://app.example'] }));
    const res = await handler(new Request(`http://h/320x240.jpg${q('image/info')}`));
    expect(res.headers.get('vary')).toBe('Origin');
  });
});

describe('signed URLs can expire', () => {
  const secret = 'expiry-secret';
  const handler = () => createFetchHandler(options({ signing: { secret, required: true } }));
  const url = (process: string, sig: string, expires?: number | string) =>
    `http://h/320x240.jpg${q(process)}&${SIGNATURE_PARAM}=${sig}${expires === undefined ? '' : `&${EXPIRES_PARAM}=${expires}`}`;

  it('accepts a signature before its expiry and refuses it after, naming both times', async () => {
    const future = Math.floor(Date.now() / 1000) + 3600;
    const ok = await handler()(new Request(url('image/resize,w_10', await signProcess(secret, '320x240.jpg', 'image/resize,w_10', undefined, future), future)));
    expect(ok.status).toBe(200);
    const past = 1_000_000_000;
    const old = await handler()(new Request(url('image/resize,w_10', await signProcess(secret, '320x240.jpg', 'image/resize,w_10', undefined, past), past)));
    expect(old.status).toBe(403);
    expect(messageOf(await old.text())).toMatch(/^Expected a signature valid now \(\d+\) but it expired at 1000000000 \(x-imgpipe-expires\)$/);
  });

  it('the expiry is inside the MAC: moving it breaks the signature', async () => {
    const past = 1_000_000_000;
    const sig = await signProcess(secret, '320x240.jpg', 'image/resize,w_10', undefined, past);
    const moved = await handler()(new Request(url('image/resize,w_10', sig, past + 10 ** 9)));
    expect(moved.status).toBe(403);
    expect(codeOf(await moved.text())).toBe('SignatureDoesNotMatch');
    const dropped = await handler()(new Request(url('image/resize,w_10', sig)));
    expect(codeOf(await dropped.text())).toBe('SignatureDoesNotMatch');
    const garbled = await handler()(new Request(url('image/resize,w_10', sig, '1e9')));
    expect(messageOf(await garbled.text())).toBe('Expected Unix seconds (digits) for x-imgpipe-expires but received &quot;1e9&quot;');
  });
});
