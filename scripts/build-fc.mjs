#!/usr/bin/env node
/**
 * `npm run build:fc`: the Function Compute deployment artifacts, from dist/wasm (run `npm run build` first).
 *
 *   .fc-build/function/           index.js (one CommonJS bundle, dependencies included) + wasm/*.wasm;
 *                               runs on nodejs18/nodejs20 with no node_modules
 *   .fc-build/function.zip        the same, zipped for upload (`s deploy` uses the folder)
 *   .fc-build/imgpipe-layer.zip   an FC layer: nodejs/node_modules/imgpipe/{index.js,package.json,wasm/}
 *                               so several functions can `require('imgpipe')`
 *
 * CommonJS because every FC Node runtime loads `index.handler` from it without extra settings; the
 * bundle's `import.meta.url` (used to find wasm/ beside the code) is defined from __filename.
 */
import { build } from 'esbuild';
import { copyFileSync, mkdirSync, readdirSync, rmSync, statSync, writeFileSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { zipSync } from 'fflate';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const out = join(root, '.fc-build');
const fn = join(out, 'function');
const wasmDir = join(root, 'dist/wasm');

/** Bundle `entry` into `outfile` as CommonJS for Node 18. */
async function bundle(entry, outfile) {
  await build({
    entryPoints: [entry],
    outfile,
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node18',
    minify: true,
    // ali-oss's HTTP client requires proxy-agent only when a proxy is configured; it isn't installed
    // and FC reaches OSS directly.
    external: ['proxy-agent'],
    legalComments: 'external',
    define: { 'import.meta.url': '__imgpipe_module_url' },
    banner: { js: 'const __imgpipe_module_url = require("url").pathToFileURL(__filename).href;' },
    logLevel: 'warning',
  });
}

function copyWasm(to) {
  mkdirSync(to, { recursive: true });
  for (const f of readdirSync(wasmDir)) if (f.endsWith('.wasm')) copyFileSync(join(wasmDir, f), join(to, f));
}

/** Every file under `dir`, as [relative path, bytes], for the zip. */
function filesOf(dir, prefix = '') {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    return statSync(p).isDirectory() ? filesOf(p, `${prefix}${name}/`) : [[`${prefix}${name}`, readFileSync(p)]];
  });
}

/** A deflated zip of everything under `dir`, paths relative to it. */
function zip(dir) {
  return zipSync(Object.fromEntries(filesOf(dir)), { level: 9 });
}

function sizeOf(path) {
  const s = statSync(path);
  return s.isDirectory() ? readdirSync(path).reduce((n, f) => n + sizeOf(join(path, f)), 0) : s.size;
}

const kb = (n) => `${(n / 1024).toFixed(0)} KB`;

rmSync(out, { recursive: true, force: true });

// The function: handler bundle + wasm.
await bundle(join(root, 'examples/fc/index.ts'), join(fn, 'index.js'));
copyWasm(join(fn, 'wasm'));
writeFileSync(join(out, 'function.zip'), zip(fn));

// The layer: the library itself (Node entry, FC handler factory and adapters) as a package.
const layerPkg = join(out, 'layer/nodejs/node_modules/imgpipe');
await bundle(join(root, 'examples/fc/layer.ts'), join(layerPkg, 'index.js'));
copyWasm(join(layerPkg, 'wasm'));
const { version, license } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
writeFileSync(join(layerPkg, 'package.json'), `${JSON.stringify({ name: 'imgpipe', version, license, main: 'index.js' }, null, 2)}\n`);
writeFileSync(join(out, 'imgpipe-layer.zip'), zip(join(out, 'layer')));

const rows = [
  ['function/index.js', join(fn, 'index.js')],
  ['function/wasm/', join(fn, 'wasm')],
  ['function/ (unpacked)', fn],
  ['function.zip', join(out, 'function.zip')],
  ['imgpipe-layer.zip', join(out, 'imgpipe-layer.zip')],
];
for (const [label, path] of rows) console.log(`${label.padEnd(24)} ${kb(sizeOf(path)).padStart(8)}`);
console.log(`\nDeploy: cd examples/fc && s deploy   (code: ${relative(join(root, 'examples/fc'), fn)})`);
