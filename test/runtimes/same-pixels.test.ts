/**
 * Same pixels everywhere: the upload recipe and a few x-oss-process strings run on the same fixtures
 * in Node (entries/node.ts), Chromium (dist/web.standalone.js) and workerd (the Worker example), and
 * every output must be byte-identical (SHA-256). All three run the same WASM modules with the same
 * inputs; the JS around them is integer/deterministic, so there is no tolerance to allow. The
 * recipe's placeholder (ThumbHash, dominant colour) must be the same string too.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Browser, type Page } from 'playwright-core';
import type { Miniflare } from 'miniflare';
import { decode, runRecipe, transform } from '../../entries/node.js';
import '../../entries/heic/node.js';
import '../../entries/avif/node.js';
import { FIXTURES as FIXTURES_DIR, IMAGES, fixture } from '../helpers/fixtures.js';
import { ROOT, PHOTO, serveStatic, sha256, startWorker, type ManifestEntry, type StaticServer } from './harness.js';
import { launchChromium } from '../../scripts/chromium.mjs';

// A large photo, an EXIF-rotated JPEG with Apple's Generic RGB profile, a PNG with alpha, a lossy
// WebP, a Display P3 PNG (its compressed profile inflated by each runtime's DecompressionStream), and
// HEICs through the imgpipe/heic plug-in (its libheif module in each runtime: read, fetched, imported).
// And the ICC profiles only Little CMS applies (its module in each runtime): a CMYK JPEG's and a LUT-based RGB one.
const FIXTURES = [PHOTO, 'Landscape_6.jpg', 'bggn4a16.png', '4.webp', 'p3.png', 'samplefilehub.heif', 'heic-10bit-alpha.heic',
  'Channel_digital_image_CMYK_color.jpg', 'icc/lut-profile.jpg'];
const PROCESS = [
  'image/resize,w_300/format,webp',
  'image/resize,m_fill,w_64,h_64/format,png',
  'image/rotate,90/blur,r_3,s_2/format,jpg/quality,q_80',
  'image/resize,w_400/watermark,text_aW1ncGlwZQ,size_30,g_se/format,jpg',
];

/**
 * The blind watermark decides every embedded pixel with integer and IEEE-exact arithmetic (no Math.sin or
 * Math.exp), so the marked JPEG is the same bytes everywhere, and so is what extraction reads back from it.
 * Only photos: the mark refuses images under 80 px.
 */
const MARK_FIXTURES = [PHOTO, '4.webp'];
/**
 * AVIFs through the imgpipe/avif plug-in (libavif + libaom in each runtime: read, fetched, imported):
 * decoded (4:4:4, a grid, 10-bit with alpha) and written (libaom, one thread, is deterministic).
 */
