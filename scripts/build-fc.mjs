#!/usr/bin/env node
/**
 * `npm run build:fc`: the Function Compute deployment artifacts, from dist/wasm (run `npm run build` first).
 *
 *   .fc-build/function/           index.js (one CommonJS bundle, dependencies included) + wasm/*.wasm;
 *                               runs on nodejs18/nodejs20 with no node_modules
 *   .fc-build/function.zip        the same, zipped for upload (`s deploy` uses the folder)
 *   .fc-build/serve-function/     x-oss-process over an HTTP trigger (examples/fc/serve.ts), built the same
 *                               way; serve-function.zip beside it
 *   .fc-build/imgpipe-layer.zip   an FC layer: nodejs/node_modules/imgpipe/{index.js,package.json,wasm/}
 *                               so several functions can `require('imgpipe')`
 *   .fc-build/imgpipe-lcms2-layer.zip Little CMS for LUT-based and CMYK ICC profiles (~250 KB, left out of
 *                               the function and the imgpipe layer to keep each under 2 MB):
 *                               nodejs/node_modules/imgpipe-lcms2/imgpipe_lcms2.wasm, found by attaching it
 *   .fc-build/imgpipe-heic-layer.zip  the opt-in HEIC plug-in as a layer of its own (libheif is LGPL and
 *                               ~0.9 MB): nodejs/node_modules/imgpipe-heic/{index.js,wasm/}; a function
 *                               that attaches it and calls `require('imgpipe-heic')` decodes HEIC
 *   .fc-build/imgpipe-avif-layer.zip  the opt-in AVIF plug-in likewise (libavif + libaom, ~4.7 MB):
 *                               `require('imgpipe-avif')` reads and writes AVIF
 *
 * CommonJS because every FC Node runtime loads `index.handler` from it without extra settings; the
 * bundle's `import.meta.url` (used to find wasm/ beside the code) is defined from __filename.
 *
 * Size: the FC Node.js runtime is not documented to provide ali-oss (see the shared spec, section 7),
 * so the bundle carries it. Three of its transitive dependencies are never reached on the FC code path
 * and are replaced (STUBS below): together they were over a third of the JavaScript. `.fc-build/meta.json`
 * is esbuild's metafile, and the script prints the biggest packages in the bundle.
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

/**
 * Modules replaced in the FC bundle, with why each is safe to replace.
 * - iconv-lite (about 480 KB of code pages): urllib requires it only to decode a text response whose
 *   charset Buffer doesn't know. OSS answers UTF-8 XML; anything else still decodes through Node's
 *   own TextDecoder (full ICU in the official builds FC runs), so nothing is lost.
 * - xmlbuilder (about 70 KB): xml2js loads it for its Builder at require time, but ali-oss uses
 *   xml2js only to parse (it writes XML with jstoxml). Using the Builder throws, naming this build.
 * - win-release (with semver, about 20 KB): os-name calls it for urllib's user agent on Windows only;
 *   FC runs Linux.
 * - platform (about 15 KB): ali-oss reads only `platform.description` for its User-Agent, and builds
 *   the same "Node.js <version> on <os> <arch>" itself when it is missing.
 * - object-inspect (about 18 KB): qs's side-channel calls it only to format the message of an error it
 *   throws for a key it never stored; String() names such a key well enough.
 */
const STUBS = {
  'iconv-lite': `module.exports = {
  decode: (bytes, charset) => new TextDecoder(charset).decode(bytes),
  encodingExists: (charset) => { try { new TextDecoder(charset); return true; } catch { return false; } },
};`,
  xmlbuilder: `const refuse = () => { throw new Error('xmlbuilder is not bundled in the imgpipe Function Compute build (ali-oss only parses XML)'); };
module.exports = { create: refuse, begin: refuse };`,
  'win-release': `module.exports = () => '';`,
  platform: `module.exports = {};`,
  'object-inspect': `module.exports = (value) => { try { return String(value); } catch { return typeof value; } };`,
};

