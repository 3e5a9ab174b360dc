/**
 * "Works with no configuration under Vite and esbuild": a tiny app that imports `imgpipe` by package
 * name (resolved through package.json `exports`, the package linked into the app's node_modules) is
 * built by each bundler with no config file and no plugin, the output is served statically, and
 * Chromium runs it: the recipe's variants must match Node's byte for byte. Vite copies the `.wasm`
 * files it finds through `new URL(..., import.meta.url)`; esbuild doesn't copy such assets, so the
 * entry falls back to the base64 copies it imports lazily (dist/wasm/inline.js).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from 'esbuild';
import { type Browser } from 'playwright-core';
import { runRecipe } from '../../entries/node.js';
import { WASM_MODULES } from '../../src/wasm/modules.js';
import { IMAGES, image } from '../helpers/fixtures.js';
import { ROOT, serveStatic, sha256 } from './harness.js';
import { launchChromium } from '../../scripts/chromium.mjs';

const INPUT = 'Landscape_6.jpg'; // EXIF-rotated, so orientation runs too

const MAIN = `import { runRecipe } from 'imgpipe';

const hex = (buf) => Array.from(new Uint8Array(buf), (b) => b.toString(16).padStart(2, '0')).join('');
try {
  const bytes = new Uint8Array(await (await fetch('/fixtures/${INPUT}')).arrayBuffer());
  const { variants } = await runRecipe(bytes, { key: 'p.jpg' });
  const rows = [];
  for (const v of variants) rows.push([v.key, v.width, v.height, hex(await crypto.subtle.digest('SHA-256', v.bytes))]);
  document.getElementById('out').textContent = JSON.stringify(rows);
} catch (e) {
  document.getElementById('out').textContent = 'ERROR ' + (e.code ?? '') + ' ' + e.message;
}
`;
const HTML = '<!doctype html><meta charset="utf-8"><title>app</title><pre id="out"></pre><script type="module" src="./main.js"></script>\n';

let app: string;
let browser: Browser;
let expected: (string | number)[][];

beforeAll(async () => {
  app = mkdtempSync(join(tmpdir(), 'imgpipe-bundlers-'));
  mkdirSync(join(app, 'node_modules'));
  // What `npm install ../imgpipe` (a file: dependency) leaves: a link to the package folder.
  symlinkSync(ROOT, join(app, 'node_modules/imgpipe'), 'dir');
  writeFileSync(join(app, 'package.json'), '{ "name": "app", "private": true, "type": "module" }\n');
  writeFileSync(join(app, 'index.html'), HTML);
  writeFileSync(join(app, 'main.js'), MAIN);
  const { variants } = await runRecipe(image(INPUT), { key: 'p.jpg' });
  expected = variants.map((v) => [v.key, v.width, v.height, sha256(v.bytes)]);
  browser = await launchChromium();
}, 60_000);
afterAll(async () => {
  await browser?.close();
  if (app) rmSync(app, { recursive: true, force: true });
});

/** Serve `dir` as the site root (fixtures beside it), open it, and return the page's result and requests. */
async function runInChromium(dir: string): Promise<{ result: string; requested: string[]; errors: string[] }> {
  const server = await serveStatic({ '/fixtures/': IMAGES, '/': `${dir}/` });
  const page = await browser.newPage();
  const requested: string[] = [];
  const errors: string[] = [];
  page.on('request', (r) => requested.push(new URL(r.url()).pathname));
  page.on('pageerror', (e) => errors.push(e.message));
  try {
    await page.goto(`${server.url}/index.html`);
    await page.waitForFunction(() => (document.getElementById('out')?.textContent ?? '') !== '', undefined, { timeout: 60_000 });
    return { result: (await page.textContent('#out')) ?? '', requested, errors };
  } finally {
    await page.close();
    await server.close();
  }
}

describe('bundlers with no configuration', () => {
  it('Vite builds the app, copies the WASM as assets, and the page produces the same variants as Node', async () => {
    const out = join(app, 'dist-vite');
    execFileSync(join(ROOT, 'node_modules/.bin/vite'), ['build', '--outDir', out, '--logLevel', 'warn'], { cwd: app, stdio: 'pipe' });
    const assets = readdirSync(join(out, 'assets'));
    // Every module the package lists, copied under a content hash.
    const stems = assets.filter((f) => f.endsWith('.wasm')).map((f) => f.replace(/-[\w-]{8}\.wasm$/, '.wasm')).sort();
    expect(stems).toEqual(Object.values(WASM_MODULES).map((m) => m.file).sort());
    const { result, requested, errors } = await runInChromium(out);
    expect(result.startsWith('ERROR') ? result : JSON.parse(result)).toEqual(expected);
    expect(errors).toEqual([]);
    // The fetched .wasm files were used: no base64 fallback chunk was requested.
    expect(requested.filter((p) => p.endsWith('.wasm')).length).toBeGreaterThan(0);
    expect(requested.filter((p) => /\.wasm[-.].*js$/.test(p))).toEqual([]);
  }, 120_000);

  it('esbuild bundles the app (bundle + ESM output only), and the page produces the same variants from the inlined WASM', async () => {
    const out = join(app, 'dist-esbuild');
    await build({ entryPoints: [join(app, 'main.js')], bundle: true, format: 'esm', outdir: out, absWorkingDir: app, logLevel: 'warning' });
    writeFileSync(join(out, 'index.html'), HTML);
    expect(readdirSync(out).sort()).toEqual(['index.html', 'main.js']);
    const { result, errors } = await runInChromium(out);
    expect(result.startsWith('ERROR') ? result : JSON.parse(result)).toEqual(expected);
    expect(errors).toEqual([]);
  }, 120_000);
});
