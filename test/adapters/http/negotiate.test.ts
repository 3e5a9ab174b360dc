/** Format negotiation: opt-in, WebP when Accept names it, Vary: Accept, an explicit format always wins. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Server } from 'node:http';
import '../../../entries/node.js';
import { createFetchHandler } from '../../../adapters/http/handler.js';
import { negotiateFormat } from '../../../adapters/http/negotiate.js';
import { fetchSource } from '../../../adapters/http/source.js';
import { listen, originListener } from './servers.js';

const IMAGES = new URL('../../fixtures/images/', import.meta.url);
const BROWSER = 'image/avif,image/webp,image/apng,image/svg+xml,image/*,*/*;q=0.8';
let server: Server;
let origin: string;
const q = (process: string) => `?x-oss-process=${encodeURIComponent(process)}`;

beforeAll(async () => {
  ({ server, url: origin } = await listen(originListener(IMAGES, [])));
});
afterAll(async () => {
  await new Promise((r) => server.close(r));
});

describe('format negotiation', () => {
  it('reads Accept: an explicit image/webp with q > 0; AVIF only once the registry can write it', () => {
    expect(negotiateFormat(BROWSER)).toBe('webp');
    expect(negotiateFormat('image/webp;q=0.5')).toBe('webp');
    expect(negotiateFormat('image/webp;q=0, image/*')).toBeUndefined();
    expect(negotiateFormat('*/*')).toBeUndefined();
    expect(negotiateFormat(null)).toBeUndefined();
  });

  it('is off by default: the source format, no Vary', async () => {
    const handler = createFetchHandler({ source: fetchSource(origin) });
    const res = await handler(new Request(`http://h/320x240.jpg${q('image/resize,w_100')}`, { headers: { accept: BROWSER } }));
    expect(res.headers.get('content-type')).toBe('image/jpeg');
    expect(res.headers.get('vary')).toBeNull();
  });

  it('with negotiate: WebP for a browser, JPEG for a client without it, each with Vary: Accept and its own ETag; the WebP is what format,webp gives', async () => {
    const handler = createFetchHandler({ source: fetchSource(origin), negotiate: true, allowedOrigins: '*' });
    const get = (process: string, accept?: string) => handler(new Request(`http://h/320x240.jpg${q(process)}`, { headers: { ...(accept ? { accept } : {}), origin: 'https://a.example' } }));
    const webp = await get('image/resize,w_100', BROWSER);
    const jpeg = await get('image/resize,w_100', 'image/jpeg,*/*');
    expect(webp.headers.get('content-type')).toBe('image/webp');
    expect(jpeg.headers.get('content-type')).toBe('image/jpeg');
    expect(webp.headers.get('vary')).toBe('Origin, Accept');
    expect(webp.headers.get('etag')).not.toBe(jpeg.headers.get('etag'));
    const explicit = await get('image/resize,w_100/format,webp');
    expect(Buffer.from(await webp.arrayBuffer()).equals(Buffer.from(await explicit.arrayBuffer()))).toBe(true);
    // A revalidation from the browser matches the WebP's ETag, not the JPEG's.
    const again = await handler(new Request(`http://h/320x240.jpg${q('image/resize,w_100')}`, { headers: { accept: BROWSER, 'if-none-match': webp.headers.get('etag')! } }));
    expect(again.status).toBe(304);
    expect(again.headers.get('vary')).toBe('Accept');
  });

  it('an explicit format always wins, and info stays JSON', async () => {
    const handler = createFetchHandler({ source: fetchSource(origin), negotiate: true });
    const png = await handler(new Request(`http://h/320x240.jpg${q('image/resize,w_100/format,png')}`, { headers: { accept: BROWSER } }));
    expect(png.headers.get('content-type')).toBe('image/png');
    expect(png.headers.get('vary')).toBeNull();
    const info = await handler(new Request(`http://h/320x240.jpg${q('image/info')}`, { headers: { accept: BROWSER } }));
    expect(info.headers.get('content-type')).toBe('application/json');
  });
});