const stubPlugin = {
  name: 'imgpipe-fc-stubs',
  setup(b) {
    const filter = new RegExp(`^(${Object.keys(STUBS).join('|')})$`);
    b.onResolve({ filter }, (args) => ({ path: args.path, namespace: 'imgpipe-fc-stub' }));
    b.onLoad({ filter: /.*/, namespace: 'imgpipe-fc-stub' }, (args) => ({ contents: STUBS[args.path], loader: 'js' }));
  },
};

/** Bytes in the bundle per package (or project folder), biggest first. */
function contributions(metafile) {
  const sizes = new Map();
  for (const output of Object.values(metafile.outputs)) {
    for (const [input, { bytesInOutput }] of Object.entries(output.inputs)) {
      const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(input)?.[1] ?? input.split('/').slice(0, 2).join('/');
      sizes.set(pkg, (sizes.get(pkg) ?? 0) + bytesInOutput);
    }
  }
  return [...sizes].sort((a, b) => b[1] - a[1]);
}

/** Bundle `entry` into `outfile` as CommonJS for Node 18; returns esbuild's metafile. */
async function bundle(entry, outfile) {
  const result = await build({
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
    // Non-ASCII text (opentype.js tables, the fallback font's names) stays UTF-8 instead of \u escapes.
    charset: 'utf8',
    plugins: [stubPlugin],
    metafile: true,
    logLevel: 'warning',
  });
  return result.metafile;
}

/**
 * The `.wasm` files of `from` (the core's modules by default; plug-ins' modules live in
 * dist/wasm/plugins/ and go only into their own layers) into `to`.
 */
