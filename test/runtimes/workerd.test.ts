/**
 * The Worker example (examples/worker) in real workerd via miniflare: entries/workerd.ts must load every
 * codec as an imported WebAssembly.Module, the recipe and x-oss-process must run, and errors must
 * come back as messages. The origin is a local HTTP server over the shared fixtures.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import sharp from 'sharp';
import type { Miniflare } from 'miniflare';
import { BAD, IMAGES, image, fixture } from '../helpers/fixtures.js';
import { serveStatic, startWorker, sha256, type ManifestEntry, type StaticServer, PHOTO, PHOTO_VARIANTS } from './harness.js';


let origin: StaticServer;
let mf: Miniflare;

beforeAll(async () => {
  origin = await serveStatic({ '/bad/': BAD, '/': IMAGES });
  mf = await startWorker(origin.url);
});
afterAll(async () => {
  await mf?.dispose();
  await origin?.close();
});

const get = async (path: string, init?: RequestInit) => {
  const res = await mf.dispatchFetch(`http://imgpipe.example${path}`, init as never);
  return { status: res.status, type: res.headers.get('content-type'), bytes: new Uint8Array(await res.arrayBuffer()) };
};
const json = (bytes: Uint8Array) => JSON.parse(new TextDecoder().decode(bytes));

describe('Worker example in workerd', () => {
  it('runs the upload recipe on an origin object: six variants with the recipe dimensions', async () => {
    const res = await get(`/recipe/${PHOTO}`);
    expect(res.status).toBe(200);
    const body = json(res.bytes) as { source: { width: number; height: number }; variants: ManifestEntry[] };
    expect(body.source).toMatchObject({ format: 'jpeg', width: 2725, height: 2225 });
    expect(body.variants.map((v) => [v.key, v.width, v.height])).toEqual(PHOTO_VARIANTS);
    // A variant's bytes are a real image of the stated size and match the manifest's digest.
    const thumb = body.variants[5];
    const one = await get(`/recipe/${PHOTO}?variant=${encodeURIComponent(thumb.key)}`);
    expect(one.type).toBe('image/webp');
    expect(sha256(one.bytes)).toBe(thumb.sha256);
    expect(one.bytes.byteLength).toBe(thumb.bytes);
    const meta = await sharp(one.bytes).metadata();
    expect([meta.format, meta.width, meta.height]).toEqual(['webp', 150, 122]);
  });

  it('gives the same variants for a POSTed body as for the origin object', async () => {
    const fromOrigin = json((await get('/recipe/Landscape_6.jpg')).bytes).variants as ManifestEntry[];
    const posted = await get('/recipe/Landscape_6.jpg', { method: 'POST', body: image('Landscape_6.jpg') as Uint8Array<ArrayBuffer> });
    expect(posted.status).toBe(200);
    const variants = json(posted.bytes).variants as ManifestEntry[];
    expect(variants.map((v) => v.sha256)).toEqual(fromOrigin.map((v) => v.sha256));
    // Stored 450x600 with EXIF orientation 6: upright it is the 600x450 landscape, never enlarged.
    expect([variants[0].width, variants[0].height]).toEqual([600, 450]);
  });

  it('serves ?x-oss-process= from the origin', async () => {
    const res = await get('/320x240.jpg?x-oss-process=image/resize,w_100/format,webp');
    expect(res.status).toBe(200);
    expect(res.type).toBe('image/webp');
    const meta = await sharp(res.bytes).metadata();
    expect([meta.format, meta.width, meta.height]).toEqual(['webp', 100, 75]);

    const png = await get(`/${PHOTO}?x-oss-process=image/resize,m_fill,w_64,h_64/format,png`);
    expect(png.status).toBe(200);
    expect(await sharp(png.bytes).metadata()).toMatchObject({ format: 'png', width: 64, height: 64 });
  });

  it('answers bad requests with OSS errors and bad uploads with JSON messages', async () => {
    const badParam = await get('/320x240.jpg?x-oss-process=image/resize,w_0');
    expect(badParam.status).toBe(400);
    const xml = new TextDecoder().decode(badParam.bytes);
    expect(xml).toContain('<Code>InvalidArgument</Code>');
    expect(xml).toMatch(/<Message>[^<]*w[^<]*0[^<]*<\/Message>/);

    const missing = await get('/no-such-object.jpg?x-oss-process=image/resize,w_10');
    expect(missing.status).toBe(404);
    expect(new TextDecoder().decode(missing.bytes)).toContain('<Code>NoSuchKey</Code>');

    const missingRecipe = await get('/recipe/no-such-object.jpg');
    expect(missingRecipe.status).toBe(404);
    expect(json(missingRecipe.bytes)).toEqual({ code: 'NOT_FOUND', message: 'Expected an object at key "no-such-object.jpg" but the origin has none' });

    const truncated = await get('/recipe/truncated.png', { method: 'POST', body: fixture('bad/truncated.png') as Uint8Array<ArrayBuffer> });
    expect(truncated.status).toBe(422);
    const err = json(truncated.bytes) as { code: string; message: string };
    expect(err.code).toBe('CORRUPT_IMAGE');
    expect(err.message.length).toBeGreaterThan(10);

    const text = await get('/recipe/notes.txt', { method: 'POST', body: new TextEncoder().encode('not an image at all') });
    expect(text.status).toBe(415);
    expect(json(text.bytes).code).toBe('UNSUPPORTED_FORMAT');
  });
});
