/**
 * Where imgpipe's WebAssembly modules come from. The core never reads files or fetches on its own:
 * each runtime entry (`entries/node.ts`, `entries/web.ts`, `entries/workerd.ts`) registers a provider that
 * knows how that runtime obtains bytes, and `init()` lets a caller hand modules over explicitly.
 * Compilation is lazy and memoised: each module is compiled at most once per process/isolate and
 * shared by every instance created from it.
 */
import { ImgpipeError } from '../errors.js';
import { registerPlugin, type DecoderPlugin } from '../plugins.js';

/**
 * One row per WebAssembly module: the file name it has in `dist/wasm/` and where the build copies it
 * from. This table drives the loaders, the build's copy step and the package's exported paths.
 */
export const WASM_MODULES = {
  mozjpeg_enc: { file: 'mozjpeg_enc.wasm', from: '@jsquash/jpeg/codec/enc/mozjpeg_enc.wasm' },
  // libjpeg-turbo's decompressor with arithmetic decoding, the fallback for the JPEGs imgpipe's own
  // decoder leaves out (built by `npm run build:libjpeg`, Debian's source and Emscripten).
  libjpeg: { file: 'imgpipe_libjpeg.wasm', from: './wasm/libjpeg/build/imgpipe_libjpeg.wasm' },
  // Little CMS, for the embedded ICC profiles src/color/icc.ts can't apply itself (LUT-based RGB,
  // CMYK); compiled only when such a file arrives (built by `npm run build:lcms2`, Debian's source and Emscripten).
  // `onDemand`: init() leaves it out (a Function Compute function may be deployed without it).
  lcms2: { file: 'imgpipe_lcms2.wasm', from: './wasm/lcms2/build/imgpipe_lcms2.wasm', onDemand: true },
  // libspng + zlib with libspng's SSE unfilters on WASM SIMD (built by `npm run build:libspng`, Debian's Emscripten).
  png: { file: 'imgpipe_png.wasm', from: './wasm/libspng/build/imgpipe_png.wasm' },
  // libwebp with its SSE2 paths on WASM SIMD (built by `npm run build:libwebp`, Debian's Emscripten).
  // Every runtime imgpipe targets (Node 18+, current browsers, workerd) has WASM SIMD. `node`: the
  // build Node loads instead, whose lossy decode runs on two threads (src/codecs/webp-threads.ts); in
  // a folder of its own, which bundlers copying `wasm/*` for the browser entry leave out.
  webp: {
    file: 'imgpipe_webp.wasm', from: './wasm/libwebp/build/imgpipe_webp.wasm',
    node: { file: 'node/imgpipe_webp_threads.wasm', from: './wasm/libwebp/build/imgpipe_webp_threads.wasm' },
  },
  // imgpipe's own Lanczos3 resize kernel (AssemblyScript + SIMD, built by `npm run build:wasm`).
  kernels: { file: 'imgpipe_kernels.wasm', from: './wasm/kernels/build/imgpipe_kernels.wasm' },
  // imgpipe's own baseline JPEG decoder with DCT-domain shrink-on-load (AssemblyScript + SIMD).
  jpegdec: { file: 'imgpipe_jpegdec.wasm', from: './wasm/jpegdec/build/imgpipe_jpegdec.wasm' },
  // imgpipe's own baseline JPEG encoder (AssemblyScript + SIMD, built by `npm run build:wasm`).
  jpegenc: { file: 'imgpipe_jpegenc.wasm', from: './wasm/jpegenc/build/imgpipe_jpegenc.wasm' },
} as const satisfies Record<string, { file: string; from: string; onDemand?: true; node?: { file: string; from: string } }>;

export type WasmName = keyof typeof WASM_MODULES;
export const WASM_NAMES = Object.keys(WASM_MODULES) as WasmName[];
/** The modules init() and the worker pool compile up front: all but the on-demand ones. */
export const EAGER_WASM_NAMES = WASM_NAMES.filter((n) => !('onDemand' in WASM_MODULES[n]));

/** The file Node loads for a module: its `node` build where it has one. */
export function nodeWasmRow(name: WasmName): { file: string; from: string } {
  const row = WASM_MODULES[name] as { file: string; from: string; node?: { file: string; from: string } };
  return row.node ?? row;
}

/** What a caller may hand to `init()` for a module: compiled, raw bytes, a URL, or a fetch Response. */
export type WasmSource = WebAssembly.Module | ArrayBuffer | ArrayBufferView | URL | string | Response;

/** Turns a module name into a compiled module; one per runtime (see `entries/`). */
export type WasmProvider = (name: WasmName, file: string) => Promise<WasmSource>;

