import { defineConfig } from 'tsup';
import { copyFileSync, mkdirSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import { WASM_MODULES } from './src/wasm/modules.js';

const require = createRequire(import.meta.url);

/**
 * Plug-ins' modules (see src/plugins.ts): copied into dist/wasm/plugins/, never inlined, never imported
 * by the core's entries; only the `imgpipe/heic` entries load it. A folder of their own because the
 * browser entry's `new URL(`./wasm/${file}.wasm`)` makes Vite and webpack copy every `dist/wasm/*.wasm`
 * into an app: a core-only app would ship the 0.9 MB HEIC module it never fetches.
 */
const PLUGIN_WASM = [
  { file: 'imgpipe_heif.wasm', from: './wasm/libheif/build/imgpipe_heif.wasm' },
  // The AVIF plug-in's libavif + libaom (imgpipe/avif): decoder and encoder.
  { file: 'avif_dec.wasm', from: '@jsquash/avif/codec/dec/avif_dec.wasm' },
  { file: 'avif_enc.wasm', from: '@jsquash/avif/codec/enc/avif_enc.wasm' },
];

/** Copy every row of the WASM table into dist/wasm/, where each runtime's loader looks for it. */
function copyWasm(): void {
  mkdirSync('dist/wasm', { recursive: true });
  mkdirSync('dist/wasm/plugins', { recursive: true });
  for (const row of PLUGIN_WASM) copyFileSync(row.from.startsWith('./') ? row.from : require.resolve(row.from), `dist/wasm/plugins/${row.file}`);
  for (const row of Object.values(WASM_MODULES) as { file: string; from: string; node?: { file: string; from: string } }[]) {
    const from = row.from.startsWith('./') ? row.from : require.resolve(row.from);
    if (!existsSync(from)) throw new Error(`missing ${from}: run npm run build:wasm first`);
    copyFileSync(from, `dist/wasm/${row.file}`);
    // Node's own build of the module (read from disk by the Node entry only: no inline copy).
    if (row.node) {
      mkdirSync(dirname(`dist/wasm/${row.node.file}`), { recursive: true });
      copyFileSync(row.node.from, `dist/wasm/${row.node.file}`);
    }
    // The browser entry's fallback for bundlers that don't copy `new URL()` assets (see entries/web.ts).
    writeFileSync(`dist/wasm/${row.file}.js`, `export default ${JSON.stringify(readFileSync(from).toString('base64'))};\n`);
  }
  const loaders = Object.values(WASM_MODULES).map((row) => `  ${JSON.stringify(row.file)}: () => import(${JSON.stringify(`./${row.file}.js`)}),`);
  writeFileSync('dist/wasm/inline.js', `export default {\n${loaders.join('\n')}\n};\n`);
}

/** WASM imports, and the browser entry's base64 fallback table, stay imports of files in dist/wasm/. */
const WASM_EXTERNAL = [/\.wasm$/, /^\.\/wasm\/inline\.js$/];

export default defineConfig([
  {
    // Library entries: one per runtime (they differ only in how WASM bytes are obtained), the
    // runtime-neutral core, and the Node-side adapters.
    entry: {
      node: 'entries/node.ts',
      web: 'entries/web.ts',
      workerd: 'entries/workerd.ts',
      core: 'src/index.ts',
      adapters: 'adapters/index.ts',
      // The adapters' subpaths: imgpipe/http (one entry per runtime, like the core's, so it works
      // without importing imgpipe as well) and imgpipe/events are runtime-neutral; oss and fc are Node.
      'http.node': 'entries/http/node.ts',
      'http.web': 'entries/http/web.ts',
      'http.workerd': 'entries/http/workerd.ts',
      events: 'adapters/events/index.ts',
      oss: 'adapters/oss/index.ts',
      fc: 'adapters/fc/index.ts',
      // Loaded by createWorkerPool() as a worker thread (Node only).
      'pool-worker': 'pool/worker.ts',
      // The opt-in HEIC plug-in (imgpipe/heic), one entry per runtime like the core's.
      'heic.node': 'entries/heic/node.ts',
      'heic.web': 'entries/heic/web.ts',
      'heic.workerd': 'entries/heic/workerd.ts',
      // The opt-in AVIF plug-in (imgpipe/avif).
      'avif.node': 'entries/avif/node.ts',
      'avif.web': 'entries/avif/web.ts',
      'avif.workerd': 'entries/avif/workerd.ts',
    },
    // The workerd entry imports `./wasm/<file>.wasm` as modules: keep those imports verbatim, they
    // resolve beside the built entry (dist/wasm/), where copyWasm puts the files.
    external: WASM_EXTERNAL,
    format: ['esm', 'cjs'],
    dts: true,
    // No source maps: the bundles are unminified, readable TypeScript output already, and maps were
    // 2.7 MB of the 7.6 MB package.
    sourcemap: false,
    clean: true,
    shims: true,
    target: 'node18',
    splitting: true,
    onSuccess: async () => copyWasm(),
  },
  {
    // Self-contained browser build (dependencies bundled in) for a plain `<script type="module">` or a
    // module Worker served by any static server, with no bundler or import map: the codecs' glue is
    // bare-specifier ESM and jpeg-js is CommonJS, neither loadable by a browser as published. Its WASM
    // is fetched from dist/wasm/ exactly like dist/web.js.
    // The HEIC plug-in beside it (`heic.standalone.js`), for the browser preview.
    entry: { 'web.standalone': 'entries/web.ts', 'heic.standalone': 'entries/heic/web.ts', 'avif.standalone': 'entries/avif/web.ts' },
    format: ['esm'],
    // One file: the codecs imported on first use (import()) are bundled in, not split into chunks.
    splitting: false,
    platform: 'browser',
    target: 'es2022',
    // Everything is bundled in except the WASM files and the fallback table beside them (WASM_EXTERNAL).
    noExternal: [/^(?!\.\/wasm\/inline\.js$)/],
    external: WASM_EXTERNAL,
    sourcemap: false,
  },
  {
    entry: { cli: 'adapters/cli/main.ts' },
    format: ['esm'],
    target: 'node18',
    shims: true,
    banner: { js: '#!/usr/bin/env node' },
  },
]);