const AVIF_FIXTURES = ['avif/photo-444.avif', 'avif/grid-2x2.avif', 'avif/10bit-alpha.avif'];
const AVIF_PROCESS = ['image/resize,w_100/format,png', 'image/resize,w_120/format,avif', 'image/rotate,90/format,avif/quality,q_70'];
const image = (name: string) => fixture(/^(avif|icc)\//.test(name) ? name : `images/${name}`);

const MARK = [
  'image/resize,w_600/blindwatermark,content_dTQy,s_medium,q_85/format,jpg',
  'image/resize,w_600/blindwatermark,content_dTQy,s_high/deblindwatermark',
];

type Digests = Record<string, string>; // label -> sha256

let server: StaticServer;
let browser: Browser;
let page: Page;
let mf: Miniflare;

beforeAll(async () => {
  server = await serveStatic({
    '/dist/': `${ROOT}dist/`, '/examples/preview/': `${ROOT}examples/preview/`,
    '/images/avif/': `${FIXTURES_DIR}avif/`, '/images/icc/': `${FIXTURES_DIR}icc/`, '/images/': IMAGES,
    '/avif/': `${FIXTURES_DIR}avif/`, '/icc/': `${FIXTURES_DIR}icc/`, '/': IMAGES,
  });
  [browser, mf] = await Promise.all([
    launchChromium(),
    startWorker(server.url),
  ]);
  page = await browser.newPage();
  // A page on the server's origin, so the module and its WASM load same-origin.
  await page.goto(`${server.url}/examples/preview/index.html`);
  await page.addScriptTag({ type: 'module', content: "import * as lib from '/dist/web.standalone.js'; import '/dist/heic.standalone.js'; import '/dist/avif.standalone.js'; globalThis.imgpipe = lib;" });
  await page.waitForFunction(() => 'imgpipe' in globalThis);
});
afterAll(async () => {
  await browser?.close();
  await mf?.dispose();
  await server?.close();
});

async function inNode(name: string, process = PROCESS, recipe = true): Promise<Digests> {
  const out: Digests = {};
  const bytes = image(name);
  if (recipe) {
    const result = await runRecipe(bytes, { key: name });
    for (const v of result.variants) out[`recipe ${v.key}`] = sha256(v.bytes);
    out.placeholder = JSON.stringify(result.placeholder);
  }
  for (const p of process) out[p] = sha256((await transform(bytes, p)).bytes);
  return out;
}

async function inChromium(name: string, process = PROCESS, recipe = true): Promise<Digests> {
  return page.evaluate(async ({ name, process, recipe }) => {
    const lib = (globalThis as unknown as { imgpipe: typeof import('../../entries/web.js') }).imgpipe;
    const hex = async (b: Uint8Array) => Array.from(new Uint8Array(await crypto.subtle.digest('SHA-256', b as Uint8Array<ArrayBuffer>)), (x) => x.toString(16).padStart(2, '0')).join('');
    const bytes = new Uint8Array(await (await fetch(`/images/${name}`)).arrayBuffer());
    const out: Record<string, string> = {};
    if (recipe) {
      const result = await lib.runRecipe(bytes, { key: name });
      for (const v of result.variants) out[`recipe ${v.key}`] = await hex(v.bytes);
      out.placeholder = JSON.stringify(result.placeholder);
    }
    for (const p of process) out[p] = await hex((await lib.transform(bytes, p)).bytes);
    return out;
  }, { name, process, recipe });
}

async function inWorkerd(name: string, process = PROCESS, recipe = true): Promise<Digests> {
  const out: Digests = {};
  if (recipe) {
    const res = await mf.dispatchFetch(`http://imgpipe.example/recipe/${name}`);
    expect(res.status).toBe(200);
    const body = (await res.json()) as { variants: ManifestEntry[]; placeholder: unknown };
    for (const v of body.variants) out[`recipe ${v.key}`] = v.sha256;
    out.placeholder = JSON.stringify(body.placeholder);
  }
  for (const p of process) {
    const r = await mf.dispatchFetch(`http://imgpipe.example/${name}?x-oss-process=${encodeURIComponent(p)}`);
    expect(r.status, `${name} ${p}`).toBe(200);
    out[p] = sha256(new Uint8Array(await r.arrayBuffer()));
  }
  return out;
}

describe('same bytes in Node, Chromium and workerd', () => {
  for (const name of FIXTURES) {
    it(name, async () => {
      const node = await inNode(name);
      expect(Object.keys(node)).toHaveLength(6 + 1 + PROCESS.length);
      const [browserOut, workerdOut] = await Promise.all([inChromium(name), inWorkerd(name)]);
      expect(browserOut).toEqual(node);
      expect(workerdOut).toEqual(node);
    });
  }
});

describe('in a Web Worker too: the profiles only Little CMS applies', () => {
  it('the CMYK and the LUT-profile JPEG decode to the same pixels as in Node', async () => {
    const names = ['Channel_digital_image_CMYK_color.jpg', 'icc/lut-profile.jpg'];
    const node = await Promise.all(names.map(async (n) => {
      const { data } = await decode(image(n), { autoOrient: false });
      return sha256(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
    }));
    const worker = await page.evaluate(async (names) => {
      // The standalone browser entry (as the preview's worker imports it), in a module worker; it fetches its WASM itself.
      const source = `import * as lib from '${location.origin}/dist/web.standalone.js';
        onmessage = async (e) => {
          try {
            const bytes = new Uint8Array(await (await fetch(e.data)).arrayBuffer());
            const image = await lib.decode(bytes, { autoOrient: false });
            const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', image.data));
            postMessage(Array.from(digest, (x) => x.toString(16).padStart(2, '0')).join(''));
          } catch (err) {
            postMessage('failed: ' + (err && err.message));
          }
        };`;
      const w = new Worker(URL.createObjectURL(new Blob([source], { type: 'text/javascript' })), { type: 'module' });
      const out: string[] = [];
      for (const name of names) {
        out.push(await new Promise<string>((resolve, reject) => {
          w.onmessage = (e) => resolve(e.data as string);
          w.onerror = (e) => reject(new Error(e.message));
          w.postMessage(`${location.origin}/images/${name}`);
        }));
      }
      w.terminate();
      return out;
    }, names);
    expect(worker).toEqual(node);
  });
});

describe('AVIF: same bytes in Node, Chromium and workerd, read and written', () => {
  for (const name of AVIF_FIXTURES) {
    it(name, async () => {
      const node = await inNode(name, AVIF_PROCESS);
      expect(Object.keys(node)).toHaveLength(6 + 1 + AVIF_PROCESS.length);
      const [browserOut, workerdOut] = await Promise.all([inChromium(name, AVIF_PROCESS), inWorkerd(name, AVIF_PROCESS)]);
      expect(browserOut).toEqual(node);
      expect(workerdOut).toEqual(node);
    });
  }
});

describe('the blind watermark: same marked bytes and the same reading in Node, Chromium and workerd', () => {
  for (const name of MARK_FIXTURES) {
    it(name, async () => {
      const node = await inNode(name, MARK, false);
      const read = JSON.parse(new TextDecoder().decode((await transform(image(name), MARK[1])).bytes)) as { found: boolean; content?: string };
      expect(read).toMatchObject({ found: true, content: 'u42' });
      const [browserOut, workerdOut] = await Promise.all([inChromium(name, MARK, false), inWorkerd(name, MARK, false)]);
      expect(browserOut).toEqual(node);
      expect(workerdOut).toEqual(node);
    });
  }
});