function copyWasm(to, from = wasmDir, keep = () => true) {
  mkdirSync(to, { recursive: true });
  for (const f of readdirSync(from)) if (f.endsWith('.wasm') && keep(f)) copyFileSync(join(from, f), join(to, f));
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

/**
 * Core modules the function folder and the imgpipe layer leave out to stay under 2 MB each: Little
 * CMS (~250 KB), needed only for LUT-based RGB and CMYK ICC profiles. Without it those profiles are
 * not applied (the pixels as decoded, nothing refused); it is a layer of its own, which the Node
 * entry finds as the package `imgpipe-lcms2` (entries/node.ts, `locateWasm`).
 */
const LEFT_OUT = new Set(['imgpipe_lcms2.wasm']);
// libwebp's one-thread build stays out too: Node loads its threaded twin, from wasm/node/ (src/wasm/modules.ts).
const kept = (f) => !LEFT_OUT.has(f) && f !== 'imgpipe_webp.wasm';

/** A deployable function: `entry` bundled to `dir`/index.js beside the modules Node loads, and `dir`.zip. */
async function buildFunction(entry, dir) {
  const metafile = await bundle(entry, join(dir, 'index.js'));
  copyWasm(join(dir, 'wasm'), wasmDir, kept);
  copyWasm(join(dir, 'wasm/node'), join(wasmDir, 'node'));
  writeFileSync(`${dir}.zip`, zip(dir));
  return metafile;
}

// The upload function, and the x-oss-process function (the same modules, its own bundle).
const metafile = await buildFunction(join(root, 'examples/fc/index.ts'), fn);
writeFileSync(join(out, 'meta.json'), JSON.stringify(metafile));
const serveFn = join(out, 'serve-function');
await buildFunction(join(root, 'examples/fc/serve.ts'), serveFn);

// The layer: the library itself (Node entry, FC handler factory and adapters) as a package.
const layerPkg = join(out, 'layer/nodejs/node_modules/imgpipe');
await bundle(join(root, 'examples/fc/layer.ts'), join(layerPkg, 'index.js'));
copyWasm(join(layerPkg, 'wasm'), wasmDir, kept);
copyWasm(join(layerPkg, 'wasm/node'), join(wasmDir, 'node'));
const { version, license } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
writeFileSync(join(layerPkg, 'package.json'), `${JSON.stringify({ name: 'imgpipe', version, license, main: 'index.js' }, null, 2)}\n`);
writeFileSync(join(out, 'imgpipe-layer.zip'), zip(join(out, 'layer')));

// The Little CMS layer: just the module, as the package the Node entry looks for when its own wasm/
// folder lacks it (MIT, like lcms).
const lcmsPkg = join(out, 'lcms2-layer/nodejs/node_modules/imgpipe-lcms2');
copyWasm(lcmsPkg, wasmDir, (f) => LEFT_OUT.has(f));
writeFileSync(join(lcmsPkg, 'package.json'), `${JSON.stringify({ name: 'imgpipe-lcms2', version, license: 'MIT', files: ['imgpipe_lcms2.wasm'] }, null, 2)}\n`);
writeFileSync(join(out, 'imgpipe-lcms2-layer.zip'), zip(join(out, 'lcms2-layer')));

// The HEIC plug-in's layer: its Node entry bundled (it registers itself with whichever copy of
// imgpipe's core the function loaded) and its module beside it.
const heicPkg = join(out, 'heic-layer/nodejs/node_modules/imgpipe-heic');
await bundle(join(root, 'entries/heic/node.ts'), join(heicPkg, 'index.js'));
copyWasm(join(heicPkg, 'wasm/plugins'), join(wasmDir, 'plugins'), (f) => f === 'imgpipe_heif.wasm');
writeFileSync(join(heicPkg, 'package.json'), `${JSON.stringify({ name: 'imgpipe-heic', version, license: 'LGPL-3.0-or-later', main: 'index.js' }, null, 2)}\n`);
writeFileSync(join(out, 'imgpipe-heic-layer.zip'), zip(join(out, 'heic-layer')));

// The AVIF plug-in's layer, the same way: libavif + libaom (4.7 MB of WebAssembly) would put the
// core function over its 2 MB, and most functions never write AVIF.
const avifPkg = join(out, 'avif-layer/nodejs/node_modules/imgpipe-avif');
await bundle(join(root, 'entries/avif/node.ts'), join(avifPkg, 'index.js'));
copyWasm(join(avifPkg, 'wasm/plugins'), join(wasmDir, 'plugins'), (f) => f.startsWith('avif_'));
writeFileSync(join(avifPkg, 'package.json'), `${JSON.stringify({ name: 'imgpipe-avif', version, license, main: 'index.js' }, null, 2)}\n`);
writeFileSync(join(out, 'imgpipe-avif-layer.zip'), zip(join(out, 'avif-layer')));

const rows = [
  ['function/index.js', join(fn, 'index.js')],
  ['function/wasm/', join(fn, 'wasm')],
  ['function/ (unpacked)', fn],
  ['function.zip', join(out, 'function.zip')],
  ['serve-function/ (unpacked)', serveFn],
  ['serve-function.zip', join(out, 'serve-function.zip')],
  ['imgpipe-layer.zip', join(out, 'imgpipe-layer.zip')],
  ['imgpipe-lcms2-layer.zip', join(out, 'imgpipe-lcms2-layer.zip')],
  ['imgpipe-heic-layer.zip', join(out, 'imgpipe-heic-layer.zip')],
  ['imgpipe-avif-layer.zip', join(out, 'imgpipe-avif-layer.zip')],
];
for (const [label, path] of rows) console.log(`${label.padEnd(28)} ${kb(sizeOf(path)).padStart(8)}`);
console.log(`\nBiggest parts of function/index.js (esbuild metafile: .fc-build/meta.json):`);
for (const [pkg, bytes] of contributions(metafile).slice(0, 8)) console.log(`  ${pkg.padEnd(22)} ${kb(bytes).padStart(8)}`);
console.log(`\nDeploy: cd examples/fc && s deploy   (code: ${relative(join(root, 'examples/fc'), fn)})`);
