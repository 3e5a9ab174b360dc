/**
 * Opt-in decoders that live outside the core bundle. HEIC decoding is one: libheif and libde265 are
 * LGPL and ~0.9 MB of WebAssembly, so they ship as their own module and subpath (`imgpipe/heic`),
 * loaded only by a caller who enables them (`import 'imgpipe/heic'`, or `init({ plugins })`).
 *
 * The registry is kept on `globalThis` under a registered symbol, not in this module's scope: a page
 * or bundle may hold two copies of imgpipe's core (the standalone build and a bundled one, or the
 * ESM and CommonJS builds), and a plug-in registered through either must serve both.
 */
import { ImgpipeError, describeValue } from './errors.js';
import { FORMATS, type FormatId } from './formats.js';
import type { ImageHeader } from './header.js';
import type { RGBAImage } from './image.js';

/** What an encoding plug-in is asked for (validated by `encode` before it is called). */
export interface PluginEncodeOptions {
  /** 1..100, on the scale the format's users know (for AVIF: sharp's). */
  readonly quality: number;
  readonly lossless: boolean;
}

export interface DecoderPlugin {
  /** Its name, as its subpath says it (`heic`). */
  readonly name: string;
  /** The formats it decodes (rows of FORMATS with `plugin` set). */
  readonly formats: readonly FormatId[];
  /** Non-premultiplied 8-bit RGBA, upright, in the file's own colour space (imgpipe converts it to sRGB). */
  decode(bytes: Uint8Array, header: ImageHeader): Promise<RGBAImage>;
  /** For a writable format (AVIF): sRGB RGBA in, the file's bytes out. */
  encode?(image: RGBAImage, options: PluginEncodeOptions): Promise<Uint8Array>;
  /**
   * A module (a `file:` URL) that registers this same plug-in when a Node worker thread imports it.
   * imgpipe's Node entries set it to their own URL, so a `createWorkerPool()` worker loads the
   * plug-ins its calling thread has: registrations are per thread, and without it a pool worker
   * would refuse a HEIC source the calling thread can decode. A plug-in without it (one made with
   * your own module: `createHeicPlugin({ wasm })`) runs where it was registered: the pool runs the
   * transforms and encodes that need it in the calling thread.
   */
  readonly threadEntry?: string;
}

const KEY = Symbol.for('imgpipe.plugins');
const registry = ((globalThis as Record<symbol, unknown>)[KEY] ??= new Map<FormatId, DecoderPlugin>()) as Map<FormatId, DecoderPlugin>;

/** Make `plugin` the decoder of its formats in this runtime (idempotent). */
export function registerPlugin(plugin: DecoderPlugin): void {
  if (typeof plugin !== 'object' || plugin === null || typeof plugin.decode !== 'function' || !Array.isArray(plugin.formats)) {
    throw new ImgpipeError('INVALID_ARGUMENT', `Expected a plug-in such as the one 'imgpipe/heic' exports but received ${plugin === null ? 'null' : typeof plugin}`);
  }
  if (plugin.threadEntry !== undefined && (typeof plugin.threadEntry !== 'string' || !plugin.threadEntry.startsWith('file:'))) {
    throw new ImgpipeError('INVALID_ARGUMENT', `Expected the ${plugin.name} plug-in's threadEntry to be a file: URL of a module a worker thread can import but received ${describeValue(plugin.threadEntry)}`);
  }
  for (const f of plugin.formats) registry.set(f, plugin);
}

/**
 * The `threadEntry` of a Node plug-in entry whose code is at `url`: that URL when it is the entry's
 * own file (the package's `dist/<name>.node.js` or `.cjs`, the FC layer's `imgpipe-<name>/index.js`,
 * the source `entries/<name>/node.ts`), else none. A bundler that put the entry inside an app's bundle
 * makes `url` the app's file, and a worker importing that would run the whole app again; without a
 * threadEntry the pool runs that plug-in's tasks in the calling thread instead.
 */
export function threadEntry(url: string, name: string): string | undefined {
  const own = [`/${name}.node.js`, `/${name}.node.cjs`, `/imgpipe-${name}/index.js`, `/entries/${name}/node.ts`];
  return own.some((end) => url.endsWith(end)) ? url : undefined;
}

/** The `threadEntry` modules of the plug-ins registered in this thread: what a pool worker imports. */
export function pluginThreadEntries(): string[] {
  return [...new Set([...registry.values()].flatMap((p) => (p.threadEntry ? [p.threadEntry] : [])))];
}

/** Whether `format` is served by a plug-in registered here that other threads can't load (no `threadEntry`). */
export function pluginStaysHere(format: string): boolean {
  const plugin = registry.get(format as FormatId);
  return plugin !== undefined && !plugin.threadEntry;
}

/** Whether a plug-in for `format` is registered in this runtime (HTTP negotiation offers AVIF only then). */
export function hasPlugin(format: FormatId): boolean {
  return registry.has(format);
}

/**
 * The plug-in registered for `format`, or a refusal that says how to enable one. `use` says what it
 * was wanted for: decoding a file of that format, or writing one.
 */
export function requirePlugin(format: FormatId, use: 'decode' | 'encode' = 'decode'): DecoderPlugin {
  const plugin = registry.get(format);
  if (plugin && (use === 'decode' || plugin.encode)) return plugin;
  const { name, article = 'a', plugin: subpath } = FORMATS[format];
  const wanted = use === 'decode' ? `a format imgpipe decodes but received ${article} ${name} file, which needs` : `to write ${name}, which needs`;
  throw new ImgpipeError(
    'UNSUPPORTED_FORMAT',
    `Expected ${wanted} the opt-in ${name} plug-in: import '${subpath}' once (or pass it to init({ plugins }))`,
    { details: { received: name, plugin: subpath } },
  );
}
