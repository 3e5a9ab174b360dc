import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Server } from 'node:http';
import { mkdtemp, rm, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import '../../../entries/node.js';
import { createFetchHandler, type HandlerOptions } from '../../../adapters/http/handler.js';
import { createNodeListener } from '../../../adapters/http/node.js';
import { createFcHttpHandler, fcEventToRequest } from '../../../adapters/http/fc.js';
import { fetchSource, isShared, storageSource } from '../../../adapters/http/source.js';
import { SIGNATURE_PARAM, signProcess } from '../../../adapters/http/sign.js';
import { createFsStorage, type GetOptions } from '../../../adapters/storage.js';
import { fcTriggerListener, listen, originListener } from './servers.js';

const IMAGES = new URL('../../fixtures/images/', import.meta.url);
const SECRET = 'test-secret';
const servers: Server[] = [];
const originLog: string[] = [];
let origin: string;

async function serve(options: Partial<HandlerOptions>, fc = false): Promise<string> {
  const full: HandlerOptions = {
    source: fetchSource(origin),
    styles: { small: 'image/resize,w_64/format,webp' },
    styleDelimiters: ['!'],
    allowedOrigins: ['https://app.example'],
    ...options,
  };
  const { server, url } = await listen(fc ? fcTriggerListener(createFcHttpHandler(full)) : createNodeListener(full));
  servers.push(server);
  return url;
}

const q = (process: string) => `?x-oss-process=${encodeURIComponent(process)}`;

beforeAll(async () => {
  const o = await listen(originListener(IMAGES, originLog));
  servers.push(o.server);
  origin = o.url;
});
afterAll(async () => {
  await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
});

describe.each([['fetch handler on a Node server', false], ['FC 3.0 HTTP trigger', true]] as const)('%s', (_name, fc) => {
  let base: string;
  beforeAll(async () => {
    base = await serve({}, fc);
  });

  it('transforms and answers with type, ETag, Cache-Control and a request id', async () => {
    const res = await fetch(`${base}/320x240.jpg${q('image/resize,w_100/format,png')}`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('image/png');
    expect(res.headers.get('etag')).toMatch(/^"[0-9a-f]{32}"$/);
    expect(res.headers.get('cache-control')).toBe('public, max-age=86400');
    expect(res.headers.get('x-oss-request-id')).toMatch(/^[0-9A-F]{32}$/);
    const bytes = new Uint8Array(await res.arrayBuffer());
    expect(Number(res.headers.get('content-length'))).toBe(bytes.byteLength);
    const meta = await sharp(bytes).metadata();
    expect([meta.format, meta.width, meta.height]).toEqual(['png', 100, 75]);
  });

  it('answers 304 to If-None-Match from the source ETag alone, without downloading it', async () => {
    const url = `${base}/320x240.jpg${q('image/resize,w_50')}`;
    const first = await fetch(url);
    const etag = first.headers.get('etag')!;
    await first.arrayBuffer();
    const before = originLog.length;
    const again = await fetch(url, { headers: { 'if-none-match': etag } });
    expect(again.status).toBe(304);
    expect(again.headers.get('etag')).toBe(etag);
    expect(originLog.slice(before)).toEqual(['HEAD /320x240.jpg']);
    const other = await fetch(`${base}/320x240.jpg${q('image/resize,w_51')}`, { headers: { 'if-none-match': etag } });
    expect(other.status).toBe(200);
    expect(other.headers.get('etag')).not.toBe(etag);
    await other.arrayBuffer();
  });

  it('answers HEAD with headers and no body', async () => {
    const res = await fetch(`${base}/320x240.jpg${q('image/resize,w_100/format,webp')}`, { method: 'HEAD' });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('image/webp');
    expect(Number(res.headers.get('content-length'))).toBeGreaterThan(0);
    expect((await res.arrayBuffer()).byteLength).toBe(0);
  });

  it('refuses a bad parameter with OSS\'s XML body and x-oss-ec, before reading the source', async () => {
    const before = originLog.length;
    const res = await fetch(`${base}/320x240.jpg${q('image/resize,w_0')}`);
    expect(res.status).toBe(400);
    expect(res.headers.get('content-type')).toBe('application/xml');
    expect(res.headers.get('x-oss-ec')).toBe('0040-00000312');
    const xml = await res.text();
    expect(xml).toContain('<Code>InvalidArgument</Code>');
    expect(xml).toContain('<Message>Expected an integer between 1 and 16384 for resize.w but received &quot;0&quot;</Message>');
    expect(xml).toContain('<EC>0040-00000312</EC>');
    expect(xml).toMatch(/<RequestId>[0-9A-F]{32}<\/RequestId>/);
    expect(originLog.length).toBe(before);
  });

  it.each([
    ['/missing.jpg' + q('image/resize,w_10'), 404, 'NoSuchKey', 'Expected an object at key &quot;missing.jpg&quot; but the origin has none'],
    ['/320x240.jpg' + q('style/nosuch'), 404, 'NoSuchStyle', 'Expected an existing style but received &quot;nosuch&quot;'],
    ['/320x240.jpg' + q('image/resize'), 400, 'MissingArgument', 'Expected at least one of resize.w, resize.h, resize.l, resize.s, resize.p but received none'],
    ['/320x240.jpg' + q('image/format,heic'), 400, 'NotImplemented', 'Expected an output format imgpipe can write (jpg, png, webp, avif) for format.value but received &quot;heic&quot;'],
    ['/320x240.jpg' + q('image/resize,m_fixed,w_5000,h_5000,limit_0'), 400, 'ImageTooLarge', 'Expected resize to produce at most 16777216 pixels but it would produce 5000x5000 = 25000000 pixels'],
    ['/320x240.jpg' + q('image/crop,x_400'), 400, 'BadRequest', 'Advance cut&apos;s position is out of image. Expected crop.x below 320 and crop.y below 240 (from anchor nw) but received x=400, y=0'],
  ])('%s -> %i %s', async (path, status, code, message) => {
    const res = await fetch(`${base}${path}`);
    expect(res.status).toBe(status);
    const xml = await res.text();
    expect(xml).toContain(`<Code>${code}</Code>`);
    expect(xml).toContain(`<Message>${message}</Message>`);
  });

  it('serves styles, also in the delimiter form', async () => {
    const a = await fetch(`${base}/320x240.jpg${q('style/small')}`);
    const b = await fetch(`${base}/320x240.jpg!small`);
    expect([a.status, b.status]).toEqual([200, 200]);
    expect(b.headers.get('content-type')).toBe('image/webp');
    expect(new Uint8Array(await a.arrayBuffer())).toEqual(new Uint8Array(await b.arrayBuffer()));
  });

  it('passes an unprocessed download through', async () => {
    const res = await fetch(`${base}/320x240.jpg`);
    expect(new Uint8Array(await res.arrayBuffer())).toEqual(new Uint8Array(await readFile(new URL('320x240.jpg', IMAGES))));
  });

  it('sends CORS headers to allowed origins only, and answers preflights', async () => {
    const ok = await fetch(`${base}/320x240.jpg${q('image/resize,w_10')}`, { headers: { origin: 'https://app.example' } });
    expect(ok.headers.get('access-control-allow-origin')).toBe('https://app.example');
    expect(ok.headers.get('access-control-expose-headers')).toContain('ETag');
    await ok.arrayBuffer();
    const no = await fetch(`${base}/320x240.jpg${q('image/resize,w_10')}`, { headers: { origin: 'https://evil.example' } });
    expect(no.headers.get('access-control-allow-origin')).toBeNull();
    await no.arrayBuffer();
    const pre = await fetch(`${base}/320x240.jpg`, { method: 'OPTIONS', headers: { origin: 'https://app.example', 'access-control-request-method': 'GET' } });
    expect(pre.status).toBe(204);
    expect(pre.headers.get('access-control-allow-methods')).toBe('GET, HEAD, OPTIONS');
  });
});

describe('signed process strings', () => {
  let base: string;
  beforeAll(async () => {
    base = await serve({ signing: { secret: SECRET, required: true } });
  });

  it('accepts a signed process string', async () => {
    const process = 'image/resize,w_40';
    const sig = await signProcess(SECRET, '320x240.jpg', process);
    const res = await fetch(`${base}/320x240.jpg${q(process)}&${SIGNATURE_PARAM}=${sig}`);
    expect(res.status).toBe(200);
    expect((await sharp(new Uint8Array(await res.arrayBuffer())).metadata()).width).toBe(40);
  });

  it('refuses a tampered process string, an unsigned one, and a plain download', async () => {
    const sig = await signProcess(SECRET, '320x240.jpg', 'image/resize,w_40');
    const tampered = await fetch(`${base}/320x240.jpg${q('image/resize,w_4000,limit_0')}&${SIGNATURE_PARAM}=${sig}`);
    expect(tampered.status).toBe(403);
    expect(await tampered.text()).toContain('<Code>SignatureDoesNotMatch</Code>');
    const otherKey = await fetch(`${base}/4.webp${q('image/resize,w_40')}&${SIGNATURE_PARAM}=${sig}`);
    expect(otherKey.status).toBe(403);
    await otherKey.arrayBuffer();
    const unsigned = await fetch(`${base}/320x240.jpg${q('image/resize,w_40')}`);
    expect(unsigned.status).toBe(403);
    expect(await unsigned.text()).toContain('<Message>Expected a signed request (x-imgpipe-signature) for an ad-hoc process string but received none</Message>');
    const plain = await fetch(`${base}/320x240.jpg`);
    expect(plain.status).toBe(403);
    await plain.arrayBuffer();
  });

  it('lets styles through unsigned, like OSS source protection', async () => {
    const res = await fetch(`${base}/320x240.jpg!small`);
    expect(res.status).toBe(200);
    await res.arrayBuffer();
  });
});

describe('allow-lists, limits and sources', () => {
  it('reads only buckets on the allow-list', async () => {
    const base = await serve({ source: undefined, buckets: { photos: fetchSource(origin) }, bucketFrom: 'path' });
    const ok = await fetch(`${base}/photos/320x240.jpg${q('image/resize,w_10')}`);
    expect(ok.status).toBe(200);
    await ok.arrayBuffer();
    const before = originLog.length;
    const no = await fetch(`${base}/secrets/320x240.jpg${q('image/resize,w_10')}`);
    expect(no.status).toBe(403);
    expect(await no.text()).toContain('<Message>Expected a bucket on the allow-list but received &quot;secrets&quot;</Message>');
    expect(originLog.length).toBe(before);
  });

  it('refuses sources over the byte limit without decoding them', async () => {
    const base = await serve({ limits: { maxBytes: 1000 } });
    const res = await fetch(`${base}/320x240.jpg${q('image/resize,w_10')}`);
    expect(res.status).toBe(400);
    const xml = await res.text();
    expect(xml).toContain('<Code>ImageTooLarge</Code>');
    expect(xml).toContain('Expected a source of at most 1000 bytes (limits.maxBytes) but &quot;320x240.jpg&quot; has');
  });

  it('limits the number of actions and the length of the process string', async () => {
    const base = await serve({ outputLimits: { maxActions: 2 }, maxProcessLength: 40 });
    const many = await fetch(`${base}/320x240.jpg${q('image/rotate,90/rotate,90/rotate,90')}`);
    expect(await many.text()).toContain('<Message>Expected at most 2 actions but received 3</Message>');
    const long = await fetch(`${base}/320x240.jpg${q(`image/watermark,text_${'QUFB'.repeat(10)}`)}`);
    expect(long.status).toBe(400);
    expect(await long.text()).toContain('<Message>Expected a process string of at most 40 characters but received 61</Message>');
  });

  it('reads through the storage port (a filesystem bucket)', async () => {
    const root = await mkdtemp(join(tmpdir(), 'imgpipe-http-'));
    try {
      const storage = createFsStorage({ root, bucket: 'photos' });
      await storage.put('in/a.jpg', new Uint8Array(await readFile(new URL('320x240.jpg', IMAGES))), { contentType: 'image/jpeg' });
      const handler = createFetchHandler({ source: storageSource(storage) });
      const res = await handler(new Request(`http://photos.local/in/a.jpg${q('image/crop,w_20,h_10/format,png')}`));
      expect(res.status).toBe(200);
      const meta = await sharp(new Uint8Array(await res.arrayBuffer())).metadata();
      expect([meta.width, meta.height]).toEqual([20, 10]);
      const missing = await handler(new Request(`http://photos.local/in/none.jpg${q('image/info')}`));
      expect(missing.status).toBe(404);
      expect(await missing.text()).toContain('<Code>NoSuchKey</Code>');
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });

  it('storageSource keeps recent sources up to cacheBytes while their ETag holds: one storage call a request, no HEAD, no read', async () => {
    const root = await mkdtemp(join(tmpdir(), 'imgpipe-http-'));
    try {
      const fs = createFsStorage({ root, bucket: 'photos' });
      const small = new Uint8Array(await readFile(new URL('320x240.jpg', IMAGES)));
      const large = new Uint8Array(await readFile(new URL('Landscape_6.jpg', IMAGES)));
      await fs.put('a.jpg', small, { contentType: 'image/jpeg' });
      await fs.put('b.jpg', small, { contentType: 'image/jpeg' });
      await fs.put('big.jpg', large, { contentType: 'image/jpeg' });
      // Calls to the storage port, and of them the reads that moved bytes (not a kept copy's match).
      let reads = 0, calls = 0, heads = 0;
      const storage = {
        ...fs,
        head: (key: string) => { heads++; return fs.head(key); },
        get: async (key: string, o?: GetOptions) => {
          calls++;
          const got = await fs.get(key, o);
          if (!got.notModified) reads++;
          return got;
        },
      };
      // Room for four of the small photo; the large one is over a quarter of it and never kept.
      const source = storageSource(storage, { cacheBytes: 4 * small.byteLength + 100 });
      const first = await source.get('a.jpg');
      // Kept, so shared: in shared memory, which a pool worker reads in place; never moved.
      expect([reads, first.transferable, isShared(first.bytes)]).toEqual([1, false, true]);
      // A plain download of a kept source is answered from a copy (a Response refuses shared memory).
      const download = await createFetchHandler({ source })(new Request('http://h/a.jpg'));
      expect(download.status).toBe(200);
      expect(Buffer.from(await download.arrayBuffer()).equals(Buffer.from(small))).toBe(true);
      const again = await source.get('a.jpg', { maxBytes: 1e6 });
      expect(reads).toBe(1);
      expect(again.bytes).toBe(first.bytes);
      expect(again.etag).toBe(first.etag);
      expect(Buffer.from(again.bytes).equals(Buffer.from(small))).toBe(true);
      // The byte limit is still checked (from the object's record) on a kept source.
      await expect(source.get('a.jpg', { maxBytes: 100 })).rejects.toMatchObject({ code: 'IMAGE_TOO_LARGE' });
      expect((await source.get('big.jpg')).transferable).toBe(true);
      await source.get('big.jpg');
      expect(reads).toBe(3);
      // New bytes under the key: a new ETag, read again.
      const flipped = small.slice();
      flipped[flipped.length - 3] ^= 1;
      await fs.put('a.jpg', flipped, { contentType: 'image/jpeg' });
      expect(Buffer.from((await source.get('a.jpg')).bytes).equals(Buffer.from(flipped))).toBe(true);
      expect(reads).toBe(4);
      // Four fit; a fifth pushes out the least recently used (b.jpg: a.jpg was used after it).
      for (const k of ['c.jpg', 'd.jpg', 'e.jpg']) await fs.put(k, small, { contentType: 'image/jpeg' });
      for (const k of ['b.jpg', 'c.jpg', 'd.jpg', 'a.jpg']) await source.get(k);
      expect(reads).toBe(7);
      await source.get('e.jpg');
      expect(reads).toBe(8);
      for (const k of ['a.jpg', 'c.jpg', 'd.jpg', 'e.jpg']) await source.get(k);
      expect(reads).toBe(8);
      await source.get('b.jpg');
      expect(reads).toBe(9);
      await expect(source.get('none.jpg')).rejects.toMatchObject({ code: 'NOT_FOUND' });
      // Each of the 18 reads above was one storage call, with no HEAD of its own.
      expect([calls, heads]).toEqual([18, 0]);
      expect(() => storageSource(storage, { cacheBytes: -1 })).toThrow("Expected a whole number of bytes (0 or more) for storageSource's cacheBytes but received -1");
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });

  it('image watermarks come from the same source', async () => {
    const handler = createFetchHandler({ source: fetchSource(origin) });
    const key = Buffer.from('with-alpha.png?x-oss-process=image/resize,P_20').toString('base64url');
    const res = await handler(new Request(`http://h/320x240.jpg${q(`image/watermark,image_${key},g_center`)}`));
    expect(res.status).toBe(200);
    await res.arrayBuffer();
    expect(originLog).toContain('GET /with-alpha.png');
  });
});

describe('FC event shape', () => {
  it('rebuilds the request from the documented event', () => {
    const req = fcEventToRequest({
      version: 'v1', rawPath: '/a%20b.jpg', body: '', isBase64Encoded: false,
      headers: { host: 'x.cn-hangzhou.fcapp.run', 'if-none-match': '"abc"' },
      queryParameters: { 'x-oss-process': 'image/resize,w_10' },
      requestContext: { domainName: 'x.cn-hangzhou.fcapp.run', http: { method: 'GET', path: '/a b.jpg' } },
    });
    expect(req.method).toBe('GET');
    expect(new URL(req.url).pathname).toBe('/a%20b.jpg');
    expect(new URL(req.url).searchParams.get('x-oss-process')).toBe('image/resize,w_10');
    expect(req.headers.get('if-none-match')).toBe('"abc"');
  });

  it('refuses an event that is not JSON', async () => {
    const handler = createFcHttpHandler({ source: fetchSource(origin) });
    await expect(handler(Buffer.from('not json'))).rejects.toMatchObject({ code: 'INVALID_EVENT', message: 'Expected an FC HTTP-trigger event (JSON) but received 8 bytes that are not JSON' });
  });
});
