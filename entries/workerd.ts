/**
 * workerd / Cloudflare Workers entry: the whole public API, with the WASM modules imported as ES
 * modules. Workers refuse to compile WebAssembly from bytes at run time and can't fetch `file:` URLs,
 * so the `web` entry's fetch-beside-the-module strategy fails there; instead the runtime (wrangler,
 * miniflare, workerd's `wasm` module type) hands over each `.wasm` import as a compiled
 * `WebAssembly.Module`. The imports name `./wasm/<file>` relative to the built entry (`dist/wasm/`),
 * the same folder every other entry reads; bundlers keep them as-is (see tsup.config.ts and
 * examples/worker/build.mjs).
 */
import { setWasmProvider, type WasmName } from '../src/wasm/modules.js';
import mozjpegEnc from './wasm/mozjpeg_enc.wasm';
import libjpeg from './wasm/imgpipe_libjpeg.wasm';
import lcms2 from './wasm/imgpipe_lcms2.wasm';
import png from './wasm/imgpipe_png.wasm';
import webp from './wasm/imgpipe_webp.wasm';
import kernels from './wasm/imgpipe_kernels.wasm';
import jpegdec from './wasm/imgpipe_jpegdec.wasm';
import jpegenc from './wasm/imgpipe_jpegenc.wasm';

export * from '../src/index.js';

// `satisfies` makes a module added to WASM_MODULES without an import here a type error.
const MODULES = Object.freeze({
  mozjpeg_enc: mozjpegEnc,
  libjpeg,
  lcms2,
  png,
  webp,
  kernels,
  jpegdec,
  jpegenc,
} satisfies Record<WasmName, WebAssembly.Module>);

setWasmProvider(async (name) => MODULES[name]);