let provider: WasmProvider | undefined;
const sources = new Map<WasmName, WasmSource>();
let baseUrl: URL | string | undefined;
const compiled = new Map<WasmName, Promise<WebAssembly.Module>>();

/** Registered by a runtime entry point. Not a global: it lives in this module's scope only. */
export function setWasmProvider(p: WasmProvider): void {
  provider = p;
}

/** Compile any accepted source into a WebAssembly.Module. */
async function compileWasm(source: WasmSource): Promise<WebAssembly.Module> {
  if (source instanceof WebAssembly.Module) return source;
  // Bytes before `Response`: in Node, merely reading that global loads the fetch implementation (~10 ms).
  if (source instanceof ArrayBuffer || ArrayBuffer.isView(source)) return WebAssembly.compile(source as BufferSource);
  if (typeof source === 'string' || source instanceof URL) {
    const res = await fetch(source);
    if (!res.ok) throw new ImgpipeError('NOT_FOUND', `Expected WebAssembly at ${String(source)} but the fetch answered HTTP ${res.status}`);
    return compileWasm(res);
  }
  return WebAssembly.compile(await source.arrayBuffer());
}

/** A plug-in's module: compiled, its bytes, a URL, or a function giving one (called on first use). */
export type PluginWasmSource = WasmSource | (() => Promise<WasmSource> | WasmSource);

/**
 * A plug-in's module, compiled on first call and then shared. A failed load is not kept: the next
 * call (the next HEIC or AVIF) tries again.
 */
export function lazyWasm(source: PluginWasmSource): () => Promise<WebAssembly.Module> {
  let compiled: Promise<WebAssembly.Module> | undefined;
  return () => {
    if (!compiled) {
      compiled = (async () => compileWasm(typeof source === 'function' ? await source() : source))();
      compiled.catch(() => (compiled = undefined));
    }
    return compiled;
  };
}

/** The compiled module for `name`, compiling it on first use. */
export function getWasmModule(name: WasmName): Promise<WebAssembly.Module> {
  let p = compiled.get(name);
  if (!p) {
    p = (async () => {
      const file = WASM_MODULES[name].file;
      const explicit = sources.get(name) ?? (baseUrl !== undefined ? new URL(file, baseUrl) : undefined);
      if (explicit !== undefined) return compileWasm(explicit);
      if (!provider) {
        throw new ImgpipeError(
          'INTERNAL',
          `No WebAssembly loader for ${file}: import imgpipe through its package entry (which registers one for this runtime) or call init() with the module, its bytes or a URL`,
        );
      }
      return compileWasm(await provider(name, file));
    })();
    // A failed load must not be memoised: the next call may succeed (e.g. after init()).
    p.catch(() => compiled.delete(name));
    compiled.set(name, p);
  }
  return p;
}

/**
 * Start compiling the given modules, without waiting: reading and compiling them then overlap with
 * the work before their first use, instead of each codec waiting for its own module in turn (about
 * 20 ms of a cold Node process's first recipe). A failure is reported by the call that needs the module.
 */
export function prefetchWasm(names: readonly WasmName[]): void {
  for (const name of names) getWasmModule(name).catch(() => undefined);
}

export interface InitOptions {
  /** A URL (or path understood by fetch) of the folder holding imgpipe's `.wasm` files. */
  baseUrl?: URL | string;
  /** Per-module sources: a compiled module, its bytes, or a URL. */
  modules?: Partial<Record<WasmName, WasmSource>>;
  /** Opt-in decoders to enable, e.g. `heic` from 'imgpipe/heic' (importing that subpath enables it too). */
  plugins?: readonly DecoderPlugin[];
}

/**
 * Optional, explicit initialisation. With no argument it compiles every module now but the
 * on-demand ones (Little CMS: only for rare ICC profiles, compiled by the first file needing it) (use it in a
 * Function Compute `initialize` hook so the first invocation doesn't pay for compilation). With
 * options it records where modules come from, for runtimes where automatic loading can't work.
 * Idempotent: calling it again never recompiles a module that is already compiled.
 */
export async function init(options: InitOptions = {}): Promise<void> {
  if (options.baseUrl !== undefined) baseUrl = options.baseUrl;
  for (const plugin of options.plugins ?? []) registerPlugin(plugin);
  for (const [name, src] of Object.entries(options.modules ?? {}) as [WasmName, WasmSource][]) {
    if (!compiled.has(name)) sources.set(name, src);
  }
  await Promise.all(WASM_NAMES.filter((n) => EAGER_WASM_NAMES.includes(n) || sources.has(n)).map((n) => getWasmModule(n)));
}
