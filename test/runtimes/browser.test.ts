/**
 * The browser preview (examples/preview) end to end in Debian's Chromium: the page loads the
 * published browser entry (dist/web.js, WASM fetched from dist/wasm/) in a Web Worker, runs the
 * recipe on a file set on the file input, and shows six variants; a bad file shows its error.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdirSync } from 'node:fs';
import { chromium, type Browser, type Page } from 'playwright-core';
import { BAD, IMAGES } from '../helpers/fixtures.js';
import { CHROMIUM, CHROMIUM_ARGS, ROOT, serveStatic, type StaticServer, PHOTO, PHOTO_VARIANTS } from './harness.js';

let server: StaticServer;
let browser: Browser;

beforeAll(async () => {
  server = await serveStatic({ '/dist/': `${ROOT}dist/`, '/examples/preview/': `${ROOT}examples/preview/` });
  browser = await chromium.launch({ executablePath: CHROMIUM, args: [...CHROMIUM_ARGS] });
});
afterAll(async () => {
  await browser?.close();
  await server?.close();
});

async function openPreview(): Promise<{ page: Page; errors: string[] }> {
  const page = await browser.newPage({ viewport: { width: 1100, height: 900 } });
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(`${server.url}/examples/preview/index.html`);
  return { page, errors };
}

describe('browser preview in Chromium', () => {
  it('runs the recipe in a Web Worker and shows the six variants with their dimensions', async () => {
    const { page, errors } = await openPreview();
    await page.setInputFiles('#file', `${IMAGES}${PHOTO}`);
    // Progress shows while the worker runs.
    await page.waitForSelector('body[data-state="busy"]');
    await page.waitForFunction(() => document.querySelectorAll('figure.variant').length === 6, undefined, { timeout: 60_000 });
    const variants = await page.$$eval('figure.variant', (figs) => figs.map((f) => {
      const d = (f as HTMLElement).dataset;
      return { key: d.key, format: d.format, width: Number(d.width), height: Number(d.height), bytes: Number(d.bytes) };
    }));
    expect(variants.map((v) => [v.key, v.width, v.height])).toEqual(PHOTO_VARIANTS);
    for (const v of variants) expect(v.bytes).toBeGreaterThan(1000);
    // The browser itself decodes every variant to the stated size.
    await page.waitForFunction(() => Array.from(document.querySelectorAll<HTMLImageElement>('figure.variant img')).every((i) => i.complete && i.naturalWidth > 0));
    const natural = await page.$$eval('figure.variant img', (imgs) => imgs.map((i) => [(i as HTMLImageElement).naturalWidth, (i as HTMLImageElement).naturalHeight]));
    expect(natural).toEqual(variants.map((v) => [v.width, v.height]));
    expect(await page.textContent('#status')).toMatch(/^2725×2225 jpeg, .* → 6 variants in \d+ ms/);
    expect(await page.textContent('#error')).toBe('');
    // The x-oss-process box previews its string on the same file, and again when it is edited.
    await page.waitForSelector('#process-out:not([hidden])', { timeout: 30_000 });
    expect(await page.textContent('#process-out figcaption')).toMatch(/^webp · 300×245 · /);
    await page.fill('#process-input', 'image/resize,m_fill,w_64,h_64/format,png');
    await page.waitForFunction(() => (document.querySelector('#process-out figcaption')?.textContent ?? '').startsWith('png · 64×64'), undefined, { timeout: 30_000 });
    await page.fill('#process-input', 'image/resize,w_0');
    await page.waitForFunction(() => (document.getElementById('process-status')?.textContent ?? '').startsWith('INVALID_ARGUMENT'), undefined, { timeout: 30_000 });
    mkdirSync(`${ROOT}test-output`, { recursive: true });
    await page.screenshot({ path: `${ROOT}test-output/preview.png`, fullPage: true });
    expect(errors).toEqual([]);
    await page.close();
  });

  it('shows the error message for a file that is not a usable image', async () => {
    const { page, errors } = await openPreview();
    await page.setInputFiles('#file', { name: 'notes.txt', mimeType: 'text/plain', buffer: Buffer.from('not an image at all') });
    await page.waitForSelector('body[data-state="error"]', { timeout: 30_000 });
    expect(await page.textContent('#error')).toMatch(/^UNSUPPORTED_FORMAT: .+/);
    expect(await page.$$('figure.variant')).toHaveLength(0);

    await page.setInputFiles('#file', `${BAD}truncated.png`);
    await page.waitForFunction(() => document.body.dataset.state === 'error' && (document.getElementById('error')?.textContent ?? '').startsWith('CORRUPT_IMAGE'), undefined, { timeout: 30_000 });
    expect(errors).toEqual([]);
    await page.close();
  });
});
