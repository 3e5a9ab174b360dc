/**
 * `imgpipe serve` (the built CLI, dist/cli.js) serves the browser preview and x-oss-process over HTTP
 * beside its local OSS server: Chromium opens the served page, a photo goes through the file input,
 * six variants appear; an object uploaded with ali-oss is then processed by a GET with x-oss-process,
 * and so is a photo copied into the root's bucket folder by hand; a HEIC object, to AVIF as well.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import OSS from 'ali-oss';
import sharp from 'sharp';
import { type Browser } from 'playwright-core';
import { IMAGES, image } from '../helpers/fixtures.js';
import { PHOTO, PHOTO_VARIANTS, ROOT } from './harness.js';
import { launchChromium } from '../../scripts/chromium.mjs';

const credential = { accessKeyId: 'LTAIservepreview1', accessKeySecret: 'serve-preview-secret' };
let child: ChildProcess;
let root: string;
let browser: Browser;
let output = '';
let endpoint: string;
let preview: string;

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'imgpipe-serve-preview-'));
  // A photo copied into the bucket's folder by hand, never uploaded.
  mkdirSync(join(root, 'photos/album'), { recursive: true });
  copyFileSync(`${IMAGES}${PHOTO}`, join(root, 'photos/album/by-hand.jpg'));
  child = spawn(process.execPath, [join(ROOT, 'dist/cli.js'), 'serve', '--root', root, '--port', '0'], {
    env: { ...process.env, IMGPIPE_LOCAL_ACCESS_KEY_ID: credential.accessKeyId, IMGPIPE_LOCAL_ACCESS_KEY_SECRET: credential.accessKeySecret },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const started = new Promise<void>((resolve, reject) => {
    const onData = (d: Buffer) => {
      output += d.toString();
      const oss = /listening on (http:\/\/\S+)/.exec(output);
      const page = /preview page: (http:\/\/\S+)/.exec(output);
      if (oss && page) [endpoint, preview] = [oss[1], page[1]];
      if (endpoint && preview) resolve();
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.on('exit', (code) => reject(new Error(`imgpipe serve exited with ${code}: ${output}`)));
  });
  await started;
  browser = await launchChromium();
}, 60_000);
afterAll(async () => {
  await browser?.close();
  if (child && child.exitCode === null) {
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    await exited;
  }
  if (root) rmSync(root, { recursive: true, force: true });
});

describe('imgpipe serve: preview page and x-oss-process', () => {
  it('prints where the preview and x-oss-process are served, on their own port', () => {
    expect(preview).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/preview\/$/);
    expect(new URL(preview).port).not.toBe(new URL(endpoint).port);
    expect(output).toMatch(/x-oss-process: http:\/\/127\.0\.0\.1:\d+\/photos\/<key>\?x-oss-process=/);
    expect(output).not.toContain('run npm run build first');
  });

  it('serves the page, its worker, the browser bundle and the WASM: a photo becomes six variants in Chromium', async () => {
    const page = await browser.newPage({ viewport: { width: 1100, height: 900 } });
    const errors: string[] = [];
    const failed: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    page.on('response', (r) => { if (r.status() >= 400) failed.push(`${r.status()} ${r.url()}`); });
    // The bare origin redirects to the page.
    await page.goto(new URL('/', preview).href);
    expect(page.url()).toBe(preview);
    await page.setInputFiles('#file', `${IMAGES}${PHOTO}`);
    await page.waitForFunction(() => document.querySelectorAll('figure.variant').length === 6, undefined, { timeout: 60_000 });
    const variants = await page.$$eval('figure.variant', (figs) => figs.map((f) => {
      const d = (f as HTMLElement).dataset;
      return [d.key, Number(d.width), Number(d.height)];
    }));
    expect(variants).toEqual(PHOTO_VARIANTS);
    expect(await page.textContent('#error')).toBe('');
    expect(errors).toEqual([]);
    expect(failed).toEqual([]);
    await page.close();
  }, 90_000);

  it('answers x-oss-process on an object uploaded through the local OSS server, and refuses a bad string as OSS does', async () => {
    const oss = new OSS({ ...credential, endpoint, region: 'oss-cn-hangzhou', bucket: 'photos' });
    // Outside uploads/, so the upload pipeline leaves it alone.
    await oss.put('originals/photo.jpg', Buffer.from(image(PHOTO)), { mime: 'image/jpeg' });
    const base = new URL('/photos/originals/photo.jpg', preview);
    const res = await fetch(`${base.href}?x-oss-process=image/resize,w_100/format,png`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('image/png');
    expect(await sharp(new Uint8Array(await res.arrayBuffer())).metadata()).toMatchObject({ format: 'png', width: 100, height: 82 });
    const bad = await fetch(`${base.href}?x-oss-process=image/resize,w_0`);
    expect(bad.status).toBe(400);
    expect(await bad.text()).toContain('<Code>InvalidArgument</Code>');
    // Nothing outside the preview's folders is served as a file.
    expect((await fetch(new URL('/dist/node.js', preview))).status).not.toBe(200);
    expect((await fetch(new URL('/preview/..%2F..%2Fpackage.json', preview))).status).not.toBe(200);
  }, 60_000);

  it('decodes HEIC and writes AVIF on its worker pool: the CLI loads both plug-ins', async () => {
    const oss = new OSS({ ...credential, endpoint, region: 'oss-cn-hangzhou', bucket: 'photos' });
    await oss.put('originals/phone.heic', Buffer.from(image('heic-alpha.heic')));
    const base = new URL('/photos/originals/phone.heic', preview).href;
    const jpeg = await fetch(`${base}?x-oss-process=image/resize,w_60`);
    expect(jpeg.status).toBe(200);
    expect(jpeg.headers.get('content-type')).toBe('image/jpeg');
    expect(await sharp(new Uint8Array(await jpeg.arrayBuffer())).metadata()).toMatchObject({ format: 'jpeg', width: 60, height: 45 });
    const avif = await fetch(`${base}?x-oss-process=image/resize,w_60/format,avif`);
    expect(avif.status).toBe(200);
    expect(avif.headers.get('content-type')).toBe('image/avif');
    expect(await sharp(new Uint8Array(await avif.arrayBuffer())).metadata()).toMatchObject({ format: 'heif', compression: 'av1', width: 60, height: 45 });
  }, 60_000);

  it('serves a photo copied into <root>/photos/ by hand as an object, with its ETag and content type', async () => {
    const oss = new OSS({ ...credential, endpoint, region: 'oss-cn-hangzhou', bucket: 'photos' });
    const head = await oss.head('album/by-hand.jpg');
    const headers = head.res.headers as Record<string, string>;
    expect(headers.etag).toBe(`"${createHash('md5').update(image(PHOTO)).digest('hex').toUpperCase()}"`);
    expect(headers['content-type']).toBe('image/jpeg');
    expect((await oss.list({ prefix: 'album/', 'max-keys': 10 }, {})).objects.map((o) => o.name)).toEqual(['album/by-hand.jpg']);
    const res = await fetch(`${new URL('/photos/album/by-hand.jpg', preview).href}?x-oss-process=image/resize,w_100/format,webp`);
    expect(res.status).toBe(200);
    expect(await sharp(new Uint8Array(await res.arrayBuffer())).metadata()).toMatchObject({ format: 'webp', width: 100, height: 82 });
  }, 60_000);

  it("answers a browser's /favicon.ico with 404, not an AccessDenied", async () => {
    const res = await fetch(new URL('/favicon.ico', preview));
    expect(res.status).toBe(404);
    expect(await res.text()).not.toContain('AccessDenied');
  });

  it("shows the underscores of the process string (the box's font leaves room below the baseline)", async () => {
    const page = await browser.newPage();
    await page.goto(preview);
    await page.evaluate(() => { (document.getElementById('process') as HTMLElement).hidden = false; });
    const shot = async (value: string) => {
      await page.fill('#process-input', value);
      await page.evaluate(() => (document.activeElement as HTMLElement | null)?.blur());
      return page.locator('#process-input').screenshot();
    };
    const [underscores, spaces] = [await shot('image/resize,w_300,h_200'), await shot('image/resize,w 300,h 200')];
    expect(underscores.equals(spaces)).toBe(false);
    await page.close();
  });
});
