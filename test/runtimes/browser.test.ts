/**
 * The browser preview (examples/preview) end to end in Debian's Chromium: the page loads the
 * published browser entry (dist/web.js, WASM fetched from dist/wasm/) in a Web Worker, runs the
 * recipe on a file set on the file input or dropped on the page, and shows six variants with their
 * watermark marks while a progress counter keeps ticking; a bad file shows its typed error message,
 * the same text Node gives for the same bytes. The screenshot goes to test-output/ (gitignored).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdirSync } from 'node:fs';
import { type Browser, type Page } from 'playwright-core';
import { BAD, IMAGES, fixture, image } from '../helpers/fixtures.js';
import { isImgpipeError, runRecipe } from '../../entries/node.js';
import { ROOT, serveStatic, type StaticServer, PHOTO, PHOTO_VARIANTS } from './harness.js';
import { launchChromium } from '../../scripts/chromium.mjs';

let server: StaticServer;
let browser: Browser;

beforeAll(async () => {
  server = await serveStatic({ '/dist/': `${ROOT}dist/`, '/examples/preview/': `${ROOT}examples/preview/` });
  browser = await launchChromium();
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
    // Progress shows while the worker runs, and the page stays responsive: its elapsed-time counter,
    // driven by a main-thread timer, keeps changing while the worker decodes and encodes.
    await page.waitForSelector('body[data-state="busy"]');
    const first = await page.waitForFunction(() => /\d+\.\d s$/.exec(document.getElementById('status')?.textContent ?? '')?.[0]);
    const firstTick = await first.jsonValue();
    await page.waitForFunction((t) => { const m = /\d+\.\d s$/.exec(document.getElementById('status')?.textContent ?? ''); return m !== null && m[0] !== t; }, firstTick);
    expect(await page.getAttribute('body', 'data-state')).toBe('busy');
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
    expect(await page.textContent('#status')).toMatch(/^2725×2225 jpeg, .* → 6 variants in \d+ ms .*; watermark “© imgpipe” on large, medium$/);
    // The watermarked sizes are marked as such: the recipe watermarks large and medium, not the thumbnail.
    expect(await page.$$eval('figure.variant', (figs) => figs.map((f) => [(f as HTMLElement).dataset.size, (f as HTMLElement).dataset.watermark])))
      .toEqual([['large', 'true'], ['large', 'true'], ['medium', 'true'], ['medium', 'true'], ['thumb', 'false'], ['thumb', 'false']]);
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

    // Damaged photos: the page shows exactly the typed error Node's runRecipe throws for the same bytes.
    for (const name of ['corrupt-header.jpg', 'truncated.jpg', '65536-uint32-limit.png']) {
      const expected = await runRecipe(fixture(`bad/${name}`), { key: name }).then(() => 'no error', (e: unknown) => (isImgpipeError(e) ? `${e.code}: ${e.message}` : String(e)));
      expect(expected).toMatch(/^(CORRUPT_IMAGE|IMAGE_TOO_LARGE): Expected /);
      await page.setInputFiles('#file', `${BAD}${name}`);
      await page.waitForFunction((text) => document.body.dataset.state === 'error' && document.getElementById('error')?.textContent === text, expected, { timeout: 30_000 });
      expect(await page.$$('figure.variant')).toHaveLength(0);
    }
    expect(errors).toEqual([]);
    await page.close();
  });

  /** Drop `bytes` as `name` on the preview; the six variants' keys and widths once they show. */
  async function dropped(bytes: Uint8Array, name: string, type: string): Promise<(string | number)[][]> {
    const { page, errors } = await openPreview();
    await page.evaluate(({ data, name, type }) => {
      const transfer = new DataTransfer();
      transfer.items.add(new File([new Uint8Array(data)], name, { type }));
      document.getElementById('drop')!.dispatchEvent(new DragEvent('drop', { dataTransfer: transfer, bubbles: true, cancelable: true }));
    }, { data: [...bytes], name, type });
    await page.waitForFunction(() => document.querySelectorAll('figure.variant').length === 6, undefined, { timeout: 60_000 });
    const keys = await page.$$eval('figure.variant', (figs) => figs.map((f) => [(f as HTMLElement).dataset.key!, Number((f as HTMLElement).dataset.width)]));
    expect(errors).toEqual([]);
    await page.close();
    return keys;
  }

  it('takes a dropped photo as well as a chosen one', async () => {
    expect(await dropped(image('320x240.jpg'), 'dropped.jpg', 'image/jpeg')).toEqual([
      ['resized/large/dropped.jpg', 320], ['webp/large/dropped.webp', 320], ['resized/medium/dropped.jpg', 320],
      ['webp/medium/dropped.webp', 320], ['resized/thumb/dropped.jpg', 150], ['webp/thumb/dropped.webp', 150],
    ]);
  });

  it('previews a dropped AVIF through the imgpipe/avif plug-in', async () => {
    expect(await dropped(fixture('avif/photo-444.avif'), 'dropped.avif', 'image/avif')).toEqual([
      ['resized/large/dropped.jpg', 240], ['webp/large/dropped.webp', 240], ['resized/medium/dropped.jpg', 240],
      ['webp/medium/dropped.webp', 240], ['resized/thumb/dropped.jpg', 150], ['webp/thumb/dropped.webp', 150],
    ]);
  });
});
